// Many connections with this library's sync API and epoll(7): c.c's program, call for call, in
// JavaScript — one epoll loop per process, level-triggered, non-blocking sockets, no event loop of
// Node's in the way (the loop never returns to it). The row to compare with C's epoll loop.
//   epoll server --conns C [--threads N]   echoes on every connection; exits when all have closed;
//                                           N threads: N listeners on one port (SO_REUSEPORT), N loops
//   epoll client --port P --conns C --n K [--warmup W] [--quick]
import {
  AF_INET, EPOLLIN, EPOLL_CTL_ADD, EpollEvents, IPPROTO_TCP, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT,
  TCP_NODELAY, accept, bind, close, connect, epoll_create1, epoll_ctl, epoll_wait, getsockname, listen, read,
  setNonBlocking, setsockopt, socket, write,
} from 'berkeley-sockets';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const MAX_EVENTS = 256;

/** EAGAIN and EINTR: the descriptor was not ready after all; anything else is the caller's. */
const transient = (e) => e.code === 'EAGAIN' || e.code === 'EINTR';

/**
 * One epoll loop over one listening socket, until `done()`: accept every waiting connection, echo what
 * each read brings. With `shared` (several loops, SO_REUSEPORT), the loops count closed connections
 * together and wait at most 20 ms at a time, so that each sees when all are closed.
 */
function serve(srv, shared) {
  const ep = epoll_create1();
  const lfd = srv.fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, srv, { events: EPOLLIN, data: lfd });
  const evs = new EpollEvents(MAX_EVENTS);
  const buf = Buffer.alloc(4096);
  const conns = new Map(); // fd -> handle
  let accepted = 0;
  let closed = 0;
  let echoed = 0;
  const done = shared ? () => Atomics.load(shared, 0) >= o.conns : () => closed >= o.conns;
  while (!done()) {
    const k = epoll_wait(ep, evs, MAX_EVENTS, shared ? 20 : -1);
    for (let i = 0; i < k; i++) {
      const fd = evs.data(i);
      if (fd === lfd) {
        for (;;) {
          let c;
          try {
            c = accept(srv, null, SOCK_NONBLOCK).fd;
          } catch (e) {
            if (transient(e)) break;
            throw e;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, 1);
          epoll_ctl(ep, EPOLL_CTL_ADD, c, { events: EPOLLIN, data: c.fd });
          conns.set(c.fd, c);
          accepted++;
        }
        continue;
      }
      let n;
      try {
        n = read(fd, buf, buf.length);
      } catch (e) {
        if (transient(e)) continue;
        n = 0;
      }
      if (n === 0) {
        close(conns.get(fd)); // also leaves the epoll set
        conns.delete(fd);
        closed++;
        if (shared) Atomics.add(shared, 0, 1);
        continue;
      }
      // The peer waits for this echo before sending more: its socket buffer has room for it.
      if (write(fd, buf, n) !== n) throw new Error('short write');
      echoed += n;
    }
  }
  close(ep);
  close(srv);
  return { accepted, echoed };
}

/** A non-blocking listener on 127.0.0.1:port (0: the kernel's choice), SO_REUSEPORT when asked. */
function listener(port, reuseport) {
  const srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, 1);
  if (reuseport) setsockopt(srv, SOL_SOCKET, SO_REUSEPORT, 1);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port });
  listen(srv, 4096);
  return srv;
}

function server() {
  const srv = listener(0, false);
  announcePort(getsockname(srv).port);
  const { accepted, echoed } = serve(srv);
  result({ accepted, echoed: echoed / MSG });
}

/**
 * --threads N: the kernel's way to use N cores, with no dispatcher of ours. Each thread (this one and
 * N-1 Workers) has its own listening socket on the same port (SO_REUSEPORT: the kernel spreads the
 * connections over them by a hash of the addresses) and its own epoll loop, as nginx and Envoy do.
 */
async function threadedServer(threads) {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const srv = listener(0, true);
  const port = getsockname(srv).port;
  const workers = [];
  for (let t = 1; t < threads; t++) {
    const w = new Worker(new URL(import.meta.url), { argv: process.argv.slice(2), workerData: { port, shared } });
    // Two messages: 'listening', then the loop's counts.
    const messages = [];
    const waiting = [];
    w.on('message', (m) => (waiting.length ? waiting.shift()(m) : messages.push(m)));
    w.once('error', fail);
    const next = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((r) => waiting.push(r)));
    workers.push(next);
  }
  // Every Worker listens before the port is announced: the first connections then find every listener.
  await Promise.all(workers.map((next) => next()));
  announcePort(port);
  const mine = serve(srv, shared);
  const theirs = await Promise.all(workers.map((next) => next()));
  const all = [mine, ...theirs];
  result({
    accepted: all.reduce((a, r) => a + r.accepted, 0),
    echoed: all.reduce((a, r) => a + r.echoed, 0) / MSG,
    threads: all.length,
    fewest: Math.min(...all.map((r) => r.accepted)), // connections of the least busy thread
    most: Math.max(...all.map((r) => r.accepted)),
  });
}

function client() {
  let ok = true;
  const ep = epoll_create1();
  const cs = [];
  for (let i = 0; i < o.conns; i++) {
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, { family: AF_INET, address: '127.0.0.1', port: o.port });
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    setNonBlocking(fd, true);
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN, data: i });
    cs.push({ fd: fd.fd, handle: fd, seq: 0, left: 0, have: 0, in: Buffer.alloc(MSG), out: Buffer.alloc(MSG) });
  }
  const evs = new EpollEvents(MAX_EVENTS);
  const sendNext = (c) => {
    fillMessage(c.out, c.seq);
    if (write(c.fd, c.out, MSG) !== MSG) throw new Error('short write');
  };
  const run = (rounds) => {
    let busy = 0;
    for (const c of cs) {
      c.left = rounds;
      if (rounds > 0) {
        sendNext(c);
        busy++;
      }
    }
    while (busy > 0) {
      const k = epoll_wait(ep, evs, MAX_EVENTS, -1);
      for (let i = 0; i < k; i++) {
        const c = cs[evs.data(i)];
        let n;
        try {
          n = c.have === 0 ? read(c.fd, c.in, MSG) : read(c.fd, c.in.subarray(c.have), MSG - c.have);
        } catch (e) {
          if (transient(e)) continue;
          throw e;
        }
        if (n === 0) throw new Error('end of file from the server');
        c.have += n;
        if (c.have < MSG) continue;
        c.have = 0;
        if (!checkMessage(c.in, c.seq, o.quick)) ok = false;
        c.seq++;
        if (--c.left === 0) busy--;
        else sendNext(c);
      }
    }
  };
  run(o.warmup);
  const start = now();
  run(o.n);
  const ms = now() - start;
  for (const c of cs) close(c.handle);
  close(ep);
  result({ rate: (o.conns * o.n) / (ms / 1000), conns: o.conns, n: o.conns * o.n, verified: ok });
}

if (!isMainThread) {
  // A Worker of threadedServer: its own listener on the port, then its own loop.
  const srv = listener(workerData.port, true);
  parentPort.postMessage('listening');
  parentPort.postMessage(serve(srv, workerData.shared));
} else if (o.role === 'server' && o.threads > 1) {
  threadedServer(o.threads).catch(fail);
} else {
  try {
    if (o.role === 'server') server();
    else client();
  } catch (e) {
    fail(e);
  }
}
