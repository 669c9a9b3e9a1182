// Creating, naming, connecting and closing sockets: socket(2), socketpair(2), bind(2), listen(2),
// accept(2), connect(2), getsockname(2), getpeername(2), shutdown(2), close(2), fcntl(2).
// Each call checks its arguments, crosses once into the addon, and turns -errno into a SystemError.
import { native } from './binding';
import { F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK, SOCK_CLOEXEC } from './constants';
import { errnoException, invalidArgType, invalidArgValue } from './errors';
import type { AddressOf } from './family';
import { type Fd, SocketHandle, newHandle, beforeClose, checkFd } from './handle';
import { type SockaddrOut, addrOut, fillStruct, outLength, takeAddrOut, targetOf } from './addrout';
import { type SockaddrInput, sockaddrBytes } from './sockaddr';
import { checkInt32 } from './validate';

/**
 * socket(2): a new socket of `domain` (AF_INET, AF_INET6, AF_UNIX…), `type` (SOCK_STREAM, SOCK_DGRAM,
 * SOCK_SEQPACKET, SOCK_RAW, optionally | SOCK_NONBLOCK) and `protocol` (0 picks the default).
 * The descriptor is always close-on-exec. Returns a handle that owns it.
 */
export function socket<D extends number>(domain: D, type: number, protocol = 0): SocketHandle<D> {
  checkInt32(domain, 'domain');
  checkInt32(type, 'type');
  checkInt32(protocol, 'protocol');
  const fd = native.socket(domain, type, protocol);
  if (fd < 0) throw errnoException(fd, 'socket');
  return newHandle<D>(fd);
}

const pair = new Int32Array(2);

/**
 * socketpair(2): two connected, unnamed sockets (AF_UNIX on Linux), each close-on-exec.
 */
export function socketpair<D extends number>(domain: D, type: number, protocol = 0): [SocketHandle<D>, SocketHandle<D>] {
  checkInt32(domain, 'domain');
  checkInt32(type, 'type');
  checkInt32(protocol, 'protocol');
  const rc = native.socketpair(domain, type, protocol, pair);
  if (rc < 0) throw errnoException(rc, 'socketpair');
  return [newHandle<D>(pair[0]), newHandle<D>(pair[1])];
}

/**
 * close(2). On a handle: idempotent, forgets the number first (see SocketHandle.close). On a bare
 * number: closes it, and EBADF if it was not open.
 */
export function close(fd: Fd): void {
  if (fd instanceof SocketHandle) return fd.close();
  const n = checkFd(fd, 'close');
  beforeClose(n);
  const rc = native.close(n);
  if (rc < 0) throw errnoException(rc, 'close');
}

/** shutdown(2): SHUT_RD, SHUT_WR (sends FIN; the peer reads EOF) or SHUT_RDWR. */
export function shutdown(fd: Fd, how: number): void {
  const n = checkFd(fd, 'shutdown');
  checkInt32(how, 'how');
  const rc = native.shutdown(n, how);
  if (rc < 0) throw errnoException(rc, 'shutdown');
}

/**
 * bind(2): gives the socket its local address. Takes `{ family: AF_INET, address?, port }`
 * (address defaults to INADDR_ANY), `{ family: AF_INET6, address?, port, flowinfo?, scope_id? }`,
 * `{ family: AF_UNIX, path }`, a `sockaddr_in`/`sockaddr_in6`/`sockaddr_un` struct, or raw sockaddr
 * bytes. Port 0 lets the kernel choose (read it back with getsockname).
 */
export function bind(fd: Fd, addr: SockaddrInput): void {
  const n = checkFd(fd, 'bind');
  const bytes = sockaddrBytes(addr);
  const rc = native.bind(n, bytes);
  if (rc < 0) throw errnoException(rc, 'bind', targetOf(bytes));
}

