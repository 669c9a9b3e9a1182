// Many connections with this library's async API: --conns concurrent sockets, each an async loop of
// writeAll/readExactly; the server is the README's echo server shape (connections() + one loop per
// connection, echoing each read). Reports round trips/s and event-loop lag.
import { AF_INET, IPPROTO_TCP, SOCK_STREAM, TCP_NODELAY, bind, close, getsockname, listen, setsockopt, socket } from 'berkeley-sockets';
import { connect, connections, read, readExactly, write, writeAll } from 'berkeley-sockets/promises';
import { MSG, announcePort, checkMessage, fail, fillMessage, lagMonitor, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();

async function server() {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 4096);
  const stopLag = await lagMonitor();
  announcePort(getsockname(srv).port);
  let accepted = 0;
  let closed = 0;
  let echoed = 0;
  // Echoes what each read brings (a message, or part of one), as c.c's server and net's 'data' do.
  const serve = async (fd) => {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    const buf = Buffer.alloc(4096);
    for (let n; (n = await read(fd, buf)) > 0; echoed += n) {
      // C writes buf + off; a subarray is an allocation, made only for the rest of a partial write.
      for (let off = 0; off < n; ) off += await write(fd, off === 0 ? buf : buf.subarray(off), n - off);
    }
    close(fd);
    if (++closed === o.conns) {
      close(srv); // ends the accept loop
      result({ accepted, echoed: echoed / MSG, ...stopLag() });
    }
  };
  for await (const { fd } of connections(srv)) {
    accepted++;
    serve(fd).catch(fail);
  }
}

async function client() {
  let ok = true;
  const open = async () => {
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    await connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port });
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    const out = Buffer.alloc(MSG);
    const inbuf = Buffer.alloc(MSG);
    let seq = 0;
    return {
      fd,
      async run(rounds) {
        for (let i = 0; i < rounds; i++, seq++) {
          fillMessage(out, seq);
          await writeAll(fd, out);
          if ((await readExactly(fd, inbuf)) !== MSG || !checkMessage(inbuf, seq, o.quick)) ok = false;
        }
      },
    };
  };
  const conns = await Promise.all(Array.from({ length: o.conns }, open));
  await Promise.all(conns.map((c) => c.run(o.warmup)));
  const stopLag = await lagMonitor();
  const start = now();
  await Promise.all(conns.map((c) => c.run(o.n)));
  const ms = now() - start;
  const lag = stopLag();
  for (const c of conns) close(c.fd);
  result({ rate: (o.conns * o.n) / (ms / 1000), conns: o.conns, n: o.conns * o.n, verified: ok, ...lag });
}

(o.role === 'server' ? server() : client()).catch(fail);
