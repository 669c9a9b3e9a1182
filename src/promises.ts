/**
 * berkeley-sockets/promises: the calls that can block, as promises that never block the event loop —
 * the same C names and arguments as the synchronous API, plus an optional last `{ signal, timeout }`.
 * Every failure, bad arguments included, is a rejection (never a synchronous throw), as in fs/promises.
 *
 * Readiness, not threads: the descriptor is made non-blocking and watched with libuv's uv_poll (epoll)
 * on this thread's own loop; when it is ready, the non-blocking system call is made. No call occupies a
 * threadpool thread, so thousands can be pending while fs and dns still run. A descriptor used here is
 * non-blocking from then on: synchronous calls on it fail with EAGAIN instead of waiting.
 */
import { constants as osConstants } from 'node:os';
import { native } from './binding';
import './trace/env'; // BSOCK_TRACE=1 works for code that imports only this module
import './signals'; // its sync calls (poll, waitpid) too: a signal listener interrupts them
import { EINPROGRESS, SOL_SOCKET, SO_ERROR } from './constants';
import { errnoException } from './errors';
import type { AddressOf } from './family';
import { type Fd, SocketHandle, newHandle, checkFd } from './handle';
import { type Data, type Received, bytesOf, noOffset, target } from './io';
import {
  type Waiter, callableNow, dequeue, enqueue, operate, READY_ACCEPT, READY_READ, WAIT_FIRST, WRITER,
  readMadeNow, readableNow, refFd, unrefFd, watchOf,
} from './async/reactor';
import { triedRead } from './async/at-once';
import { type AsyncOptions, abortError, checkOptions } from './async/options';
import { ReadWindow, wouldBlock } from './async/window';
import { type PollFd, packPollFds, unpackRevents } from './select';
import { addrOut, takeAddrOut, targetOf } from './addrout';
import { type ReceivedMessage, type RecvMsgOptions, prepareRecvmsg } from './message';
import { type AsyncRecvmsg, type CaptureStreamOptions, PacketStream } from './capture/stream';
import { type SockaddrInput, sockaddrBytes } from './sockaddr';
import type { Accepted } from './socket';
import { checkCount, checkInt, checkInt32 } from './validate';

export type { AsyncOptions } from './async/options';
export type { CaptureStreamOptions, PacketStream } from './capture/stream';
/** waitpid(2) without blocking the event loop (pidfd_open(2) + readiness): see fork.ts. */
export { waitpidAsync as waitpid } from './async/waitpid';
export type { WaitStatus } from './fork';

const ETIMEDOUT = osConstants.errno.ETIMEDOUT;
const { ARM_READ, ARM_RECV, ARM_RECVFROM } = native.uv;

/** The result of a non-blocking call: undefined to wait for readiness, a value, or a thrown SystemError. */
function settle(rc: number, syscall: string, target?: Parameters<typeof errnoException>[2]): number | undefined {
  if (rc >= 0) return rc;
  if (wouldBlock(rc)) return undefined;
  throw errnoException(rc, syscall, target);
}

/** accept(2) without blocking: resolves with the next connection (SOCK_CLOEXEC; `flags` may add SOCK_NONBLOCK). */
export async function accept<F extends number>(fd: SocketHandle<F> | number, options?: AsyncOptions & { flags?: number }): Promise<Accepted<F>> {
  const n = checkFd(fd, 'accept');
  const opts = checkOptions(options) as AsyncOptions & { flags?: number };
  const flags = checkInt32(opts.flags ?? 0, 'options.flags');
  return operate(n, 'accept', opts, () => {
    const conn = settle(native.accept(n, flags, addrOut), 'accept');
    if (conn === undefined) return undefined;
    return { fd: newHandle<F>(conn), address: takeAddrOut() as AddressOf<F> };
  }, READY_ACCEPT);
}

/**
 * connect(2) without blocking: starts the handshake (EINPROGRESS), waits for writability, then reports
 * the outcome from SO_ERROR (ECONNREFUSED, ETIMEDOUT…), as a C event loop does.
 */
