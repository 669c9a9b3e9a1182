// UDP ping-pong with this library's async API: the same calls as sync.mjs, awaited.
import { AF_INET, SOCK_DGRAM, bind, close, connect, getsockname, socket } from 'berkeley-sockets';
import { read, recvfrom, sendto, write } from 'berkeley-sockets/promises';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result, rttStats } from '../common.mjs';

const o = parseArgs();

async function server() {
  const fd = socket(AF_INET, SOCK_DGRAM, 0);
  bind(fd, { family: AF_INET, address: '127.0.0.1', port: 0 });
  announcePort(getsockname(fd).port);
  const buf = Buffer.alloc(65536);
  let echoed = 0;
  for (;;) {
    const { n, address } = await recvfrom(fd, buf);
    if (n === 1) break; // the client's end marker
    await sendto(fd, buf.subarray(0, n), address);
    echoed++;
  }
  close(fd);
  result({ echoed });
}

async function client() {
  const fd = socket(AF_INET, SOCK_DGRAM, 0);
  connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port }); // UDP connect never blocks
  const out = Buffer.alloc(MSG);
  const inbuf = Buffer.alloc(MSG + 1);
  const rtts = new Float64Array(o.n);
  let ok = true;
  let start = 0;
  let t = 0;
  for (let i = 0, seq = 0; i < o.warmup + o.n; i++, seq++) {
    if (i === o.warmup) start = t = now();
    fillMessage(out, seq);
    await write(fd, out);
    const n = await read(fd, inbuf);
    if (n !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
    if (i >= o.warmup) {
      const t2 = now();
      rtts[i - o.warmup] = t2 - t;
      t = t2;
    }
  }
  // End marker, thrice in case one is dropped; once the server has gone, the kernel answers ECONNREFUSED.
  for (let k = 0; k < 3; k++) try { await write(fd, 'x'); } catch { break; }
  close(fd);
  result({ ...rttStats(rtts, o.n, t - start), n: o.n, verified: ok });
}

(o.role === 'server' ? server() : client()).catch(fail);
