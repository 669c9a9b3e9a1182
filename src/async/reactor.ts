// The readiness loop behind `berkeley-sockets/promises`: one watcher (native uv_poll) per descriptor,
// shared by every pending operation on it, referenced only while something waits, so an idle socket
// never keeps the process alive. An operation is a non-blocking system call retried each time the
// descriptor becomes ready: readers wait for readability, writers for writability, in FIFO order.
import { constants as osConstants } from 'node:os';
import { native, type Poller } from '../binding';
import { errnoException } from '../errors';
import { setCloseHook } from '../handle';
import { onTraceChange, traceWatch, tracing } from '../trace/trace';
import { FdTable } from './fd-table';
import { type AsyncOptions, abortError, closedError } from './options';
import { PROBE_FIRST, type ReadState, type Readiness, atOnce, markBlocked, refillBudget, triedRead } from './at-once';
import { ReadWindow, wouldBlock } from './window';

const { UV_READABLE, UV_WRITABLE, UV_DISCONNECT, READ_DONE, ARM_RELEASE, ARM_SHIFT, SET_HOLD, ADDR_SLOT, ENTRY } = native.uv;

/** A pending operation. */
export interface Waiter {
  readonly syscall: string;
  /** Makes the non-blocking call; true once the operation has settled (resolved or rejected). */
  attempt(): boolean;
  /** Settles the operation with an error (close, abort, timeout). */
  fail(err: Error): void;
}

/** Poller.setup()'s last entry: which of the constructor's calls failed (native/watcher.cc `Failed`). */
const WATCH_OK = 0;
const WATCH_GETSOCKOPT = 1;
const WATCH_CALLS = ['', 'getsockopt', 'epoll_ctl', 'uv_poll_init'] as const;

let serials = 0;

class Watch implements ReadState {
  readonly poller: Poller;
  /** The number native.pollerSet knows the Poller by (an instance method would pay napi_unwrap per call). */
  private readonly pollerId: number;
  /** Tells this watcher's reports from those of an earlier watcher of the same number. */
  readonly serial = (serials = (serials + 1) | 0);
  readonly readers: Waiter[] = [];
  readonly writers: Waiter[] = [];
  /**
   * What the uv_poll watches. Readability stays watched after the last reader has gone, until it is
   * reported with nobody waiting: uv_poll_start and uv_poll_stop each cost epoll_ctl calls, which a
   * socket read in a loop would otherwise pay twice per read. Writability, nearly always true, is
   * watched only while a writer waits.
   */
  private events = 0;
  /** Whether the uv handle is referenced (keeps the loop alive): only while an operation waits. */
  private holding = true;
  /**
   * The reader whose window the native watcher will fill itself when readability comes (always the
   * first reader, when it is a plain read or recv), so that JavaScript is called with the byte count
   * instead of crossing back to make the call; and whether the watcher lets the loop go after it.
   */
  private armed: Pending<unknown> | null = null;
  private releaseAfter = false;
  referenced = true;
  // Whether a read or accept is made at once or waits for epoll: src/async/at-once.ts's ReadState.
  // (Accept's is kept apart: shared, an accept that had to wait made the next read wait for a
  // readability that never comes.)
  readBlocked = false;
  readDeferred = 0;
  probeMask = PROBE_FIRST;
  acceptBlocked = false;

  constructor(readonly fd: number, referenced: boolean) {
    // uv_poll_init also puts the descriptor in non-blocking mode, which every call here relies on.
    // The reactor reports this watcher by number and serial, and flush() finds it in `watches`: nothing
    // native holds the Watch, so a closed descriptor's Watch and Poller are collected (test/leak.test.ts).
    this.poller = new native.Poller(reactor, fd, this.serial);
    const setup = this.poller.setup();
    if (tracing()) traceWatch(fd, setup);
    const [, , rc, failed, id] = setup;
    this.pollerId = id;
    if (failed !== WATCH_OK) {
      const err = errnoException(failed === WATCH_GETSOCKOPT ? setup[0] : rc, WATCH_CALLS[failed]);
      if (err.code === 'EEXIST') {
        err.message += ` (descriptor ${fd} is already watched by another owner on this thread, such as a Node net socket: use the sync API on it, or hand it over with toNetSocket)`;
      }
      throw err;
    }
    this.referenced = referenced;
    if (!referenced) this.sync(0, false, null);
  }

