// TCP bulk transfer with this library's async API: the same calls as sync.mjs, awaited.
import { AF_INET, SOCK_STREAM, bind, close, getsockname, listen, socket } from 'berkeley-sockets';
import { accept, connect, read, write } from 'berkeley-sockets/promises';
import { CHUNK, PERIOD, announcePort, bulkPattern, checkBulk, fail, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();

async function server() {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 16);
  announcePort(getsockname(srv).port);
  const { fd } = await accept(srv);
  const pat = bulkPattern();
  let sent = 0;
  while (sent < o.bytes) sent += await write(fd, pat.subarray(sent % PERIOD), Math.min(CHUNK, o.bytes - sent));
  close(fd);
  close(srv);
  result({ sent });
}

async function client() {
  const fd = socket(AF_INET, SOCK_STREAM, 0);
  await connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port });
  const buf = Buffer.allocUnsafe(CHUNK);
  let got = 0;
  let ok = true;
  let start = 0;
  for (;;) {
    const n = await read(fd, buf);
    if (n === 0) break;
    if (got === 0) start = now();
    if (o.quick && !checkBulk(buf, n, got)) ok = false;
    got += n;
  }
  const ms = now() - start;
  close(fd);
  if (got !== o.bytes) ok = false;
  result({ rate: got / (ms / 1000) / 1e9, bytes: got, ms, verified: ok });
}

(o.role === 'server' ? server() : client()).catch(fail);
