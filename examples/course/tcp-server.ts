// The course's TCP server excerpt, call for call (tcp-server.c beside it makes the same system calls in
// the same order; test/course-twins.test.ts compares their strace): bind to 127.0.0.1:3500, accept one
// client, print its address, send "hello", receive one message and copy it to standard output.
// tcp-client.ts (or tcp-client.c) is its peer.
//
//   node dist/examples/course/tcp-server.js [PORT]     (PORT: 3500)
//
// The course sends and receives on the listening socket; that fails (ENOTCONN): the connection accept
// returned is the one to talk on (examples/README.md, "Where the course's C is wrong").
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, accept, bind, htons, inet_addr, inet_ntoa, listen, recv, send,
  sockaddr_in, socket, write,
} from 'berkeley-sockets';

const DESIRED_ADDRESS = '127.0.0.1';
const DESIRED_PORT = 3500;
const BUFSIZE = 512;

const addr = new sockaddr_in();
addr.sin_family = AF_INET;
addr.sin_port = htons(process.argv[2] !== undefined ? Number(process.argv[2]) : DESIRED_PORT);
addr.sin_addr.s_addr = inet_addr(DESIRED_ADDRESS);

// A failed call throws (perror and EXIT_FAILURE in C): uncaught, Node prints it and exits with 1.
const sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
bind(sock, addr);
listen(sock, 1); // length of the queue of connections

// accept(sock, addr) fills addr, as C's (struct sockaddr *)&addr with socklen = sizeof addr.
const { fd: client_sock } = accept(sock, addr);
console.log(`Client with IP ${inet_ntoa(addr.sin_addr)} connected`);

const buf = Buffer.alloc(BUFSIZE);
send(client_sock, 'hello', 5, 0);
const readden = recv(client_sock, buf, BUFSIZE, 0);
if (readden === 0) {
  console.error('Client orderly shut down the connection.');
} else {
  if (readden < BUFSIZE) console.error(`Received less bytes (${readden}) then requested (${BUFSIZE}).`);
  write(1, buf.subarray(0, readden)); // write(STDOUT_FILENO, buf, readden)
}
