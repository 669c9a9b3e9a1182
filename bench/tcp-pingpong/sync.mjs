// TCP ping-pong with this library's synchronous API: the C program line for line.
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, TCP_NODELAY, accept, bind, close, connect, getsockname, listen, readExactly,
  setsockopt, socket, writeAll,
} from 'berkeley-sockets';
import { MSG, announcePort, checkMessage, fillMessage, now, parseArgs, result, rttStats } from '../common.mjs';

const o = parseArgs();

if (o.role === 'server') {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 16);
  announcePort(getsockname(srv).port);
  const { fd } = accept(srv);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  const buf = Buffer.alloc(MSG);
  let echoed = 0;
  while (readExactly(fd, buf) === MSG) {
    writeAll(fd, buf);
    echoed++;
  }
  close(fd);
  close(srv);
  result({ echoed });
} else {
  const fd = socket(AF_INET, SOCK_STREAM, 0);
  connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port });
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  const out = Buffer.alloc(MSG);
  const inbuf = Buffer.alloc(MSG);
  const rtts = new Float64Array(o.n);
  let ok = true;
  let seq = 0;
  for (let i = 0; i < o.warmup; i++, seq++) {
    fillMessage(out, seq);
    writeAll(fd, out);
    if (readExactly(fd, inbuf) !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
  }
  const start = now();
  let t = start;
  for (let i = 0; i < o.n; i++, seq++) {
    fillMessage(out, seq);
    writeAll(fd, out);
    if (readExactly(fd, inbuf) !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
    const t2 = now();
    rtts[i] = t2 - t;
    t = t2;
  }
  close(fd);
  result({ ...rttStats(rtts, o.n, t - start), n: o.n, verified: ok });
}