/**
 * connect(2): for a stream socket, the three-way handshake (blocks until it completes, or fails with
 * ECONNREFUSED, ETIMEDOUT…; on a non-blocking socket, EINPROGRESS). For a datagram socket, sets the
 * default destination and filters what recv() returns.
 */
export function connect(fd: Fd, addr: SockaddrInput): void {
  const n = checkFd(fd, 'connect');
  const bytes = sockaddrBytes(addr);
  const rc = native.connect(n, bytes);
  if (rc < 0) throw errnoException(rc, 'connect', targetOf(bytes));
}

/**
 * listen(2): marks a stream socket passive, with a queue of `backlog` completed connections (the kernel
 * caps it at net.core.somaxconn; the default here is SOMAXCONN).
 */
export function listen(fd: Fd, backlog: number = native.constants.SOMAXCONN): void {
  const n = checkFd(fd, 'listen');
  checkInt32(backlog, 'backlog');
  const rc = native.listen(n, backlog);
  if (rc < 0) throw errnoException(rc, 'listen');
}

/** What accept() returns: the connected socket and the peer's address. */
export interface Accepted<F extends number = number> {
  fd: SocketHandle<F>;
  address: AddressOf<F>;
}

/** What accept() returns when given a struct to fill: the address is null if none was wanted (C's
 * NULL) or if it did not fit in the struct (an IPv6 peer in a sockaddr_in, which C would cut). */
export interface AcceptedInto<F extends number = number> {
  fd: SocketHandle<F>;
  address: AddressOf<F> | null;
}

/**
 * accept(2) (accept4 with SOCK_CLOEXEC): blocks until a client connects, then returns a new handle for
 * the connection and the client's address. `flags` may be SOCK_NONBLOCK. Retried on EINTR after the
 * listeners of the signal ran; a listener that throws ends the call (README "Guarantees").
 *
 * As in C, a struct may be given to be filled in place — `accept(s, addr)` is
 * `accept(s, (struct sockaddr *)&addr, &len)` with `len = sizeof addr`, and `accept(s, null)` is
 * `accept(s, NULL, NULL)` — so the call strace shows is the C program's. Without one, the library
 * passes a sockaddr_storage and decodes whatever family came.
 */
export function accept<F extends number>(fd: SocketHandle<F> | number, flags?: number): Accepted<F>;
export function accept<F extends number>(fd: SocketHandle<F> | number, addr: SockaddrOut | null, flags?: number): AcceptedInto<F>;
export function accept<F extends number>(fd: SocketHandle<F> | number, a?: unknown, b?: unknown): AcceptedInto<F> {
  const n = checkFd(fd, 'accept');
  const into = typeof a !== 'number' && a !== undefined;
  const asked = into ? outLength(a, 'addr') : undefined;
  const flags = checkInt32((into ? b : a) ?? 0, 'flags');
  const conn = asked === undefined ? native.accept(n, flags, addrOut) : native.accept(n, flags, addrOut, asked);
  if (conn < 0) throw errnoException(conn, 'accept');
  const handle = newHandle<F>(conn);
  try {
    if (!into) return { fd: handle, address: takeAddrOut() as AddressOf<F> };
    return { fd: handle, address: a === null ? null : (fillStruct(a as SockaddrOut, asked!) as AddressOf<F> | null) };
  } catch (e) {
    handle.close();
    throw e;
  }
}

/**
 * getsockname(2): the socket's own address (the port the kernel chose after bind to port 0).
 *
 * As in C, a struct may be given to be filled in place: `getsockname(s, addr)` is
 * `getsockname(s, (struct sockaddr *)&addr, &len)` with `len = sizeof addr`, so strace shows the C
 * program's call; it returns the address it filled in, or null if the address did not fit (as C would
 * cut it). Without one, the library passes a sockaddr_storage and decodes whatever family came.
 */
