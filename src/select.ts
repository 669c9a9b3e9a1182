// Waiting on several descriptors at once: select(2) with its fd_set macros, and poll(2). Both are
// synchronous and block up to their timeout; `berkeley-sockets/promises` has a poll that does not.
import { native } from './binding';
import { FD_SETSIZE } from './constants';
import { errnoException, invalidArgType, outOfRange } from './errors';
import { type Fd, checkFd } from './handle';
import { checkInt, checkInt32 } from './validate';

/**
 * An `fd_set`, for code that follows C line by line:
 * `FD_ZERO(rfds); FD_SET(0, rfds); FD_SET(sock, rfds); select(sock.fd + 1, rfds, null, null, null)`.
 * A descriptor outside 0..FD_SETSIZE-1 is a RangeError, never a write past the set.
 */
export class FdSet {
  readonly #fds = new Set<number>();

  /** The descriptors in the set, ascending. */
  get fds(): number[] {
    return [...this.#fds].sort((a, b) => a - b);
  }
  has(fd: Fd): boolean {
    return this.#fds.has(setFd(fd));
  }
  add(fd: Fd): void {
    this.#fds.add(setFd(fd));
  }
  delete(fd: Fd): void {
    this.#fds.delete(setFd(fd));
  }
  clear(): void {
    this.#fds.clear();
  }
  /** @internal select() stores its result here. */
  replace(fds: Iterable<number>): void {
    this.#fds.clear();
    for (const fd of fds) this.#fds.add(fd);
  }
}

function setFd(fd: Fd): number {
  const n = checkFd(fd, 'select');
  if (n >= FD_SETSIZE) throw outOfRange('fd', `< FD_SETSIZE (${FD_SETSIZE}); use poll() for larger descriptors`, n);
  return n;
}

/** FD_ZERO(3): empties the set. */
export function FD_ZERO(set: FdSet): void {
  set.clear();
}
/** FD_SET(3): adds `fd` to the set. */
export function FD_SET(fd: Fd, set: FdSet): void {
  set.add(fd);
}
/** FD_CLR(3): removes `fd` from the set. */
export function FD_CLR(fd: Fd, set: FdSet): void {
  set.delete(fd);
}
/** FD_ISSET(3): whether `fd` is in the set (after select: whether it is ready). */
export function FD_ISSET(fd: Fd, set: FdSet): boolean {
  return set.has(fd);
}

/** A select timeout: milliseconds, a C `struct timeval`, or null to wait forever. */
export type SelectTimeout = number | { tv_sec: number; tv_usec: number } | null;

function timeoutUs(timeout: SelectTimeout | undefined): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout === 'number') {
    if (!(timeout >= 0) || !Number.isFinite(timeout)) throw outOfRange('timeout', 'a finite number >= 0 (ms), or null', timeout);
    return Math.round(timeout * 1000);
  }
  if (typeof timeout === 'object') {
    return checkInt(timeout.tv_sec, 'timeout.tv_sec', 0, 2 ** 31 - 1) * 1e6 + checkInt(timeout.tv_usec, 'timeout.tv_usec', 0, 999_999);
  }
  throw invalidArgType('timeout', 'a number, a timeval or null', timeout);
}

/** What the list form of select() returns: the descriptors that are ready, as they were passed. */
export interface SelectResult<T extends Fd = Fd> {
  readable: T[];
  writable: T[];
  exceptional: T[];
}

function toArray(list: readonly Fd[] | FdSet | null | undefined, name: string): Int32Array {
  if (list === null || list === undefined) return new Int32Array(0);
  if (list instanceof FdSet) return Int32Array.from(list.fds);
  if (!Array.isArray(list)) throw invalidArgType(name, 'an array of descriptors, an FdSet or null', list);
  return Int32Array.from(list, setFd);
}

/**
 * select(2), in two forms.
 *
 * C form — `select(nfds, readfds, writefds, exceptfds, timeout)` with FdSets (or null): blocks until a
 * descriptor below `nfds` is ready or the timeout passes, leaves only the ready descriptors in each set,
 * and returns how many there are (0 on timeout).
 *
 * List form — `select(readList, writeList, exceptList, timeout)` with arrays of handles or numbers
 * (stdin's 0 included): returns the ready subsets, as Python's select.select does.
 *
 * `timeout` is in milliseconds, or a `{ tv_sec, tv_usec }` timeval; null waits forever.
 */
