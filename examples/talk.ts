// The course's "talk": two people, one TCP connection, both directions at once. select() waits on the
// keyboard (fd 0) and the socket together, and whichever is ready is copied to the other side —
// exactly the C loop, with FD_ZERO / FD_SET / FD_ISSET.
//
//   node dist/examples/talk.js listen PORT          (waits for the other side)
//   node dist/examples/talk.js HOST PORT            (connects to it)
import {
  AF_INET, FD_ISSET, FD_SET, FD_ZERO, FdSet, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, accept, bind, close, connect,
  type SocketHandle, getsockname, listen, read, select, setsockopt, socket, writeAll,
} from 'berkeley-sockets';

const STDIN = 0;
const STDOUT = 1;
const [a, b] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  console.error('usage: talk listen PORT | talk HOST PORT');
  process.exit(2);
}

let sock: SocketHandle;
if (a === 'listen') {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, 1);
  bind(srv, { family: AF_INET, port: Number(b) });
  listen(srv, 1);
  console.error(`waiting on port ${getsockname(srv).port}...`);
  sock = accept(srv).fd;
  close(srv);
} else {
  sock = socket(AF_INET, SOCK_STREAM, 0);
  connect(sock, { family: AF_INET, address: a, port: Number(b) });
}
console.error('connected: type, and read what the other side types (Ctrl-D to leave)');

const buf = Buffer.alloc(1024);
const rfds = new FdSet();
for (;;) {
  FD_ZERO(rfds);
  FD_SET(STDIN, rfds);
  FD_SET(sock, rfds);
  select(sock.fd + 1, rfds, null, null, null); // blocks until the keyboard or the socket has data

  if (FD_ISSET(STDIN, rfds)) {
    const n = read(STDIN, buf);
    if (n === 0) break; // Ctrl-D: we are done
    writeAll(sock, buf.subarray(0, n));
  }
  if (FD_ISSET(sock, rfds)) {
    const n = read(sock, buf);
    if (n === 0) {
      console.error('the other side left');
      break;
    }
    writeAll(STDOUT, buf.subarray(0, n));
  }
}
close(sock);