export async function connect(fd: Fd, addr: SockaddrInput, options?: AsyncOptions): Promise<void> {
  const n = checkFd(fd, 'connect');
  const opts = checkOptions(options);
  const bytes = sockaddrBytes(addr);
  watchOf(n); // non-blocking from here on
  const rc = native.connect(n, bytes);
  if (rc === 0) return;
  if (rc !== -EINPROGRESS) throw errnoException(rc, 'connect', targetOf(bytes));
  const soerr = new Uint8Array(4);
  await operate(n, 'connect', opts, () => {
    const r = native.getsockopt(n, SOL_SOCKET, SO_ERROR, soerr);
    if (r < 0) throw errnoException(r, 'getsockopt');
    const err = new Int32Array(soerr.buffer)[0]; // a C int, host byte order
    if (err !== 0) throw errnoException(-err, 'connect', targetOf(bytes));
    return true;
  }, WRITER | WAIT_FIRST);
}

// The hot calls below are plain functions returning operate()'s promise, with every throw turned into
// a rejection by hand: an async function returning a promise costs an extra promise and two more
// microtask turns per call.

/**
 * read(2) without blocking: resolves with the byte count once data (or end of file, 0) is there.
 * `read(fd, buf, count?, options?)`: no offset, as in C (`buf.subarray(off)`); a number where the
 * options go is Node's offset, and a TypeError.
 */
