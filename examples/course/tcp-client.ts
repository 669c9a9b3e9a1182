// The course's TCP client excerpt, call for call (tcp-client.c beside it makes the same system calls in
// the same order; test/course-twins.test.ts compares their strace): connect to 127.0.0.1:3500, send
// "hello", receive one message and copy it to standard output. tcp-server.ts (or .c) is its peer.
//
//   node dist/examples/course/tcp-client.js [PORT]     (PORT: 3500)
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, connect, htons, inet_addr, recv, send, sockaddr_in, socket, write,
} from 'berkeley-sockets';

const DESIRED_ADDRESS = '127.0.0.1';
const DESIRED_PORT = 3500;
const BUFSIZE = 512;

const addr = new sockaddr_in();
addr.sin_family = AF_INET;
addr.sin_port = htons(process.argv[2] !== undefined ? Number(process.argv[2]) : DESIRED_PORT);
addr.sin_addr.s_addr = inet_addr(DESIRED_ADDRESS);

const sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
connect(sock, addr);

const buf = Buffer.alloc(BUFSIZE);
send(sock, 'hello', 5, 0); // write may be used too
const readden = recv(sock, buf, BUFSIZE, 0); // read may be used too
if (readden === 0) {
  console.error('Server orderly shut down the connection.');
} else {
  if (readden < BUFSIZE) console.error(`Received less bytes (${readden}) then requested (${BUFSIZE}).`);
  write(1, buf.subarray(0, readden)); // write(STDOUT_FILENO, buf, readden)
}
