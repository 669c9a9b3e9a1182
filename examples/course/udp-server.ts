// The course's UDP server excerpt, call for call (udp-server.c beside it makes the same system calls in
// the same order; test/course-twins.test.ts compares their strace): bind to 127.0.0.1:3500, receive one
// datagram and its sender, print both, answer "hello" to the sender.
//
//   node dist/examples/course/udp-server.js [PORT]     (PORT: 3500)
//   then, from another terminal: echo -n bonjour | nc -u -w1 127.0.0.1 3500
//
// The course passes sizeof(addr) where recvfrom wants &addrlen; recvfrom(sock, buf, BUFSIZE, 0, addr)
// passes the struct and its size as C's (struct sockaddr *)&addr, &addrlen does.
import {
  AF_INET, IPPROTO_UDP, SOCK_DGRAM, bind, htons, inet_addr, inet_ntoa, recvfrom, sendto, sockaddr_in,
  socket, write,
} from 'berkeley-sockets';

const DESIRED_ADDRESS = '127.0.0.1';
const DESIRED_PORT = 3500;
const BUFSIZE = 512;

const addr = new sockaddr_in();
addr.sin_family = AF_INET;
addr.sin_port = htons(process.argv[2] !== undefined ? Number(process.argv[2]) : DESIRED_PORT);
addr.sin_addr.s_addr = inet_addr(DESIRED_ADDRESS);

const sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
bind(sock, addr);

const buf = Buffer.alloc(BUFSIZE);
const { n: readden } = recvfrom(sock, buf, BUFSIZE, 0, addr); // the sender lands in addr
if (readden > 0) {
  console.log(`Client with IP ${inet_ntoa(addr.sin_addr)} sent datagram`);
  write(1, buf.subarray(0, readden)); // write(STDOUT_FILENO, buf, readden)
}
sendto(sock, 'hello', 5, 0, addr);
