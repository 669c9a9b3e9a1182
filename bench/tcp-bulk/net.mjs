// TCP bulk transfer with Node's net, as fast as idiomatic code goes: the writer respects backpressure
// ('drain'), the reader uses `onread` so every read lands in one reused 64 KiB buffer, as in c.c.
import { once } from 'node:events';
import * as net from 'node:net';
import { CHUNK, PERIOD, announcePort, bulkPattern, checkBulk, fail, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();

if (o.role === 'server') {
  const pat = bulkPattern();
  const srv = net.createServer(async (sock) => {
    sock.on('error', fail);
    let sent = 0;
    while (sent < o.bytes) {
      const len = Math.min(CHUNK, o.bytes - sent);
      const off = sent % PERIOD;
      sent += len;
      if (!sock.write(pat.subarray(off, off + len))) await once(sock, 'drain');
    }
    sock.end(() => {
      srv.close();
      result({ sent });
    });
  });
  srv.listen(0, '127.0.0.1', () => announcePort(srv.address().port));
} else {
  let got = 0;
  let ok = true;
  let start = 0;
  const sock = net.connect({
    port: o.port,
    host: '127.0.0.1',
    onread: {
      buffer: Buffer.allocUnsafe(CHUNK),
      callback(n, buf) {
        if (got === 0) start = now();
        if (o.quick && !checkBulk(buf, n, got)) ok = false;
        got += n;
      },
    },
  });
  sock.on('end', () => {
    const ms = now() - start;
    if (got !== o.bytes) ok = false;
    result({ rate: got / (ms / 1000) / 1e9, bytes: got, ms, verified: ok });
  });
  sock.on('error', fail);
}
