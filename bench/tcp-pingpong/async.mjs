// TCP ping-pong with this library's async API (berkeley-sockets/promises): the same calls as sync.mjs,
// awaited, so the event loop stays free between them.
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, TCP_NODELAY, bind, close, getsockname, listen, setsockopt, socket,
} from 'berkeley-sockets';
import { accept, connect, readExactly, writeAll } from 'berkeley-sockets/promises';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result, rttStats } from '../common.mjs';

const o = parseArgs();

async function server() {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 16);
  announcePort(getsockname(srv).port);
  const { fd } = await accept(srv);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  const buf = Buffer.alloc(MSG);
  let echoed = 0;
  while ((await readExactly(fd, buf)) === MSG) {
    await writeAll(fd, buf);
    echoed++;
  }
  close(fd);
  close(srv);
  result({ echoed });
}

async function client() {
  const fd = socket(AF_INET, SOCK_STREAM, 0);
  await connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port });
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  const out = Buffer.alloc(MSG);
  const inbuf = Buffer.alloc(MSG);
  const rtts = new Float64Array(o.n);
  let ok = true;
  let seq = 0;
  for (let i = 0; i < o.warmup; i++, seq++) {
    fillMessage(out, seq);
    await writeAll(fd, out);
    if ((await readExactly(fd, inbuf)) !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
  }
  const start = now();
  let t = start;
  for (let i = 0; i < o.n; i++, seq++) {
    fillMessage(out, seq);
    await writeAll(fd, out);
    if ((await readExactly(fd, inbuf)) !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
    const t2 = now();
    rtts[i] = t2 - t;
    t = t2;
  }
  close(fd);
  result({ ...rttStats(rtts, o.n, t - start), n: o.n, verified: ok });
}

(o.role === 'server' ? server() : client()).catch(fail);
