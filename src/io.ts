// Moving bytes: read(2), write(2), recv(2), send(2), recvfrom(2), sendto(2), and the loops C programs
// write around them (writeAll/readExactly). Reads go straight into the caller's memory and writes come
// straight from it: one crossing into the addon, no copy, no allocation but the returned value.
import { native } from './binding';
import { errnoException, invalidArgType } from './errors';
import type { AddressOf } from './family';
import type { Fd, SocketHandle } from './handle';
import { checkFd } from './handle';
import { type SockaddrOut, addrOut, fillStruct, outLength, takeAddrOut, targetOf } from './addrout';
import { type SockaddrInput, sockaddrBytes } from './sockaddr';
import { checkBytes, checkCount, checkInt32 } from './validate';

/** Bytes to send: a Buffer/Uint8Array (sent as is), or a string (sent as UTF-8). */
export type Data = Uint8Array | string;

/** @internal The bytes of a write's `data` (a string is encoded as UTF-8). */
export function bytesOf(data: unknown, name = 'data'): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (!ArrayBuffer.isView(data)) throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  return checkBytes(data, name);
}

/** @internal The caller's read buffer, as bytes. */
export function target(buf: unknown): Uint8Array {
  return checkBytes(buf, 'buf');
}

/**
 * @internal C's order is `read(fd, buf, count)`; Node's fs.read puts an offset first. A call with one
 * argument too many was written Node's way (`read(fd, buf, offset, length)`): with C's order it would
 * read `offset` bytes at the start — or none, a 0 that looks like end of file. It fails loudly instead,
 * saying how C's `buf + off` is written here.
 */
export function noOffset(syscall: string, given: number, max: number): TypeError {
  const err = new TypeError(
    `${syscall}() takes at most ${max} arguments, as in C, and no offset: C's ${syscall}(fd, buf + off, count) is ` +
      `${syscall}(fd, buf.subarray(off), count) here (${given} arguments were given; Node's fs.${syscall === 'write' || syscall === 'send' ? 'write' : 'read'}(fd, buf, offset, length) order is not C's)`,
  );
  Object.defineProperty(err, 'code', { value: 'ERR_INVALID_ARG_VALUE', enumerable: true, writable: true, configurable: true });
  return err;
}

/**
 * read(2): reads at most `count` bytes (default: all of `buf`) into `buf`, blocking until some data
 * arrives. Returns how many were read; 0 means end of file (the peer shut down its side).
 * The C order: `read(fd, buf, count)`, as in `read(sock_fd, buffer, MAXLINE)`; C's `buf + off` is
 * `buf.subarray(off)`. A fourth argument (Node's `fs.read(fd, buf, offset, length)`) is a TypeError.
 */
export function read(fd: Fd, buf: Uint8Array, count?: number): number {
  if (arguments.length > 3) throw noOffset('read', arguments.length, 3);
  const n = checkFd(fd, 'read');
  const b = target(buf);
  const len = checkCount(count, b.length, 'count');
  const rc = native.read(n, b, 0, len);
  if (rc < 0) throw errnoException(rc, 'read');
  return rc;
}

/**
 * write(2): writes at most `count` bytes of `data` (default: all of it), blocking until the kernel takes
 * some. Returns how many it took, which may be fewer (a partial write, as in C): see writeAll. A closed
 * peer is an EPIPE error, never a SIGPIPE, whatever the program does with that signal. C's `buf + off`
 * is `buf.subarray(off)`; a fourth argument (Node's offset, length order) is a TypeError.
 */
export function write(fd: Fd, data: Data, count?: number): number {
  if (arguments.length > 3) throw noOffset('write', arguments.length, 3);
  const n = checkFd(fd, 'write');
  const b = bytesOf(data);
  const len = checkCount(count, b.length, 'count');
  const rc = native.write(n, b, 0, len);
  if (rc < 0) throw errnoException(rc, 'write');
  return rc;
}

/**
 * recv(2): like read, with `flags` (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_OOB, MSG_TRUNC…).
 * For a datagram socket, returns one datagram (truncated to `count`; with MSG_TRUNC, its real length).
 */
export function recv(fd: Fd, buf: Uint8Array, count?: number, flags = 0): number {
  if (arguments.length > 4) throw noOffset('recv', arguments.length, 4);
  const n = checkFd(fd, 'recv');
  const b = target(buf);
  const len = checkCount(count, b.length, 'count');
  checkInt32(flags, 'flags');
  const rc = native.recv(n, b, 0, len, flags);
  if (rc < 0) throw errnoException(rc, 'recv');
  return rc;
}

/**
 * send(2): like write, with `flags` (MSG_DONTWAIT, MSG_MORE, MSG_OOB…). MSG_NOSIGNAL is always added:
 * a closed peer is an EPIPE error, never a SIGPIPE.
 */
