// Many connections with this library's sync API and epoll(7): c.c's program, call for call, in
// JavaScript — one epoll loop per process, level-triggered, non-blocking sockets, no event loop of
// Node's in the way (the loop never returns to it). The row to compare with C's epoll loop.
//   epoll server --conns C             echoes on every connection; exits when all have closed
//   epoll client --port P --conns C --n K [--warmup W] [--quick]
import {
  AF_INET, EPOLLIN, EPOLL_CTL_ADD, EpollEvents, IPPROTO_TCP, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
  TCP_NODELAY, accept, bind, close, connect, epoll_create1, epoll_ctl, epoll_wait, getsockname, listen, read,
  setNonBlocking, setsockopt, socket, write,
} from 'berkeley-sockets';
import { MSG, announcePort, checkMessage, fail, fillMessage, now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const MAX_EVENTS = 256;

/** EAGAIN and EINTR: the descriptor was not ready after all; anything else is the caller's. */
const transient = (e) => e.code === 'EAGAIN' || e.code === 'EINTR';

function server() {
  const srv = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, 1);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 4096);
  announcePort(getsockname(srv).port);
  const ep = epoll_create1();
  const lfd = srv.fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, srv, { events: EPOLLIN, data: lfd });
  const evs = new EpollEvents(MAX_EVENTS);
  const buf = Buffer.alloc(4096);
  const conns = new Map(); // fd -> handle
  let accepted = 0;
  let closed = 0;
  let echoed = 0;
  while (closed < o.conns) {
    const k = epoll_wait(ep, evs, MAX_EVENTS, -1);
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
        continue;
      }
      // The peer waits for this echo before sending more: its socket buffer has room for it.
      if (write(fd, buf, n) !== n) throw new Error('short write');
      echoed += n;
    }
  }
  close(ep);
  close(srv);
  result({ accepted, echoed: echoed / MSG });
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

try {
  if (o.role === 'server') server();
  else client();
} catch (e) {
  fail(e);
}
