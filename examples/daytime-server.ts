// The course's iterative daytime server (RFC 867), call for call: socket, bind, listen, then accept
// one client at a time, write the date as ctime() prints it plus CRLF, close, and wait for the next.
//
//   node dist/examples/daytime-server.js [PORT] [--count N]
//
// The course binds port 13, which needs root; the default here is 1313. PORT 0 lets the kernel choose
// (the port is printed). --count N serves N clients and exits (tests use it). Watch it work with
//   strace -f -e trace=network node dist/examples/daytime-server.js
import {
  AF_INET, INADDR_ANY, SOCK_STREAM, accept, bind, close, getsockname, htonl, htons, listen, sockaddr_in, socket,
  write,
} from 'berkeley-sockets';

const BACKLOG = 10;

/** ctime(3)'s 24 characters, without its newline: "Mon Nov 23 20:41:44 2026". */
function ctime(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

const args = process.argv.slice(2);
const countAt = args.indexOf('--count');
const count = countAt >= 0 ? Number(args.splice(countAt, 2)[1]) : Infinity;
const port = args[0] === undefined ? 1313 : Number(args[0]);

const list_fd = socket(AF_INET, SOCK_STREAM, 0);

const serv_add = new sockaddr_in(); // zeroed, like memset(&serv_add, 0, sizeof(serv_add))
serv_add.sin_family = AF_INET;
serv_add.sin_port = htons(port); // network byte order: try it without htons and look at getsockname
serv_add.sin_addr.s_addr = htonl(INADDR_ANY); // connect from anywhere

bind(list_fd, serv_add);
listen(list_fd, BACKLOG);
console.log(`daytime server listening on port ${getsockname(list_fd).port}`);

for (let served = 0; served < count; served++) {
  const { fd: conn_fd, address } = accept(list_fd); // blocks until a client connects
  write(conn_fd, `${ctime(new Date())}\r\n`);
  close(conn_fd);
  console.error(`served ${address.address}:${address.port}`);
}
close(list_fd);
