// The readiness loop behind `berkeley-sockets/promises`: one watcher (native uv_poll) per descriptor,
// shared by every pending operation on it, started only while something waits, so an idle socket
// never keeps the process alive. An operation is a non-blocking system call retried each time the
// descriptor becomes ready: readers wait for readability, writers for writability, in FIFO order.
import { constants as osConstants } from 'node:os';
import { native, type Poller } from './binding';
import { EAGAIN, EWOULDBLOCK } from './constants';
import { errnoException, invalidArgType, outOfRange } from './errors';
import { setCloseHook } from './handle';

const { UV_READABLE, UV_WRITABLE, UV_DISCONNECT } = native.uv;

/** True for the "try again later" results of a non-blocking call. */
export function wouldBlock(rc: number): boolean {
  return rc === -EAGAIN || rc === -EWOULDBLOCK;
}

/** A pending operation. */
export interface Waiter {
  readonly syscall: string;
  /** Makes the non-blocking call; true once the operation has settled (resolved or rejected). */
  attempt(): boolean;
  /** Settles the operation with an error (close, abort, timeout). */
  fail(err: Error): void;
}

class Watch {
  readonly poller: Poller;
  readonly readers: Waiter[] = [];
  readonly writers: Waiter[] = [];
  private events = 0;
  referenced = true;

  constructor(readonly fd: number, referenced: boolean) {
    // uv_poll_init also puts the descriptor in non-blocking mode, which every call here relies on.
    try {
      this.poller = new native.Poller(fd, (status, events) => this.onPoll(status, events));
    } catch (e) {
      const { errno, syscall } = e as { errno?: number; syscall?: string };
      if (typeof errno !== 'number') throw e;
      const err = errnoException(errno, syscall ?? 'epoll_ctl');
      if (err.code === 'EEXIST') {
        err.message += ` (descriptor ${fd} is already watched by another owner on this thread, such as a Node net socket: use the sync API on it, or hand it over with toNetSocket)`;
      }
      throw err;
    }
    this.referenced = referenced;
    if (!referenced) this.poller.unref();
  }

  update(): void {
    const want = (this.readers.length ? UV_READABLE : 0) | (this.writers.length ? UV_WRITABLE : 0);
    if (want === this.events) return;
    this.events = want;
    if (want === 0) {
      this.poller.stop();
      return;
    }
    const rc = this.poller.start(want);
    if (rc < 0) this.failAll(errnoException(rc, 'epoll_ctl'));
  }

  private onPoll(status: number, events: number): void {
    if (status < 0) {
      // libuv reports POLLERR this way and stops the watcher: let every waiter make its call, which
      // returns the real error (ECONNREFUSED from SO_ERROR, ECONNRESET from read…).
      this.events = 0;
      events = UV_READABLE | UV_WRITABLE;
    }
    if (events & (UV_READABLE | UV_DISCONNECT)) drain(this.readers);
    if (events & UV_WRITABLE) drain(this.writers);
    this.update();
  }

  failAll(err: Error): void {
    const all = [...this.readers, ...this.writers];
    this.readers.length = 0;
    this.writers.length = 0;
    for (const w of all) w.fail(err);
  }
}

function drain(queue: Waiter[]): void {
  while (queue.length > 0) {
    const w = queue[0];
    if (!w.attempt()) break;
    if (queue[0] === w) queue.shift(); // an attempt may already have taken itself out (async poll)
  }
}

const watches = new Map<number, Watch>();
/** Descriptors unref()'d before their watcher exists: it is created unreferenced. */
const unreferenced = new Set<number>();

/** The watcher for descriptor `fd`, created on first use (which makes the descriptor non-blocking). */
export function watchOf(fd: number): Watch {
  let w = watches.get(fd);
  if (w === undefined) {
    w = new Watch(fd, !unreferenced.has(fd));
    watches.set(fd, w);
  }
  return w;
}

/** Whether operations on `fd` are already queued (a new one must queue behind them, in order). */
export function busy(fd: number, write: boolean): boolean {
  const w = watches.get(fd);
  return w !== undefined && (write ? w.writers : w.readers).length > 0;
}

