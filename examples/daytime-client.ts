// The course's daytime client: connect to HOST (a numeric IPv4 address, as inet_pton wants) on PORT,
// copy what the server sends to stdout until end of file.
//
//   node dist/examples/daytime-client.js 127.0.0.1 [PORT]
import { AF_INET, SOCK_STREAM, close, connect, htons, inet_pton, read, sockaddr_in, socket } from 'berkeley-sockets';

const MAXLINE = 1024;
const [host, portArg] = process.argv.slice(2);
if (host === undefined) {
  console.error('usage: daytime-client HOST [PORT]');
  process.exit(2);
}

const sock_fd = socket(AF_INET, SOCK_STREAM, 0);

const serv_add = new sockaddr_in();
serv_add.sin_family = AF_INET;
serv_add.sin_port = htons(portArg === undefined ? 1313 : Number(portArg));
if (inet_pton(AF_INET, host, serv_add.sin_addr) !== 1) {
  console.error(`${host}: not an IPv4 address`);
  process.exit(1);
}

connect(sock_fd, serv_add);

const buffer = Buffer.alloc(MAXLINE);
let nread: number;
while ((nread = read(sock_fd, buffer, MAXLINE)) > 0) {
  process.stdout.write(buffer.subarray(0, nread));
}
close(sock_fd);
