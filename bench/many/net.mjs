// Many connections with Node's net: --conns concurrent sockets, each doing 64-byte ping-pong driven by
// 'data' events; the server is the idiomatic net echo. Reports round trips/s and event-loop lag.
import * as net from 'node:net';
import { MSG, announcePort, checkMessage, fail, fillMessage, lagMonitor, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();

if (o.role === 'server') {
  let accepted = 0;
  let closed = 0;
  let echoed = 0;
  let stopLag;
  const srv = net.createServer({ noDelay: true }, (sock) => {
    accepted++;
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      sock.write(d);
      echoed += d.length;
    });
    sock.on('end', () => sock.end());
    sock.on('error', fail);
    sock.on('close', () => {
      if (++closed === o.conns) {
        srv.close();
        result({ accepted, echoed: echoed / MSG, ...stopLag() });
      }
    });
  });
  srv.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, async () => {
    stopLag = await lagMonitor();
    announcePort(srv.address().port);
  });
} else {
  let ok = true;
  /** One connection's ping-pong: `run(rounds)` resolves after that many round trips. */
  const open = () => new Promise((resolve, reject) => {
    const sock = net.connect({ port: o.port, host: '127.0.0.1', noDelay: true });
    const out = Buffer.alloc(MSG);
    const inbuf = Buffer.alloc(MSG);
    let have = 0;
    let seq = 0;
    let left = 0;
    let done;
    const send = () => {
      fillMessage(out, seq);
      sock.write(out); // reused: the previous message has been echoed
    };
    sock.on('data', (d) => {
      for (let off = 0; off < d.length;) {
        const take = Math.min(MSG - have, d.length - off);
        d.copy(inbuf, have, off, off + take);
        have += take;
        off += take;
        if (have < MSG) return;
        have = 0;
        if (!checkMessage(inbuf, seq, o.quick)) ok = false;
        seq++;
        if (--left === 0) done();
        else send();
      }
    });
    sock.on('error', reject);
    sock.on('connect', () => resolve({
      run: (rounds) => new Promise((r) => {
        left = rounds;
        done = r;
        if (rounds > 0) send();
        else r();
      }),
      close: () => sock.end(),
    }));
  });
  (async () => {
    const conns = await Promise.all(Array.from({ length: o.conns }, open));
    await Promise.all(conns.map((c) => c.run(o.warmup)));
    const stopLag = await lagMonitor();
    const start = now();
    await Promise.all(conns.map((c) => c.run(o.n)));
    const ms = now() - start;
    const lag = stopLag();
    for (const c of conns) c.close();
    result({ rate: (o.conns * o.n) / (ms / 1000), conns: o.conns, n: o.conns * o.n, verified: ok, ...lag });
  })().catch(fail);
}
