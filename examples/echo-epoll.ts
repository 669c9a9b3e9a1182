// An event-driven echo server with epoll(7): one process, one thread, any number of clients, and no
// call that blocks except epoll_wait. Written as a C programmer writes it: echo-epoll.c beside it is
// its twin, the same system calls in the same order. (echo-async.ts is the same server with the
// promises API, where Node's own event loop does the waiting.)
//
// Every socket is non-blocking. The listening socket is readable when connections wait: accept them
// all, until EAGAIN. A connection is readable: read until EAGAIN, writing each chunk back. When the
// kernel takes only part of a chunk (the client is not reading, its window is full), keep the rest,
// stop reading that client (its data waits in the kernel, which slows the client down: no unbounded
// buffer here) and wait for EPOLLOUT; once the rest is written, wait for EPOLLIN again.
//
// Prints the port it listens on, then one line per connection closed.
//
//   node dist/examples/echo-epoll.js [PORT]      (PORT 0: the kernel chooses; 7007 by default)
import {
  AF_INET, EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_MOD, EpollEvents, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET,
  SO_REUSEADDR, type SocketHandle, type SystemError, accept, bind, close, epoll_create1, epoll_ctl, epoll_wait,
  INADDR_LOOPBACK, getsockname, htonl, htons, in_addr, listen, ntohs, read, setsockopt, sockaddr_in, socket, strerror,
  write,
} from 'berkeley-sockets';

const MAX_EVENTS = 64;
const BUF_SIZE = 65536;
const MAX_FDS = 65536; // the connection table is indexed by descriptor

interface Conn {
  fd: SocketHandle;
  /** Bytes read but not written back yet (null: none); what is left of them is pending[off..len). */
  pending: Buffer | null;
  off: number;
  len: number;
  /** Bytes written back in all. */
  echoed: number;
  /** How many times the kernel pushed back and we waited for EPOLLOUT. */
  waits: number;
}

const conns: (Conn | undefined)[] = [];
const buf = Buffer.alloc(BUF_SIZE);

/** EAGAIN (EWOULDBLOCK is the same number on Linux): the call would block. Anything else is rethrown by the caller. */
const wouldBlock = (e: unknown) => (e as SystemError).code === 'EAGAIN' || (e as SystemError).code === 'EWOULDBLOCK';
const reason = (e: unknown) => strerror(-(e as SystemError).errno); // C's strerror(errno)

function close_conn(c: Conn, why: string): void {
  const fd = c.fd.fd;
  console.log(`connection ${fd} closed (${why}): ${c.echoed} bytes echoed, ${c.waits} waits for EPOLLOUT`);
  conns[fd] = undefined;
  close(c.fd); // the kernel removes it from the epoll set when its last descriptor goes
}

/** Wait for `events` on the connection: EPOLLIN while it has nothing pending, EPOLLOUT while it has. */
function want(c: Conn, events: number): void {
  epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, { events, data: c.fd.fd });
}

/** Write back what is pending, until it is all written or the kernel says EAGAIN. */
function flush(c: Conn): void {
  while (c.off < c.len) {
    let w: number;
    try {
      w = write(c.fd, c.pending!.subarray(c.off), c.len - c.off);
    } catch (e) {
      if (wouldBlock(e)) return; // still full: EPOLLOUT will come
      close_conn(c, reason(e));
      return;
    }
    c.off += w;
    c.echoed += w;
  }
  c.pending = null;
  c.off = c.len = 0;
  want(c, EPOLLIN);
}

/** Read until EAGAIN, writing each chunk back; keep what the kernel did not take, and stop reading. */
function serve(c: Conn): void {
  for (;;) {
    let n: number;
    try {
      n = read(c.fd, buf, buf.length);
    } catch (e) {
      if (wouldBlock(e)) return; // all read: EPOLLIN will say when there is more
      close_conn(c, reason(e));
      return;
    }
    if (n === 0) {
      close_conn(c, 'end of file');
      return;
    }
    let w: number;
    try {
      w = write(c.fd, buf, n);
    } catch (e) {
      if (!wouldBlock(e)) {
        close_conn(c, reason(e));
        return;
      }
      w = 0;
    }
    c.echoed += w;
    if (w < n) {
      c.pending = Buffer.from(buf.subarray(w, n)); // a copy: buf is read into again for the next client
      c.off = 0;
      c.len = n - w;
      c.waits++;
      want(c, EPOLLOUT);
      return;
    }
  }
}

const port = process.argv[2] !== undefined ? Number(process.argv[2]) : 7007;
// SOCK_NONBLOCK is Linux's (typed `number | undefined`), and so is epoll: where one exists, so does the other.
const NONBLOCK = SOCK_NONBLOCK!;
// write(2) to a client that is gone fails with EPIPE: the library never lets SIGPIPE kill the process.
const lfd = socket(AF_INET, SOCK_STREAM | NONBLOCK, 0); // close-on-exec, always
setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, 1);
const addr = new sockaddr_in(); // zeroed, as `struct sockaddr_in addr = {0}`
addr.sin_family = AF_INET;
addr.sin_addr = new in_addr(htonl(INADDR_LOOPBACK));
addr.sin_port = htons(port);
bind(lfd, addr);
listen(lfd); // SOMAXCONN
getsockname(lfd, addr); // fills addr, as C's (struct sockaddr *)&addr, &len with len = sizeof addr
console.log(`echo server listening on port ${ntohs(addr.sin_port)}`);

const ep = epoll_create1(); // EPOLL_CLOEXEC, always
epoll_ctl(ep, EPOLL_CTL_ADD, lfd, { events: EPOLLIN, data: lfd.fd });

const events = new EpollEvents(MAX_EVENTS); // struct epoll_event events[MAX_EVENTS], filled in place
for (;;) {
  // A signal with a listener does not end the wait (the library retries EINTR, as PEP 475): no EINTR here.
  const n = epoll_wait(ep, events, MAX_EVENTS, -1);
  for (let i = 0; i < n; i++) {
    const fd = events.data(i);
    if (fd === lfd.fd) {
      // Accept every waiting connection, until EAGAIN.
      for (;;) {
        let cfd: SocketHandle;
        try {
          cfd = accept(lfd, null, NONBLOCK).fd; // accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)
        } catch (e) {
          if (wouldBlock(e)) break;
          if ((e as SystemError).code === 'ECONNABORTED') continue;
          console.error(`accept4: ${(e as Error).message}`); // EMFILE…: try again at the next EPOLLIN
          break;
        }
        if (cfd.fd >= MAX_FDS) {
          close(cfd);
          continue;
        }
        conns[cfd.fd] = { fd: cfd, pending: null, off: 0, len: 0, echoed: 0, waits: 0 };
        epoll_ctl(ep, EPOLL_CTL_ADD, cfd, { events: EPOLLIN, data: cfd.fd });
      }
      continue;
    }
    const c = conns[fd];
    if (c === undefined) continue;
    // EPOLLIN while nothing is pending, EPOLLOUT while something is; EPOLLERR and EPOLLHUP come either
    // way, and the read or write then says what happened.
    if (c.pending !== null) flush(c);
    else serve(c);
  }
}