export function getsockname<F extends number>(fd: SocketHandle<F> | number): AddressOf<F>;
export function getsockname<F extends number>(fd: SocketHandle<F> | number, addr: SockaddrOut): AddressOf<F> | null;
export function getsockname<F extends number>(fd: SocketHandle<F> | number, addr?: SockaddrOut): AddressOf<F> | null {
  return getName(fd, addr, 'getsockname');
}

/** getpeername(2): the connected peer's address; ENOTCONN if there is none. A struct may be given to fill, as for getsockname. */
export function getpeername<F extends number>(fd: SocketHandle<F> | number): AddressOf<F>;
export function getpeername<F extends number>(fd: SocketHandle<F> | number, addr: SockaddrOut): AddressOf<F> | null;
export function getpeername<F extends number>(fd: SocketHandle<F> | number, addr?: SockaddrOut): AddressOf<F> | null {
  return getName(fd, addr, 'getpeername');
}

function getName<F extends number>(fd: SocketHandle<F> | number, addr: SockaddrOut | undefined, call: 'getsockname' | 'getpeername'): AddressOf<F> | null {
  const n = checkFd(fd, call);
  if (addr === null) throw invalidArgType('addr', 'a sockaddr_in, sockaddr_in6, sockaddr_un or sockaddr_ll', addr);
  const asked = outLength(addr, 'addr');
  const rc = asked === undefined ? native[call](n, addrOut) : native[call](n, addrOut, asked);
  if (rc < 0) throw errnoException(rc, call);
  return asked === undefined ? (takeAddrOut() as AddressOf<F>) : (fillStruct(addr!, asked) as AddressOf<F> | null);
}

/**
 * fcntl(2) for the flag commands: F_GETFL/F_SETFL (O_NONBLOCK) and F_GETFD/F_SETFD (FD_CLOEXEC).
 * Returns the flags for the GET commands, 0 for the SET ones. Other commands are refused.
 */
export function fcntl(fd: Fd, cmd: number, arg = 0): number {
  const n = checkFd(fd, 'fcntl');
  checkInt32(cmd, 'cmd');
  checkInt32(arg, 'arg');
  if (cmd !== F_GETFL && cmd !== F_SETFL && cmd !== F_GETFD && cmd !== F_SETFD) {
    throw invalidArgValue('cmd', cmd, 'must be F_GETFL, F_SETFL, F_GETFD or F_SETFD');
  }
  const rc = native.fcntl(n, cmd, arg);
  if (rc < 0) throw errnoException(rc, 'fcntl');
  return rc;
}

function setFlag(fd: Fd, get: number, set: number, bit: number, on: boolean): void {
  if (typeof on !== 'boolean') throw invalidArgType('on', 'of type boolean', on);
  const flags = fcntl(fd, get);
  const next = on ? flags | bit : flags & ~bit;
  if (next !== flags) fcntl(fd, set, next);
}

/** O_NONBLOCK through fcntl(2): calls that would block fail with EAGAIN instead. */
export function setNonBlocking(fd: Fd, on: boolean): void {
  setFlag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

/** Whether O_NONBLOCK is set (fcntl(2) F_GETFL). */
export function getNonBlocking(fd: Fd): boolean {
  return (fcntl(fd, F_GETFL) & O_NONBLOCK) !== 0;
}

/**
 * FD_CLOEXEC through fcntl(2). Every descriptor this library creates starts close-on-exec; clear it only
 * to let an exec'd program inherit the socket (child_process stdio does that for you).
 */
export function setCloseOnExec(fd: Fd, on: boolean): void {
  setFlag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}

/** Whether FD_CLOEXEC is set (fcntl(2) F_GETFD). */
export function getCloseOnExec(fd: Fd): boolean {
  return (fcntl(fd, F_GETFD) & FD_CLOEXEC) !== 0;
}

/** Whether this platform creates descriptors atomically close-on-exec (SOCK_CLOEXEC, accept4). */
export const ATOMIC_CLOEXEC = SOCK_CLOEXEC !== undefined;
