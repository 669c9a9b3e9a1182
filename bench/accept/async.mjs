// Connection cycle with this library's async API: the same calls as sync.mjs, awaited.
import { AF_INET, SOCK_STREAM, bind, close, getsockname, listen, socket } from 'berkeley-sockets';
import { connect, connections, read } from 'berkeley-sockets/promises';
import { announcePort, fail, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const total = o.warmup + o.n;

async function server() {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 511);
  announcePort(getsockname(srv).port);
  let accepted = 0;
  for await (const { fd } of connections(srv)) {
    close(fd);
    if (++accepted === total) break;
  }
  close(srv);
  result({ accepted });
}

async function client() {
  const addr = { family: AF_INET, address: '127.0.0.1', port: o.port };
  const buf = Buffer.alloc(1);
  let ok = true;
  let start = 0;
  for (let i = 0; i < total; i++) {
    if (i === o.warmup) start = now();
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    await connect(fd, addr);
    if ((await read(fd, buf)) !== 0) ok = false; // 0: the server accepted and closed
    close(fd);
  }
  result({ rate: o.n / ((now() - start) / 1000), n: o.n, verified: ok });
}

(o.role === 'server' ? server() : client()).catch(fail);
