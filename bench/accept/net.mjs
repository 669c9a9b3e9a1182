// Connection cycle with Node's net: the server destroys each connection as it arrives; the client
// connects, waits for the end of file ('end', then 'close') and starts the next one.
import * as net from 'node:net';
import { announcePort, fail, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const total = o.warmup + o.n;

if (o.role === 'server') {
  let accepted = 0;
  const srv = net.createServer((sock) => {
    sock.destroy();
    if (++accepted === total) {
      srv.close();
      result({ accepted });
    }
  });
  srv.listen({ port: 0, host: '127.0.0.1', backlog: 511 }, () => announcePort(srv.address().port));
} else {
  let i = 0;
  let ok = true;
  let start = 0;
  const cycle = () => {
    if (i === o.warmup) start = now();
    if (i++ === total) {
      result({ rate: o.n / ((now() - start) / 1000), n: o.n, verified: ok });
      return;
    }
    const sock = net.connect(o.port, '127.0.0.1');
    sock.on('data', () => (ok = false)); // the server sends nothing
    sock.on('error', fail);
    sock.on('close', cycle);
    sock.resume();
  };
  cycle();
}