export function send(fd: Fd, data: Data, count?: number, flags = 0): number {
  if (arguments.length > 4) throw noOffset('send', arguments.length, 4);
  const n = checkFd(fd, 'send');
  const b = bytesOf(data);
  const len = checkCount(count, b.length, 'count');
  checkInt32(flags, 'flags');
  const rc = native.send(n, b, 0, len, flags);
  if (rc < 0) throw errnoException(rc, 'send');
  return rc;
}

/** What recvfrom() returns: the byte count and the sender (null when the socket has none, as TCP). */
export interface Received<F extends number = number> {
  n: number;
  address: AddressOf<F> | null;
}

/**
 * recvfrom(2): receives one datagram into `buf` and tells who sent it — the call a UDP server is built
 * on. `n` is the datagram's length (truncated to `count` unless `flags` has MSG_TRUNC).
 *
 * As in C, a struct may be given to be filled in place: `recvfrom(s, buf, len, 0, from)` is
 * `recvfrom(s, buf, len, 0, (struct sockaddr *)&from, &fromlen)` with `fromlen = sizeof from`, and
 * `null` is C's `NULL, NULL`; `address` is then null if none was wanted or it did not fit.
 */
export function recvfrom<F extends number>(
  fd: SocketHandle<F> | number, buf: Uint8Array, count?: number, flags = 0, from?: SockaddrOut | null,
): Received<F> {
  const n = checkFd(fd, 'recvfrom');
  const b = target(buf);
  const len = checkCount(count, b.length, 'count');
  checkInt32(flags, 'flags');
  const asked = outLength(from, 'from');
  const rc = asked === undefined
    ? native.recvfrom(n, b, 0, len, flags, addrOut)
    : native.recvfrom(n, b, 0, len, flags, addrOut, asked);
  if (rc < 0) throw errnoException(rc, 'recvfrom');
  if (from === undefined) return { n: rc, address: takeAddrOut() as AddressOf<F> | null };
  return { n: rc, address: from === null ? null : (fillStruct(from, asked!) as AddressOf<F> | null) };
}

/**
 * sendto(2): sends one datagram to `addr` (any form bind accepts). As in C, `sendto(fd, buf, len,
 * flags, addr)`; `len` and `flags` may be left out: `sendto(fd, data, addr)`.
 */
export function sendto(fd: Fd, data: Data, addr: SockaddrInput): number;
export function sendto(fd: Fd, data: Data, flags: number, addr: SockaddrInput): number;
export function sendto(fd: Fd, data: Data, count: number | undefined, flags: number, addr: SockaddrInput): number;
export function sendto(fd: Fd, data: Data, a: unknown, b?: unknown, c?: unknown): number {
  let count: unknown;
  let flags: unknown = 0;
  let addr: unknown;
  if (c !== undefined || arguments.length >= 5) [count, flags, addr] = [a, b, c];
  else if (b !== undefined || arguments.length === 4) [flags, addr] = [a, b];
  else addr = a;
  const n = checkFd(fd, 'sendto');
  const bytes = bytesOf(data);
  const len = checkCount(count, bytes.length, 'count');
  checkInt32(flags, 'flags');
  const sa = sockaddrBytes(addr as SockaddrInput);
  const rc = native.sendto(n, bytes, 0, len, flags as number, sa);
  if (rc < 0) throw errnoException(rc, 'sendto', targetOf(sa));
  return rc;
}

/**
 * Writes all of `data`, calling write(2) again after each partial write (the course's
 * `write_to_socket`). Returns the byte count. If a write fails midway, the SystemError carries
 * `bytesWritten`, the bytes that did go out.
 */
export function writeAll(fd: Fd, data: Data): number {
  const n = checkFd(fd, 'write');
  const b = bytesOf(data);
  let done = 0;
  while (done < b.length) {
    const rc = native.write(n, b, done, b.length - done);
    if (rc < 0) throw Object.assign(errnoException(rc, 'write'), { bytesWritten: done });
    done += rc;
  }
  return done;
}

/**
 * Reads exactly `count` bytes (default: all of `buf`), calling read(2) until they have all arrived
 * (the course's `read_from_socket`). Returns the byte count, which is smaller only if the peer closed
 * first (end of file). If a read fails, the SystemError carries `bytesRead`.
 */
export function readExactly(fd: Fd, buf: Uint8Array, count?: number): number {
  const n = checkFd(fd, 'read');
  const b = target(buf);
  const want = checkCount(count, b.length, 'count');
  let done = 0;
  while (done < want) {
    const rc = native.read(n, b, done, want - done);
    if (rc < 0) throw Object.assign(errnoException(rc, 'read'), { bytesRead: done });
    if (rc === 0) break;
    done += rc;
  }
  return done;
}
