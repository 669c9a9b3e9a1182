// The course's TCP daytime client, call for call (daytime-client.c beside it makes the same system
// calls in the same order; test/course-twins.test.ts compares their strace): connect, read until end of
// file, print.
//
//   node dist/examples/course/daytime-client.js 127.0.0.1 [PORT]     (PORT: 13)
import { AF_INET, SOCK_STREAM, connect, htons, inet_pton, read, sockaddr_in, socket } from 'berkeley-sockets';

const MAXLINE = 1024;

if (process.argv.length < 3) {
  console.error('usage: daytime-client ADDRESS [PORT]');
  process.exit(2);
}
// socket creation: the third parameter should be IPPROTO_TCP but 0 is an accepted value
const sock_fd = socket(AF_INET, SOCK_STREAM, 0);
const buffer = Buffer.alloc(MAXLINE);

// address initialization
const serv_add = new sockaddr_in(); // zeroed
serv_add.sin_family = AF_INET;
serv_add.sin_port = htons(process.argv[3] !== undefined ? Number(process.argv[3]) : 13); // daytime port is 13
inet_pton(AF_INET, process.argv[2], serv_add.sin_addr); // using inet_pton to build the address

connect(sock_fd, serv_add); // connect to the server

// read daytime from server, until end of file (read returns 0). The C program reads MAXLINE - 1 to keep
// room for its '\0'; a Buffer needs none, but the same count keeps the calls the same.
let nread: number;
while ((nread = read(sock_fd, buffer, MAXLINE - 1)) > 0) {
  process.stdout.write(buffer.subarray(0, nread)); // fputs(buffer, stdout)
}
