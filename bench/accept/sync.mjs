// Connection cycle with this library's synchronous API: the C program line for line.
import { AF_INET, SOCK_STREAM, accept, bind, close, connect, getsockname, listen, read, socket } from 'berkeley-sockets';
import { announcePort, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const total = o.warmup + o.n;

if (o.role === 'server') {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 511);
  announcePort(getsockname(srv).port);
  let accepted = 0;
  for (; accepted < total; accepted++) close(accept(srv).fd);
  close(srv);
  result({ accepted });
} else {
  const addr = { family: AF_INET, address: '127.0.0.1', port: o.port };
  const buf = Buffer.alloc(1);
  let ok = true;
  let start = 0;
  for (let i = 0; i < total; i++) {
    if (i === o.warmup) start = now();
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, addr);
    if (read(fd, buf) !== 0) ok = false; // 0: the server accepted and closed
    close(fd);
  }
  result({ rate: o.n / ((now() - start) / 1000), n: o.n, verified: ok });
}
