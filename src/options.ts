// setsockopt(2) / getsockopt(2). This core handles integer and flag options and a raw-bytes form for
// any (level, name); typed structures (timeval, linger, TCP_INFO…) build on the same two calls.
import { endianness } from 'node:os';
import { native } from './binding';
import { errnoException, invalidArgType } from './errors';
import { type Fd, fdOf } from './handle';
import { checkInt, checkInt32 } from './validate';

const LITTLE = endianness() === 'LE';
const intBuf = new Uint8Array(4);
const intView = new DataView(intBuf.buffer);

/**
 * setsockopt(2). A number or boolean is passed as a C `int` (SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF,
 * TCP_NODELAY, TCP_KEEPIDLE, IP_TTL…); a Buffer/Uint8Array is passed as the raw option bytes.
 */
export function setsockopt(fd: Fd, level: number, optname: number, optval: number | boolean | Uint8Array): void {
  const n = fdOf(fd, 'setsockopt');
  checkInt32(level, 'level');
  checkInt32(optname, 'optname');
  let bytes: Uint8Array;
  if (typeof optval === 'boolean' || typeof optval === 'number') {
    intView.setInt32(0, typeof optval === 'boolean' ? Number(optval) : checkInt32(optval, 'optval'), LITTLE);
    bytes = intBuf;
  } else if (optval instanceof Uint8Array) {
    bytes = optval;
  } else {
    throw invalidArgType('optval', 'of type number or boolean, or an instance of Buffer', optval);
  }
  const rc = native.setsockopt(n, level, optname, bytes);
  if (rc < 0) throw errnoException(rc, 'setsockopt');
}

/**
 * getsockopt(2). Without `optlen`, reads the option as a C `int` (SO_ERROR, SO_TYPE, SO_RCVBUF…).
 * With `optlen`, returns the raw bytes (at most `optlen`, as many as the kernel wrote).
 */
export function getsockopt(fd: Fd, level: number, optname: number): number;
export function getsockopt(fd: Fd, level: number, optname: number, optlen: number): Buffer;
export function getsockopt(fd: Fd, level: number, optname: number, optlen?: number): number | Buffer {
  const n = fdOf(fd, 'getsockopt');
  checkInt32(level, 'level');
  checkInt32(optname, 'optname');
  if (optlen === undefined) {
    intView.setInt32(0, 0);
    const rc = native.getsockopt(n, level, optname, intBuf);
    if (rc < 0) throw errnoException(rc, 'getsockopt');
    // Some options are a single byte on Linux (IP_MULTICAST_LOOP may be read as char): honour optlen.
    return rc >= 4 ? intView.getInt32(0, LITTLE) : rc === 1 ? intBuf[0] : rc === 2 ? intView.getInt16(0, LITTLE) : 0;
  }
  const out = Buffer.alloc(checkInt(optlen, 'optlen', 0, 65536));
  const rc = native.getsockopt(n, level, optname, out);
  if (rc < 0) throw errnoException(rc, 'getsockopt');
  return out.subarray(0, rc);
}
