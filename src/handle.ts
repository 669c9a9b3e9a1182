// Descriptor ownership. A SocketHandle owns one kernel descriptor until close() or release();
// afterwards its number is forgotten, so no call can reach a descriptor number that the kernel may
// already have handed to another file.
import { inspect } from 'node:util';
import { native } from './binding';
import { errnoException, invalidArgType, invalidArgValue, outOfRange } from './errors';
import { INT32_MAX } from './validate';
import { EBADF } from './constants';

// The async layer (async/reactor.ts) registers here to stop watching a descriptor before it is closed or
// released: epoll must never be left holding a number that may be reused.
let closeHook: ((fd: number) => void) | undefined;

/** @internal */
export function setCloseHook(hook: (fd: number) => void): void {
  closeHook = hook;
}

/** @internal Stop any watcher on `fd`: called before close(2) and before ownership leaves. */
export function beforeClose(fd: number): void {
  if (closeHook !== undefined) closeHook(fd);
}

// Where the number a new handle takes comes from: the caller (`new SocketHandle(n)`, which must not
// take a number another handle owns), the kernel (a call of this library just created it: any watcher
// still keyed by it is stale), or fromFd() (an open descriptor adopted: a watcher on it is the same file's).
const FROM_CALLER = 0;
const FROM_KERNEL = 1;
const ADOPTED = 2;
let origin = FROM_CALLER;

/**
 * Descriptor numbers owned by a live SocketHandle of this thread (one owner each; see fromFd): a byte
 * per number, as descriptors are small and dense (a Set costs a hash insert and delete per socket);
 * numbers beyond OWNED_DENSE (dup2 to a high number) go to a Set.
 */
const OWNED_DENSE = 1 << 20;
let ownedBytes = new Uint8Array(1024);
const ownedHigh = new Set<number>();
// The addon reads the same bytes when this environment is torn down (a Worker ending with sockets
// open): it closes what is still owned there. Numbers past OWNED_DENSE are not in the table.
native.setOwnedTable(ownedBytes);

function own(fd: number): void {
  if (fd >= OWNED_DENSE) {
    ownedHigh.add(fd);
    return;
  }
  if (fd >= ownedBytes.length) {
    let size = ownedBytes.length * 2;
    while (size <= fd) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(ownedBytes);
    ownedBytes = grown;
    native.setOwnedTable(ownedBytes);
  }
  ownedBytes[fd] = 1;
}

function disown(fd: number): void {
  if (fd < ownedBytes.length) ownedBytes[fd] = 0;
  else if (fd >= OWNED_DENSE) ownedHigh.delete(fd);
}

function isOwned(fd: number): boolean {
  return fd < ownedBytes.length ? ownedBytes[fd] === 1 : ownedHigh.has(fd);
}

/**
 * A handle collected while still open leaks its descriptor, as a dropped int does in C. It is not
 * closed then: the garbage collector picks the moment, and code that kept the number (`h.fd`) would
 * lose its socket at a random time. The program is told instead (a 'ResourceWarning', as Python's
 * socket gives), and the number is no longer owned, so fromFd() can adopt it again.
 */
const unclosed = new FinalizationRegistry<number>((fd) => {
  disown(fd);
  process.emitWarning(
    `descriptor ${fd} was never closed: its SocketHandle was garbage-collected, and the socket stays open ` +
      'until the process exits. Call close(), or declare the handle with `using`.',
    { type: 'ResourceWarning', code: 'BERKELEY_SOCKETS_UNCLOSED' },
  );
});

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

/**
 * An open socket descriptor, returned by `socket()`, `accept()`, `socketpair()` and `fromFd()`.
 * `fd` is the kernel's number (as `strace` shows it), or -1 once closed or released.
 */
export class SocketHandle<F extends number = number> {
  #fd: number;
  #registered = false;

  /**
   * Handles not registered with `unclosed` yet. Registering costs ~1 µs per handle here (a WeakCell,
   * and the object's identity hash for the unregister token), which a handle closed soon after it was
   * made (a connection served and closed, a probe socket) need never pay: registration waits until
   * the current job's microtasks, or until 1,024 handles are waiting (a synchronous loop). Until then
   * `#fresh` holds them, so none can be collected unregistered.
   */
  static #fresh: SocketHandle[] = [];
  static #queued = false;

  static #registerFresh(): void {
    SocketHandle.#queued = false;
    const fresh = SocketHandle.#fresh;
    for (let i = 0; i < fresh.length; i++) {
      const h = fresh[i];
      if (h.#fd >= 0 && !h.#registered) {
        h.#registered = true;
        unclosed.register(h, h.#fd, h);
      }
    }
    fresh.length = 0;
  }
  /** Type-only: the domain the socket was created in, so addresses it returns are typed (family.ts). */
  declare private readonly _domain: F;

