// epoll(7) with its C names: epoll_create1(2), epoll_ctl(2), epoll_wait(2). Linux only: elsewhere each
// call fails with ENOSYS, as a kernel without the system call answers (native/platform_other.cc).
// Synchronous, as the rest of the root module: epoll_wait blocks like C's, and a handled signal neither
// ends it early nor makes it report a timeout early (README "Guarantees").
import { native } from './binding';
import { LITTLE } from './byteorder';
import { EPOLL_CTL_DEL } from './constants';
import { errnoException, invalidArgType, outOfRange } from './errors';
import { type Fd, SocketHandle, checkFd, newHandle } from './handle';
import { INT32_MAX, checkInt, checkInt32 } from './validate';

/**
 * The most events one epoll_wait may return here: 65,536 structures (768 KiB). The kernel's own bound,
 * INT_MAX / sizeof(struct epoll_event), would let one call ask for a 2 GiB array.
 */
export const EPOLL_MAX_EVENTS = 65536;

/** What epoll_wait reports, as C's `struct epoll_event`: the events that happened, and the data given to epoll_ctl. */
export interface EpollEvent {
  /** EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP… (an unsigned 32-bit value). */
  events: number;
  /** `epoll_data_t.u64`, as epoll_ctl set it (the descriptor's number unless given). */
  data: number;
}

/** The event epoll_ctl registers: `events` wanted, and `data` (defaults to the descriptor's number). */
export interface EpollEventInput {
  /** EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE… */
  events: number;
  /**
   * What epoll_wait hands back with the event: C's `epoll_data_t`, as its `u64`. An integer from 0 to
   * 2^53 - 1 (Number.MAX_SAFE_INTEGER); C's `ev.data.fd = fd` is the default.
   */
  data?: number;
}

const layout = native.epollLayout;
// struct epoll_event is 12 bytes on x86-64 (packed) and 16 elsewhere, its fields 4-byte aligned in
// both: read as uint32s, `data` as its two halves in this machine's byte order.
const STRIDE = layout.size / 4;
const EVENTS = layout.events / 4;
const DATA_LO = layout.data / 4 + (LITTLE ? 0 : 1);
const DATA_HI = layout.data / 4 + (LITTLE ? 1 : 0);
const TWO_32 = 2 ** 32;

let setCount: (events: EpollEvents, n: number) => void;

/**
 * C's `struct epoll_event events[maxevents]`: an array the kernel fills, made once and passed to every
 * `epoll_wait(epfd, events, maxevents, timeout)` — the call then allocates nothing. After the call,
 * `events.events(i)` and `events.data(i)` read entry `i` (0 ≤ i < the count it returned, also
 * `events.count`):
 *
 * ```ts
 * const events = new EpollEvents(64);
 * const n = epoll_wait(epfd, events, 64, -1);
 * for (let i = 0; i < n; i++) if (events.events(i) & EPOLLIN) serve(events.data(i));
 * ```
 */
export class EpollEvents {
  /** How many structures the array holds: the largest `maxevents` it can take. */
  readonly length: number;
  /** The array's bytes, as the kernel writes them (`length` × sizeof(struct epoll_event)). */
  readonly bytes: Uint8Array;
  readonly #words: Uint32Array;
  #count = 0;

  static {
    setCount = (events, n) => {
      events.#count = n;
    };
  }