/** Must run before the descriptor is closed or given away: epoll must never see a stale number. */
function forget(fd: number): void {
  unreferenced.delete(fd);
  const w = watches.get(fd);
  if (w === undefined) return;
  watches.delete(fd);
  w.poller.close();
  const queued = [...w.readers, ...w.writers];
  w.readers.length = 0;
  w.writers.length = 0;
  for (const waiter of queued) waiter.fail(closedError(waiter.syscall));
}
setCloseHook(forget);

export function closedError(syscall: string): Error {
  return Object.assign(new Error(`${syscall}: the socket was closed while the call was pending`), { code: 'ERR_SOCKET_CLOSED', syscall });
}

/** Options every async call takes. */
export interface AsyncOptions {
  /** Rejects the call with an AbortError when aborted; the socket stays usable. */
  signal?: AbortSignal;
  /** Rejects with an ETIMEDOUT SystemError after this many milliseconds. */
  timeout?: number;
}

export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

export function checkOptions(options: AsyncOptions | undefined): AsyncOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  if (options.timeout !== undefined && (typeof options.timeout !== 'number' || !(options.timeout >= 0) || !Number.isFinite(options.timeout))) {
    throw outOfRange('options.timeout', 'a finite number >= 0 (ms)', options.timeout);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', options.signal);
  }
  return options;
}

/**
 * Runs `call` now if nothing is queued ahead of it (unless `waitFirst`: connect must see writability
 * before SO_ERROR means anything); if it would block, queues it until the descriptor is ready (as a
 * reader or a writer). `call` returns undefined while it would block, else the result.
 */
export function operate<T>(
  fd: number, syscall: string, write: boolean, options: AsyncOptions, call: () => T | undefined, waitFirst = false,
): Promise<T> {
  const { signal, timeout } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const watch = watchOf(fd);
  const queue = write ? watch.writers : watch.readers;
  if (queue.length === 0 && !waitFirst) {
    try {
      const v = call();
      if (v !== undefined) return Promise.resolve(v);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => cancel(abortError(signal!));
    const done = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const waiter: Waiter = {
      syscall,
      attempt() {
        let v: T | undefined;
        try {
          v = call();
        } catch (e) {
          done();
          reject(e);
          return true;
        }
        if (v === undefined) return false;
        done();
        resolve(v);
        return true;
      },
      fail(err) {
        done();
        reject(err);
      },
    };
    // Leaves the queue without touching the socket: the call was never made, so it stays usable.
    const cancel = (err: Error) => {
      const i = queue.indexOf(waiter);
      if (i >= 0) queue.splice(i, 1);
      watch.update();
      waiter.fail(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => cancel(errnoException(-osConstants.errno.ETIMEDOUT, syscall)), timeout);
      if (!watch.referenced) timer.unref();
    }
    queue.push(waiter);
    watch.update();
  });
}

/** Queues a waiter on `fd` (for poll, which waits on several descriptors at once). */
export function enqueue(fd: number, write: boolean, waiter: Waiter): void {
  const w = watchOf(fd);
  (write ? w.writers : w.readers).push(waiter);
  w.update();
}

/** Takes a waiter out of its queue, if it is still there. */
export function dequeue(fd: number, write: boolean, waiter: Waiter): void {
  const w = watches.get(fd);
  if (w === undefined) return;
  const q = write ? w.writers : w.readers;
  const i = q.indexOf(waiter);
  if (i >= 0) {
    q.splice(i, 1);
    w.update();
  }
}

/** Lets pending operations on `fd` keep the process alive (the default). */
export function refFd(fd: number): void {
  unreferenced.delete(fd);
  const w = watches.get(fd);
  if (w === undefined) return;
  w.referenced = true;
  w.poller.ref();
}

/**
 * Pending operations on `fd` no longer keep the process alive, like `server.unref()`. Remembered
 * until the descriptor is closed; creates no watcher (and changes nothing on the descriptor) by itself.
 */
export function unrefFd(fd: number): void {
  unreferenced.add(fd);
  const w = watches.get(fd);
  if (w === undefined) return;
  w.referenced = false;
  w.poller.unref();
}