  /** Takes ownership of `fd`; prefer `fromFd()`, which checks the number is open. */
  constructor(fd: number) {
    const from = origin;
    origin = FROM_CALLER;
    // A fraction would be truncated by the addon to another descriptor's number: refuse it here.
    if (typeof fd !== 'number') throw invalidArgType('fd', 'of type number', fd);
    if (!Number.isInteger(fd) || fd < 0 || fd > INT32_MAX) throw outOfRange('fd', `an integer >= 0 && <= ${INT32_MAX}`, fd);
    if (from === FROM_CALLER && isOwned(fd)) {
      throw invalidArgValue('fd', fd, 'is already owned by a SocketHandle (release() it first, or use that handle)');
    }
    this.#fd = fd;
    own(fd);
    // The kernel just gave this number to a new file (socket, accept, socketpair, SCM_RIGHTS…). A
    // watcher still keyed by it belongs to a file closed behind the library's back (fs.closeSync, a
    // released number closed by its new owner): it would treat the new socket as non-blocking when it
    // is not, and its first read would block the event loop. Drop it; the next async call makes a new one.
    if (closeHook !== undefined && from === FROM_KERNEL) closeHook(fd);
    const fresh = SocketHandle.#fresh;
    fresh.push(this);
    if (fresh.length >= 1024) SocketHandle.#registerFresh();
    else if (!SocketHandle.#queued) {
      SocketHandle.#queued = true;
      queueMicrotask(SocketHandle.#registerFresh);
    }
  }

  /** Forgets the number: it is closed or given away. */
  #forget(fd: number): void {
    this.#fd = -1;
    disown(fd);
    if (this.#registered) unclosed.unregister(this);
  }

  /** The descriptor number, or -1 after `close()`/`release()`. */
  get fd(): number {
    return this.#fd;
  }

  /** True once `close()` or `release()` has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * close(2). Idempotent: the number is forgotten first, and a second call does nothing. EINTR is not
   * retried (the descriptor is gone on Linux either way).
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#forget(fd);
    beforeClose(fd);
    const rc = native.close(fd);
    if (rc < 0) throw errnoException(rc, 'close');
  }

  /**
   * Gives up ownership without closing: returns the number and leaves this handle closed. Use it to
   * hand the descriptor to `new net.Socket({ fd })`, a child process, or other code that will close it.
   */
  release(): number {
    const fd = this.#fd;
    if (fd < 0) throw errnoException(-EBADF, 'release');
    this.#forget(fd);
    beforeClose(fd);
    return fd;
  }

  /** `using s = socket(...)` closes the socket at the end of the block. */
  [disposeSymbol](): void {
    this.close();
  }

  toJSON(): { fd: number } {
    return { fd: this.#fd };
  }

  [inspect.custom](): string {
    return this.#fd < 0 ? 'SocketHandle { closed }' : `SocketHandle { fd: ${this.#fd} }`;
  }
}

/** @internal A handle for a descriptor a system call of this library just created (socket, accept…). */
export function newHandle<F extends number = number>(fd: number): SocketHandle<F> {
  origin = FROM_KERNEL;
  return new SocketHandle<F>(fd);
}

/** What every call accepts as a socket: a handle, or a raw descriptor number it does not own. */
export type Fd = SocketHandle<number> | number;

/**
 * The descriptor number behind `fd`, checked: a closed handle is EBADF (without reaching the kernel), a
 * number must be an integer in 0..2^31-1.
 */
export function checkFd(fd: Fd, syscall: string): number {
  if (fd instanceof SocketHandle) {
    const n = fd.fd;
    if (n < 0) throw errnoException(-EBADF, syscall);
    return n;
  }
  if (typeof fd === 'number') {
    if ((fd | 0) === fd && fd >= 0) return fd;
    throw outOfRange('fd', `an integer >= 0 && <= ${INT32_MAX}`, fd);
  }
  throw invalidArgType('fd', 'a SocketHandle or a descriptor number', fd);
}

/**
 * Wraps an existing descriptor (inherited from a parent, received over a UNIX socket, or taken from
 * Node's `net.Socket._handle.fd`) in a handle that now owns it. fcntl(2) checks that it is open: a
 * closed number is an EBADF SystemError.
 */
export function fromFd<F extends number = number>(fd: number): SocketHandle<F> {
  // A handle already owns its number: adopting it again would make two owners, and two closes.
  if (typeof fd !== 'number') throw invalidArgType('fd', 'of type number (a descriptor not owned by a SocketHandle)', fd);
  const n = checkFd(fd, 'fcntl');
  if (isOwned(n)) throw invalidArgValue('fd', n, 'is already owned by a SocketHandle (release() it first, or use that handle)');
  const rc = native.fcntl(n, native.constants.F_GETFD, 0);
  if (rc < 0) throw errnoException(rc, 'fcntl');
  origin = ADOPTED;
  return new SocketHandle<F>(n);
}