  /** An array of `maxevents` (1..EPOLL_MAX_EVENTS) struct epoll_event. */
  constructor(maxevents: number) {
    this.length = checkInt(maxevents, 'maxevents', 1, EPOLL_MAX_EVENTS);
    this.#words = new Uint32Array(maxevents * STRIDE);
    this.bytes = new Uint8Array(this.#words.buffer);
  }

  /** How many entries the last epoll_wait filled (0 before the first). */
  get count(): number {
    return this.#count;
  }

  /** `events[i].events`: what happened on entry `i` (an unsigned 32-bit value). */
  events(i: number): number {
    if (!((i >>> 0) === i && i < this.#count)) throw this.#outside(i);
    return this.#words[i * STRIDE + EVENTS];
  }

  /** `events[i].data.u64`: the data epoll_ctl registered for entry `i`'s descriptor. */
  data(i: number): number {
    if (!((i >>> 0) === i && i < this.#count)) throw this.#outside(i);
    const w = this.#words;
    const base = i * STRIDE;
    return w[base + DATA_HI] * TWO_32 + w[base + DATA_LO];
  }

  /** @internal The words the kernel writes, for epoll_wait. */
  get words(): Uint32Array {
    return this.#words;
  }

  #outside(i: unknown): Error {
    if (typeof i !== 'number') return invalidArgType('i', 'of type number', i);
    return outOfRange('i', `an integer >= 0 && < ${this.#count} (the count epoll_wait returned)`, i);
  }
}

/** The epoll descriptor: a handle or a number, checked under its own name. */
function epollFd(epfd: Fd, syscall: string): number {
  if (typeof epfd === 'number' && (epfd | 0) === epfd && epfd >= 0) return epfd;
  if (typeof epfd === 'number') throw outOfRange('epfd', `an integer >= 0 && <= ${INT32_MAX}`, epfd);
  if (!(epfd instanceof SocketHandle)) throw invalidArgType('epfd', 'a SocketHandle or a descriptor number', epfd);
  return checkFd(epfd, syscall);
}

/**
 * epoll_create1(2): a new epoll instance, as a handle that owns its descriptor (close() it, or declare
 * it with `using`). Always close-on-exec (EPOLL_CLOEXEC is added to `flags`, 0 by default).
 */
export function epoll_create1(flags = 0): SocketHandle {
  checkInt32(flags, 'flags');
  const fd = native.epoll_create1(flags);
  if (fd < 0) throw errnoException(fd, 'epoll_create1');
  return newHandle(fd);
}

/**
 * epoll_ctl(2): `op` is EPOLL_CTL_ADD (watch `fd` for `event.events`), EPOLL_CTL_MOD (change them, and
 * rearm an EPOLLONESHOT registration) or EPOLL_CTL_DEL (stop; `event` may be left out, as C passes
 * NULL). `event.data` is what epoll_wait reports with the descriptor's events: its number by default.
 * EEXIST, ENOENT, EBADF, EPERM (a regular file)… are SystemErrors.
 */
export function epoll_ctl(epfd: Fd, op: number, fd: Fd, event?: EpollEventInput | null): void {
  const ep = epollFd(epfd, 'epoll_ctl');
  checkInt32(op, 'op');
  const n = checkFd(fd, 'epoll_ctl');
  let rc: number;
  if (event === undefined || event === null) {
    if (op !== EPOLL_CTL_DEL) throw invalidArgType('event', 'an object { events, data? } (only EPOLL_CTL_DEL takes none)', event);
    rc = native.epoll_ctl(ep, op, n);
  } else {
    if (typeof event !== 'object') throw invalidArgType('event', 'an object { events, data? }', event);
    // EPOLLET is 1u << 31: `EPOLLIN | EPOLLET` is negative in JavaScript, the same 32 bits.
    const events = checkInt(event.events, 'event.events', -0x80000000, 0xffffffff) >>> 0;
    const data = event.data === undefined ? n : checkInt(event.data, 'event.data', 0, Number.MAX_SAFE_INTEGER);
    rc = native.epoll_ctl(ep, op, n, events, data % TWO_32, Math.floor(data / TWO_32));
  }
  if (rc < 0) throw errnoException(rc, 'epoll_ctl');
}

/** The array behind the list form, grown as needed: one per thread, never one per call. */
let scratch: EpollEvents | undefined;

/**
 * epoll_wait(2): waits until a descriptor of `epfd` has an event, or `timeout` ms pass (-1, the
 * default, waits forever; 0 only checks), and reports at most `maxevents` (1..EPOLL_MAX_EVENTS).
 *
 * `epoll_wait(epfd, maxevents, timeout)` returns the events as an array of `{ events, data }`.
 *
 * `epoll_wait(epfd, events, maxevents, timeout)` is C's call: the kernel fills `events` (an
 * EpollEvents of at least `maxevents` entries), the count is returned, and nothing is allocated.
 *
 * EINTR is retried with the time left, after the listeners of the signal ran (README "Guarantees").
 */
export function epoll_wait(epfd: Fd, maxevents: number, timeout?: number): EpollEvent[];
export function epoll_wait(epfd: Fd, events: EpollEvents, maxevents: number, timeout: number): number;
export function epoll_wait(epfd: Fd, a: number | EpollEvents, b?: number, c?: number): EpollEvent[] | number {
  const ep = epollFd(epfd, 'epoll_wait');
  if (a instanceof EpollEvents) {
    const max = typeof b === 'number' && (b | 0) === b && b >= 1 && b <= a.length ? b : checkInt(b, 'maxevents', 1, a.length);
    // All four arguments, as in C: `epoll_wait(ep, events, 100)` could mean 100 events or 100 ms.
    if (c === undefined) throw invalidArgType('timeout', 'of type number: epoll_wait(epfd, events, maxevents, timeout) takes four arguments, as in C', c);
    const t = typeof c === 'number' && (c | 0) === c && c >= -1 ? c : checkInt(c, 'timeout', -1, INT32_MAX);
    const rc = native.epoll_wait(ep, a.words, max, t);
    if (rc < 0) {
      setCount(a, 0);
      throw errnoException(rc, 'epoll_wait');
    }
    setCount(a, rc);
    return rc;
  }
  if (a !== null && typeof a === 'object') throw invalidArgType('events', 'an EpollEvents', a);
  const max = checkInt(a, 'maxevents', 1, EPOLL_MAX_EVENTS);
  const t = checkInt(b ?? -1, 'timeout', -1, INT32_MAX);
  // A signal listener may call epoll_wait while this call waits: it may replace `scratch`, but `ev`
  // is the array this call's kernel writes into.
  const ev = scratch !== undefined && scratch.length >= max ? scratch : (scratch = new EpollEvents(max));
  const rc = native.epoll_wait(ep, ev.words, max, t);
  if (rc < 0) throw errnoException(rc, 'epoll_wait');
  setCount(ev, rc);
  const out: EpollEvent[] = new Array(rc);
  for (let i = 0; i < rc; i++) out[i] = { events: ev.events(i), data: ev.data(i) };
  return out;
}
