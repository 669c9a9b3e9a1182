// The course's iterative TCP daytime server (RFC 867), call for call (daytime-server.c beside it makes
// the same system calls in the same order; test/course-twins.test.ts compares their strace): accept one
// client at a time, write the date as ctime() prints it plus CRLF, close, accept the next.
//
//   node dist/examples/course/daytime-server.js [PORT]     (PORT: 13, as in the course: root only)
//
// ../daytime-server.ts is the same server made handy for the labs (port 1313, prints its port, --count).
import {
  AF_INET, INADDR_ANY, SOCK_STREAM, accept, bind, close, htonl, htons, listen, sockaddr_in, socket, write,
} from 'berkeley-sockets';

const BACKLOG = 10;

/** ctime(3)'s 24 characters, without its newline: "Thu Dec  3 20:41:44 2026". */
function ctime(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

// socket creation: the third parameter should be IPPROTO_TCP but 0 is an accepted value
const list_fd = socket(AF_INET, SOCK_STREAM, 0);
// address initialization
const serv_add = new sockaddr_in(); // zeroed, as memset(&serv_add, 0, sizeof(serv_add))
serv_add.sin_family = AF_INET; // address type is IPv4
serv_add.sin_port = htons(process.argv[2] !== undefined ? Number(process.argv[2]) : 13); // daytime port is 13
serv_add.sin_addr.s_addr = htonl(INADDR_ANY); // connect from anywhere
bind(list_fd, serv_add);
listen(list_fd, BACKLOG);

for (;;) {
  const { fd: conn_fd } = accept(list_fd, null); // accept(list_fd, NULL, NULL)
  write(conn_fd, `${ctime(new Date())}\r\n`); // write daytime to client
  close(conn_fd); // the course forgets it: without it the client never sees end of file
}