export function read(fd: Fd, buf: Uint8Array, count?: number, options?: AsyncOptions): Promise<number> {
  try {
    if (arguments.length > 4 || typeof options === 'number') throw noOffset('read', arguments.length, 4);
    const n = checkFd(fd, 'read');
    const b = target(buf);
    const len = checkCount(count, b.length, 'count');
    const opts = checkOptions(options);
    const w = readableNow(n, opts);
    const now = w === undefined ? undefined : readMadeNow(w, native.read(n, b, 0, len), 'read');
    if (now !== undefined) return now;
    return operate<number>(n, 'read', opts, new ReadWindow(n, b, 0, len, ARM_READ, false), WAIT_FIRST | READY_READ);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** recv with flags, which tries at once in operate(): apart, as writeLater, so that recv's fast path allocates no context. */
function recvLater(n: number, b: Uint8Array, len: number, flags: number, opts: AsyncOptions): Promise<number> {
  return operate(n, 'recv', opts, () => settle(native.recv(n, b, 0, len, flags), 'recv'));
}

/** recv(2) without blocking, with `flags` (MSG_PEEK, MSG_TRUNC…). */
export function recv(fd: Fd, buf: Uint8Array, count?: number, flags = 0, options?: AsyncOptions): Promise<number> {
  try {
    if (arguments.length > 5 || typeof options === 'number') throw noOffset('recv', arguments.length, 5);
    const n = checkFd(fd, 'recv');
    const b = target(buf);
    const len = checkCount(count, b.length, 'count');
    checkInt32(flags, 'flags');
    const opts = checkOptions(options);
    if (flags !== 0) return recvLater(n, b, len, flags, opts);
    const w = readableNow(n, opts);
    const now = w === undefined ? undefined : readMadeNow(w, native.recv(n, b, 0, len, 0), 'recv');
    if (now !== undefined) return now;
    return operate<number>(n, 'recv', opts, new ReadWindow(n, b, 0, len, ARM_RECV, false), WAIT_FIRST | READY_READ);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** recvfrom(2) without blocking: the next datagram and its sender. */
export function recvfrom<F extends number>(
  fd: SocketHandle<F> | number, buf: Uint8Array, count?: number, flags = 0, options?: AsyncOptions,
): Promise<Received<F>> {
  try {
    const n = checkFd(fd, 'recvfrom');
    const b = target(buf);
    const len = checkCount(count, b.length, 'count');
    checkInt32(flags, 'flags');
    const call = flags === 0
      ? new ReadWindow(n, b, 0, len, ARM_RECVFROM, false)
      : () => {
        const rc = settle(native.recvfrom(n, b, 0, len, flags, addrOut), 'recvfrom');
        return rc === undefined ? undefined : { n: rc, address: takeAddrOut() as AddressOf<F> | null };
      };
    return operate<Received<F>>(n, 'recvfrom', checkOptions(options), call, flags === 0 ? READY_READ : 0);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * recvmsg(2) without blocking: resolves with the next message — its byte count, sender, decoded
 * ancillary data (SCM_RIGHTS descriptors owned by handles, SCM_TIMESTAMPNS…) and `msg_flags` — as the
 * synchronous recvmsg returns it. `msg.flags` as there (MSG_PEEK, MSG_TRUNC…; MSG_CMSG_CLOEXEC is added).
 */
export function recvmsg<F extends number>(
  fd: SocketHandle<F> | number, msg: RecvMsgOptions, options?: AsyncOptions,
): Promise<ReceivedMessage<F>> {
  try {
    const prepared = prepareRecvmsg<F>(fd, msg);
    const call = () => {
      const r = prepared.call();
      return typeof r === 'number' ? (settle(r, 'recvmsg') as undefined) : r;
    };
    // With no flags, the call succeeds exactly when epoll says readable (as read and recv do).
    return operate<ReceivedMessage<F>>(prepared.fd, 'recvmsg', checkOptions(options), call, prepared.flags === 0 ? READY_READ : 0);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * write(2) without blocking: resolves with how many bytes the kernel took (possibly fewer: see
 * writeAll). `write(fd, data, count?, options?)`: no offset, as in C (`buf.subarray(off)`).
 */
export function write(fd: Fd, data: Data, count?: number, options?: AsyncOptions): Promise<number> {
  try {
    if (arguments.length > 4 || typeof options === 'number') throw noOffset('write', arguments.length, 4);
    const n = checkFd(fd, 'write');
    const b = bytesOf(data);
    const len = checkCount(count, b.length, 'count');
    const opts = checkOptions(options);
    // The usual case — nothing queued before it, and the kernel takes the bytes — is settled here,
    // before a closure is made for the wait; one that would block waits for writability first.
    const now = callableNow(n, true, opts);
    if (now) {
      const rc = native.write(n, b, 0, len);
      if (rc >= 0) return Promise.resolve(rc);
      if (!wouldBlock(rc)) return Promise.reject(errnoException(rc, 'write'));
    }
    return writeLater(n, b, len, opts, now);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * write's wait, apart: a closure over write's variables would make V8 allocate their context at every
 * call of write, the ones settled at once included (56 bytes each, bench/README.md, sixth session).
 */
function writeLater(n: number, b: Uint8Array, len: number, opts: AsyncOptions, tried: boolean): Promise<number> {
  return operate(n, 'write', opts, () => settle(native.write(n, b, 0, len), 'write'), WRITER | (tried ? WAIT_FIRST : 0));
}

/** send(2) without blocking, with `flags`; MSG_NOSIGNAL is always added. */
export function send(fd: Fd, data: Data, count?: number, flags = 0, options?: AsyncOptions): Promise<number> {
  try {
    if (arguments.length > 5 || typeof options === 'number') throw noOffset('send', arguments.length, 5);
    const n = checkFd(fd, 'send');
    const b = bytesOf(data);
    const len = checkCount(count, b.length, 'count');
    checkInt32(flags, 'flags');
    return operate(n, 'send', checkOptions(options), () => settle(native.send(n, b, 0, len, flags), 'send'), WRITER);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** sendto(2) without blocking: `sendto(fd, data, addr, options?)` or `sendto(fd, data, flags, addr, options?)`. */
export function sendto(fd: Fd, data: Data, addr: SockaddrInput, options?: AsyncOptions): Promise<number>;
export function sendto(fd: Fd, data: Data, flags: number, addr: SockaddrInput, options?: AsyncOptions): Promise<number>;
export function sendto(fd: Fd, data: Data, a: unknown, b?: unknown, c?: unknown): Promise<number> {
  try {
    const [flags, addr, options] = typeof a === 'number' ? [a, b, c] : [0, a, b];
    const n = checkFd(fd, 'sendto');
    const bytes = bytesOf(data);
    checkInt32(flags, 'flags');
    const sa = sockaddrBytes(addr as SockaddrInput);
    return operate(n, 'sendto', checkOptions(options as AsyncOptions | undefined), () =>
      settle(native.sendto(n, bytes, 0, bytes.length, flags as number, sa), 'sendto', targetOf(sa)), WRITER);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Writes all of `data`, waiting for writability between partial writes. Resolves with the byte count. */
export function writeAll(fd: Fd, data: Data, options?: AsyncOptions): Promise<number> {
  let b: Uint8Array;
  try {
    b = bytesOf(data);
  } catch (e) {
    return Promise.reject(e);
  }
  if (b.length === 0) return Promise.resolve(0);
  let done = 0;
  try {
    // The usual case — nothing queued before it, and the kernel takes everything — is settled here,
    // without the loop's promise per write; anything else continues in the loop from `done`.
    const n = checkFd(fd, 'write');
    const opts = checkOptions(options);
    if (callableNow(n, true, opts)) {
      while (done < b.length) {
        const rc = native.write(n, b, done, b.length - done);
        if (rc < 0) {
          if (wouldBlock(rc)) break;
          throw errnoException(rc, 'write');
        }
        done += rc;
      }
      if (done === b.length) return Promise.resolve(done);
    }
  } catch (e) {
    return Promise.reject(Object.assign(e as Error, { bytesWritten: done }));
  }
  return writeRest(fd, b, done, options);
}

async function writeRest(fd: Fd, b: Uint8Array, done: number, options?: AsyncOptions): Promise<number> {
  while (done < b.length) {
    try {
      done += await write(fd, b.subarray(done), b.length - done, options);
    } catch (e) {
      throw Object.assign(e as Error, { bytesWritten: done });
    }
  }
  return done;
}

/**
 * Reads exactly `count` bytes (default: all of `buf`) with as many read(2)s as it takes; resolves with
 * fewer only at end of file. It is one operation: `timeout` and `signal` apply to all of it, and an
 * error or abort carries `bytesRead`, what had arrived in `buf` before it.
 */
export function readExactly(fd: Fd, buf: Uint8Array, count?: number, options?: AsyncOptions): Promise<number> {
  let b: Uint8Array;
  let want: number;
  try {
    b = target(buf);
    want = checkCount(count, b.length, 'count');
  } catch (e) {
    return Promise.reject(e);
  }
  if (want === 0) return Promise.resolve(0);
  try {
    // One operation for all of it: each read (the watcher's, when armed) advances the window. The
    // first is made here when it may be, and settles the call if it brings everything (or end of file).
    const n = checkFd(fd, 'read');
    const opts = checkOptions(options);
    const w = readableNow(n, opts);
    let got = 0;
    if (w !== undefined) {
      const rc = native.read(n, b, 0, want);
      triedRead(w, wouldBlock(rc));
      if (rc === want || rc === 0) return Promise.resolve(rc);
      if (rc < 0 && !w.readBlocked) throw errnoException(rc, 'read');
      if (rc > 0) got = rc;
    }
    const win = new ReadWindow(n, b, got, want - got, ARM_READ, true);
    win.got = got;
    return operate<number>(n, 'read', opts, win, WAIT_FIRST | READY_READ);
  } catch (e) {
    return Promise.reject(Object.assign(e as Error, { bytesRead: 0 }));
  }
}

/**
 * poll(2) without blocking the loop: resolves with the number of ready entries (filling in `revents`)
 * once any is ready, or 0 after `timeout` ms (-1, the default, waits forever).
 */
export async function poll<T extends Fd>(fds: PollFd<T>[], timeout = -1, options?: AsyncOptions): Promise<number> {
  const t = packPollFds(fds);
  checkInt(timeout, 'timeout', -1, 2 ** 31 - 1);
  const { signal, timeout: limit } = checkOptions(options);
  const check = (): number => {
    const rc = native.poll(t, 0);
    if (rc < 0) throw errnoException(rc, 'poll');
    unpackRevents(fds, t);
    return rc;
  };
  if (signal?.aborted) return Promise.reject(abortError(signal));
  let first: number;
  try {
    first = check();
  } catch (e) {
    return Promise.reject(e);
  }
  if (first > 0 || timeout === 0) return Promise.resolve(first);
  return new Promise<number>((resolve, reject) => {
    const queued: [number, boolean][] = [];
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      for (const [fd, write] of queued) dequeue(fd, write, waiter);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    // One waiter in the queue of every descriptor and direction asked for; whichever fires first
    // re-polls them all (POLLERR/POLLHUP included), and the others are withdrawn.
    const waiter: Waiter = {
      syscall: 'poll',
      attempt() {
        try {
          const rc = check();
          if (rc === 0) return false;
          finish(() => resolve(rc));
        } catch (e) {
          finish(() => reject(e));
        }
        return true;
      },
      fail: (err) => finish(() => reject(err)),
    };
    const onAbort = () => finish(() => reject(abortError(signal!)));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout > 0) timers.push(setTimeout(() => finish(() => resolve(check())), timeout));
    if (limit !== undefined) timers.push(setTimeout(() => finish(() => reject(errnoException(-ETIMEDOUT, 'poll'))), limit));
    const { POLLIN, POLLPRI, POLLOUT } = native.constants;
    for (let i = 0; i < fds.length; i++) {
      const events = t[3 * i + 1];
      // Errors and hangups are reported whatever was asked: wait for readability if nothing else.
      const read = (events & (POLLIN | POLLPRI)) !== 0 || (events & POLLOUT) === 0;
      if (read) queued.push([t[3 * i], false]);
      if (events & POLLOUT) queued.push([t[3 * i], true]);
    }
    for (const [fd, write] of queued) enqueue(fd, write, waiter);
  });
}

/**
 * Captures the packets on interface `ifname` ('lo', 'eth0'), decoded, as an async iterator:
 * ```ts
 * for await (const p of capture('lo', { port: 8080, signal: AbortSignal.timeout(5000) })) {
 *   console.log(p.ms, p.ip?.src, p.tcp?.flagString, p.tcp?.seq, p.length);
 * }
 * ```
 * The packet socket (packet(7), CAP_NET_RAW) is opened before capture() returns, with its filter
 * (`host`, `port`, `protocol`, or `filter: 'tcp and port 8080'`, compiled to classic BPF by the
 * library: compileFilter) attached before the first packet, and SO_TIMESTAMPNS for the kernel's time
 * of each; every packet is waited for with recvmsg here, never blocking the event loop. `break`, the
 * signal, or `close()` ends it and closes the socket. A failure to open (EPERM without CAP_NET_RAW)
 * rejects the first next(). On lo, each packet is shown once, as tcpdump -i lo shows it (see
 * openCapture in the root module, which is the same capture read synchronously).
 */
export function capture(ifname: string, options?: CaptureStreamOptions): PacketStream {
  return new PacketStream(ifname, options, recvmsg as AsyncRecvmsg);
}

/** Lets pending calls on `fd` keep the process alive (the default). */
export function ref(fd: Fd): void {
  refFd(checkFd(fd, 'ref'));
}

/** Pending calls on `fd` no longer keep the process alive (like `server.unref()`). */
export function unref(fd: Fd): void {
  unrefFd(checkFd(fd, 'unref'));
}

/** `for await (const { fd, address } of connections(srv))`: accept(2) in a loop; ends when `srv` is closed. */
export async function* connections<F extends number>(srv: SocketHandle<F> | number, options?: AsyncOptions & { flags?: number }): AsyncGenerator<Accepted<F>> {
  for (;;) {
    try {
      yield await accept(srv, options);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SOCKET_CLOSED' || (e as { code?: string }).code === 'EBADF') return;
      throw e;
    }
  }
}

/** `for await (const chunk of chunks(fd))`: read(2) until end of file; each chunk is a new Buffer. */
export async function* chunks(fd: Fd, size = 65536, options?: AsyncOptions): AsyncGenerator<Buffer> {
  checkInt(size, 'size', 1, 2 ** 30);
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const n = await read(fd, buf, size, options);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

/** `for await (const { data, address } of datagrams(fd))`: recvfrom(2) in a loop, one datagram each. */
export async function* datagrams<F extends number>(
  fd: SocketHandle<F> | number, size = 65536, options?: AsyncOptions,
): AsyncGenerator<{ data: Buffer; address: AddressOf<F> | null }> {
  checkInt(size, 'size', 1, 2 ** 30);
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const { n, address } = await recvfrom(fd, buf, size, 0, options);
    yield { data: buf.subarray(0, n), address };
  }
}