  /** Brings the watcher in line with the queues; `dropReadable`: readability came with no reader. */
  update(dropReadable = false): void {
    // An idle watcher may stay started (see `events`), so it is unreferenced instead: an idle socket
    // never keeps the process alive.
    const readers = this.readers.length;
    const hold = this.referenced && (readers > 0 || this.writers.length > 0);
    const keepReadable = !dropReadable && (this.events & UV_READABLE) !== 0;
    const want = (readers > 0 || keepReadable ? UV_READABLE : 0) | (this.writers.length ? UV_WRITABLE : 0);
    const head = readers > 0 ? this.readers[0] : undefined;
    const arm = head instanceof Pending && head.win !== undefined && !tracing() ? (head as Pending<unknown>) : null;
    if (hold === this.holding && want === this.events && arm === this.armed) return;
    this.sync(want, hold, arm);
  }

  /** One crossing: the native watcher's events, reference and armed read, as the queues want them. */
  private sync(want: number, hold: boolean, arm: Pending<unknown> | null): void {
    const releaseAfter = arm !== null && hold && this.readers.length === 1 && this.writers.length === 0;
    const flags = want | (hold ? SET_HOLD : 0);
    const rc = arm === null
      ? native.pollerSet(this.pollerId, this.serial, flags)
      : native.pollerSet(this.pollerId, this.serial, flags | (arm.win!.kind << ARM_SHIFT) | (releaseAfter ? ARM_RELEASE : 0),
        arm.win!.buf, arm.win!.offset, arm.win!.length);
    this.holding = hold;
    this.armed = arm;
    this.releaseAfter = releaseAfter;
    if (rc < 0) {
      this.events = 0;
      this.failAll(errnoException(rc, 'epoll_ctl'));
      return;
    }
    this.events = want;
  }

  onPoll(status: number, events: number, result: number, addrs: Uint8Array, slot: number): void {
    const done = this.armed;
    if (events & READ_DONE && done !== null) {
      // The native watcher made the armed read: settle that reader with its result.
      this.armed = null;
      if (this.releaseAfter) this.holding = false;
      // A read that filled its window may have left more (a readExactly's window says nothing: it is
      // the size of what the caller waits for).
      if (result > 0 && result === done.win!.length && !done.win!.exact) triedRead(this, false);
      const settled = done.complete(result, addrs, slot);
      // The first reader: it was armed as the head of the queue (shift, not splice: no array made).
      if (settled) {
        if (this.readers[0] === done) this.readers.shift();
        else if (this.readers.includes(done)) this.readers.splice(this.readers.indexOf(done), 1);
      }
      // That read took what was there: a readExactly still short waits for the next readability
      // (update() arms its new window); the readers behind a settled one still try theirs.
      if (!settled || this.readers.length === 0) events &= ~(UV_READABLE | UV_DISCONNECT | READ_DONE);
    }
    if (status < 0) {
      // libuv reports POLLERR this way and stops the watcher: let every waiter make its call, which
      // returns the real error (ECONNREFUSED from SO_ERROR, ECONNRESET from read…).
      this.events = 0;
      events = UV_READABLE | UV_WRITABLE;
      this.readBlocked = this.acceptBlocked = false;
    }
    // Readable with nobody waiting (data came while idle): stop watching, or level-triggered epoll
    // would report it on every turn of the loop until someone reads; the next read tries at once.
    const unwanted = (events & (UV_READABLE | UV_DISCONNECT)) !== 0 && this.readers.length === 0;
    if (unwanted) this.readBlocked = this.acceptBlocked = false;
    if (events & (UV_READABLE | UV_DISCONNECT)) drain(this.readers);
    if (events & UV_WRITABLE) drain(this.writers);
    this.update(unwanted);
  }

