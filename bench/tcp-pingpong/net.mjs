// TCP ping-pong with Node's net, as fast as idiomatic code goes: setNoDelay, one reused message
// buffer, 'data' events, no streams piping. Server and client as in c.c.
import * as net from 'node:net';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result, rttStats } from '../common.mjs';

const o = parseArgs();

if (o.role === 'server') {
  let echoed = 0;
  const srv = net.createServer({ noDelay: true }, (sock) => {
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      sock.write(d); // echo what arrived, as any net echo server does
      echoed += d.length;
    });
    sock.on('end', () => sock.end());
    sock.on('close', () => {
      srv.close();
      result({ echoed: echoed / MSG });
    });
    sock.on('error', fail);
  });
  srv.listen(0, '127.0.0.1', () => announcePort(srv.address().port));
} else {
  const total = o.warmup + o.n;
  const rtts = new Float64Array(o.n);
  const out = Buffer.alloc(MSG);
  const inbuf = Buffer.alloc(MSG);
  let have = 0;
  let seq = 0;
  let ok = true;
  let start = 0;
  let t = 0;
  const sock = net.connect({ port: o.port, host: '127.0.0.1', noDelay: true }, () => {
    sock.setNoDelay(true);
    if (o.warmup === 0) start = t = now();
    send();
  });
  const send = () => {
    fillMessage(out, seq);
    sock.write(out); // safe to reuse: the previous write has been echoed, so it is long gone
  };
  sock.on('data', (d) => {
    // A message may arrive in pieces (or, in theory, with the next one): gather exactly MSG bytes.
    let off = 0;
    while (off < d.length) {
      const take = Math.min(MSG - have, d.length - off);
      d.copy(inbuf, have, off, off + take);
      have += take;
      off += take;
      if (have < MSG) return;
      have = 0;
      if (!checkMessage(inbuf, seq, o.quick)) ok = false;
      if (seq >= o.warmup) {
        const t2 = now();
        rtts[seq - o.warmup] = t2 - t;
        t = t2;
      }
      seq++;
      if (seq === o.warmup) start = t = now();
      if (seq === total) {
        sock.end();
        result({ ...rttStats(rtts, o.n, t - start), n: o.n, verified: ok });
        return;
      }
      send();
    }
  });
  sock.on('error', fail);
}