export function select(nfds: number, readfds: FdSet | null, writefds: FdSet | null, exceptfds: FdSet | null, timeout?: SelectTimeout): number;
export function select<T extends Fd>(read: readonly T[], write?: readonly T[] | null, except?: readonly T[] | null, timeout?: SelectTimeout): SelectResult<T>;
export function select(a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): number | SelectResult {
  if (typeof a === 'number') {
    const nfds = checkInt(a, 'nfds', 0, FD_SETSIZE);
    const sets = [b, c, d] as (FdSet | null)[];
    // As C passes them: a null set is NULL, and nfds is the caller's (select ignores fds >= nfds).
    const arrays = sets.map((s, i) => {
      if (s === null || s === undefined) return null;
      if (!(s instanceof FdSet)) throw invalidArgType(['readfds', 'writefds', 'exceptfds'][i], 'an FdSet or null', s);
      return Int32Array.from(s.fds.filter((fd) => fd < nfds));
    });
    const rc = native.select(arrays[0], arrays[1], arrays[2], timeoutUs(e as SelectTimeout), nfds);
    if (rc < 0) throw errnoException(rc, 'select');
    sets.forEach((s, i) => s?.replace(arrays[i]!.filter((fd) => fd >= 0)));
    return rc;
  }
  const lists = [a, b, c] as (readonly Fd[] | null | undefined)[];
  const arrays = lists.map((l, i) => toArray(l, ['read', 'write', 'except'][i]));
  const rc = native.select(arrays[0], arrays[1], arrays[2], timeoutUs(d as SelectTimeout));
  if (rc < 0) throw errnoException(rc, 'select');
  const pick = (l: readonly Fd[] | null | undefined, arr: Int32Array) => (l ?? []).filter((_, i) => arr[i] >= 0);
  return { readable: pick(lists[0], arrays[0]), writable: pick(lists[1], arrays[1]), exceptional: pick(lists[2], arrays[2]) };
}

/** One entry of poll(): the descriptor, the events wanted, and (after the call) the events that happened. */
export interface PollFd<T extends Fd = Fd> {
  fd: T;
  /** POLLIN | POLLOUT | POLLPRI | POLLRDHUP… */
  events: number;
  /** Filled in by poll(): POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL… (0 if nothing happened). */
  revents?: number;
}

/** @internal Packs entries as [fd, events, revents] triples for the addon. */
export function packPollFds(fds: readonly PollFd[]): Int32Array {
  if (!Array.isArray(fds)) throw invalidArgType('fds', 'an array of { fd, events }', fds);
  const t = new Int32Array(fds.length * 3);
  // An index loop, not forEach, which skips the holes of a sparse array: each would poll fd 0.
  for (let i = 0; i < fds.length; i++) {
    const p = fds[i];
    if (p === null || typeof p !== 'object') throw invalidArgType(`fds[${i}]`, 'an object { fd, events }', p);
    t[3 * i] = checkFd(p.fd, 'poll');
    t[3 * i + 1] = checkInt32(p.events, `fds[${i}].events`);
  }
  return t;
}

/** @internal Copies revents back into the caller's entries. */
export function unpackRevents(fds: readonly PollFd[], t: Int32Array): void {
  fds.forEach((p, i) => {
    p.revents = t[3 * i + 2];
  });
}

/**
 * poll(2): waits until one of the descriptors has one of its `events` (or an error/hangup), or
 * `timeout` ms pass (-1, the default, waits forever; 0 just checks). Fills in each entry's `revents`
 * and returns how many entries have a non-zero one. No FD_SETSIZE limit. EINTR is retried with the
 * time left, after the listeners of the signal ran (see README "Guarantees").
 */
export function poll<T extends Fd>(fds: PollFd<T>[], timeout = -1): number {
  const t = packPollFds(fds);
  const rc = native.poll(t, checkInt(timeout, 'timeout', -1, 2 ** 31 - 1));
  if (rc < 0) throw errnoException(rc, 'poll');
  unpackRevents(fds, t);
  return rc;
}