  failAll(err: Error): void {
    this.armed = null; // every reader goes: the next sync() disarms the native side
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

const watches = new FdTable<Watch>();

/**
 * Once per loop turn (native/watcher.cc): every watcher epoll reported, as [fd, serial, status, events,
 * result] entries. Each is handled even if an earlier one throws (which would be a bug here: callers'
 * code only runs later, in promise reactions); the first error is then rethrown, as uncaught.
 */
function flush(batch: Int32Array, count: number, addrs: Uint8Array): void {
  refillBudget();
  let failure: unknown;
  let failed = false;
  for (let i = 0, e = 0; i < count; i++, e += ENTRY) {
    const w = watches.get(batch[e]);
    if (w === undefined || w.serial !== batch[e + 1]) continue; // closed since: its waiters have failed
    try {
      w.onPoll(batch[e + 2], batch[e + 3], batch[e + 4], addrs, i * ADDR_SLOT);
    } catch (err) {
      if (!failed) {
        failed = true;
        failure = err;
      }
    }
  }
  if (failed) throw failure;
}

const reactor = new native.Reactor(flush);

// Tracing on: disarm every waiting read (JavaScript makes the calls, through the trace); off: re-arm.
onTraceChange(() => {
  for (const w of watches.values()) w.update();
});
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

/**
 * Whether a call on `fd` may be made at once, as operate() would: not aborted, nothing queued before
 * it. Creates the watcher first, which makes the descriptor non-blocking.
 */
export function callableNow(fd: number, write: boolean, options: AsyncOptions): boolean {
  if (options.signal?.aborted) return false;
  const w = watchOf(fd);
  return (write ? w.writers : w.readers).length === 0;
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

// One executor for every pending operation: it leaves the new promise's resolving functions here for
// operate() to take at once (and clear, so no settled promise is kept alive), so that no closure
// (and context) is allocated per operation.
const unset = (): void => {};
const captured: { resolve: (value: unknown) => void; reject: (reason: unknown) => void } = { resolve: unset, reject: unset };
function capture(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve as (value: unknown) => void;
  captured.reject = reject;
}

/**
 * The watcher of `fd` when a readiness read (read, recv) may be made at once, by operate()'s rule
 * (not aborted, nothing queued, not deferred to epoll, within the budget): the caller makes it itself
 * and hands the result to readMadeNow(); if that would block, it hands operate() its window with
 * `waitFirst` (the decision is taken). Undefined when it must wait: the same call to operate().
 * This saves a read that finds data its ReadWindow.
 */
export function readableNow(fd: number, options: AsyncOptions): Watch | undefined {
  if (options.signal?.aborted) return undefined;
  const watch = watchOf(fd);
  return atOnce(watch, watch.readers, true) ? watch : undefined;
}

/** The outcome of a read made at once (see readableNow): settled, or undefined when it would block. */
export function readMadeNow(watch: Watch, rc: number, syscall: string): Promise<number> | undefined {
  triedRead(watch, wouldBlock(rc));
  if (rc >= 0) return Promise.resolve(rc);
  return watch.readBlocked ? undefined : Promise.reject(errnoException(rc, syscall));
}

// How operate() makes a call: these or'ed together; 0 is a reader that tries at once (recv with flags).

/** A writer: it waits for writability, in the writers' queue. */
export const WRITER = 1;
/**
 * Wait for readiness before the first call: connect must see writability before SO_ERROR means
 * anything, and a caller that made the call itself already has its answer.
 */
export const WAIT_FIRST = 2;
/** A read (read, recv or recvfrom with no flags) that succeeds exactly when epoll reports readability. */
export const READY_READ = 4;
/** An accept, which succeeds exactly when epoll reports readability (Watch.acceptBlocked). */
export const READY_ACCEPT = 8;

/**
 * Runs `call` now if nothing is queued ahead of it (unless WAIT_FIRST); if it would block, queues it
 * until the descriptor is ready (as a reader, or a WRITER). `call` returns undefined while it would
 * block, else the result. A READY_READ or READY_ACCEPT call may wait for readiness without trying
 * first (see Watch.readBlocked); not MSG_OOB or MSG_ERRQUEUE, whose readiness epoll does not report.
 */
export function operate<T>(
  fd: number, syscall: string, options: AsyncOptions, call: (() => T | undefined) | ReadWindow, how = 0,
): Promise<T> {
  const write = (how & WRITER) !== 0;
  const waitFirst = (how & WAIT_FIRST) !== 0;
  const readiness: Readiness = how & READY_ACCEPT ? 'accept' : (how & READY_READ) !== 0;
  const { signal, timeout } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const watch = watchOf(fd);
  const queue = write ? watch.writers : watch.readers;
  if (!waitFirst && atOnce(watch, queue, readiness)) {
    try {
      const v = typeof call === 'function' ? call() : (call.call() as T | undefined);
      markBlocked(watch, readiness, v === undefined);
      if (v !== undefined) return Promise.resolve(v);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  const waiter = new Pending<T>(syscall, call, watch, queue, readiness, signal);
  const promise = new Promise<T>(capture);
  waiter.resolve = captured.resolve as (value: T) => void;
  waiter.reject = captured.reject;
  captured.resolve = captured.reject = unset;
  if (signal !== undefined) {
    waiter.onAbort = () => waiter.cancel(abortError(signal));
    signal.addEventListener('abort', waiter.onAbort, { once: true });
  }
  if (timeout !== undefined) {
    waiter.timer = setTimeout(() => waiter.cancel(errnoException(-osConstants.errno.ETIMEDOUT, syscall)), timeout);
    if (!watch.referenced) waiter.timer.unref();
  }
  queue.push(waiter);
  watch.update();
  return promise;
}

/** A queued operate() call: one object rather than a closure per method, as thousands may wait. */
class Pending<T> implements Waiter {
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  timer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** A read the native watcher may make itself (Watch.armed). */
  readonly win: ReadWindow | undefined;
  private readonly call: (() => T | undefined) | undefined;

  constructor(
    readonly syscall: string,
    call: (() => T | undefined) | ReadWindow,
    private readonly watch: Watch,
    private readonly queue: Waiter[],
    private readonly readiness: Readiness,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (typeof call === 'function') {
      this.call = call;
      this.win = undefined;
    } else {
      this.call = undefined;
      this.win = call;
    }
  }

  attempt(): boolean {
    let v: T | undefined;
    try {
      v = this.call !== undefined ? this.call() : (this.win!.call() as T | undefined);
    } catch (e) {
      this.done();
      this.reject(e);
      return true;
    }
    if (v === undefined) {
      markBlocked(this.watch, this.readiness, true);
      return false;
    }
    this.done();
    this.resolve(v);
    return true;
  }

  /**
   * The native watcher made this read (bytes, or -errno): true once settled; false while an exact
   * read wants more, and waits again with its window advanced.
   */
  complete(rc: number, addrs: Uint8Array, slot: number): boolean {
    const win = this.win!;
    if (rc < 0) {
      this.fail(win.error(rc));
      return true;
    }
    const v = win.result(rc, addrs, slot);
    if (v === undefined) return false;
    this.done();
    this.resolve(v as T);
    return true;
  }

  fail(err: Error): void {
    this.done();
    this.reject(this.win !== undefined ? this.win.progress(err) : err);
  }

  /** Leaves the queue without touching the socket: the call was never made, so it stays usable. */
  cancel(err: Error): void {
    const i = this.queue.indexOf(this);
    if (i >= 0) this.queue.splice(i, 1);
    this.watch.update();
    this.fail(err);
  }

  private done(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
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
  w.update();
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
  w.update();
}
