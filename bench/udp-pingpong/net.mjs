// UDP ping-pong with Node's dgram, as fast as idiomatic code goes: the server answers each message to
// rinfo; the client connect()s its socket (no per-send address lookup) and reuses one buffer.
import * as dgram from 'node:dgram';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result, rttStats } from '../common.mjs';

const o = parseArgs();

if (o.role === 'server') {
  const sock = dgram.createSocket('udp4');
  let echoed = 0;
  sock.on('message', (msg, rinfo) => {
    if (msg.length === 1) { // the client's end marker
      sock.close();
      result({ echoed });
      return;
    }
    sock.send(msg, rinfo.port, rinfo.address);
    echoed++;
  });
  sock.on('error', fail);
  sock.bind(0, '127.0.0.1', () => announcePort(sock.address().port));
} else {
  const sock = dgram.createSocket('udp4');
  const total = o.warmup + o.n;
  const rtts = new Float64Array(o.n);
  const out = Buffer.alloc(MSG);
  let seq = 0;
  let ok = true;
  let start = 0;
  let t = 0;
  const send = () => {
    fillMessage(out, seq);
    sock.send(out); // safe to reuse: its echo came back, so the previous send is done
  };
  sock.on('message', (msg) => {
    if (msg.length !== MSG || !checkMessage(msg, seq, o.quick)) ok = false;
    if (seq >= o.warmup) {
      const t2 = now();
      rtts[seq - o.warmup] = t2 - t;
      t = t2;
    }
    seq++;
    if (seq === o.warmup) start = t = now();
    if (seq === total) {
      sock.removeListener('error', fail).on('error', () => {}); // ECONNREFUSED once the server has gone
      const end = Buffer.from('x');
      let left = 3; // end marker, thrice in case one is dropped
      const bye = () => (--left === 0 ? sock.close() : sock.send(end, bye));
      sock.send(end, bye);
      result({ ...rttStats(rtts, o.n, t - start), n: o.n, verified: ok });
      return;
    }
    send();
  });
  sock.on('error', fail);
  sock.connect(o.port, '127.0.0.1', () => {
    if (o.warmup === 0) start = t = now();
    send();
  });
}
