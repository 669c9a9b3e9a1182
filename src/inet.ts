// inet_pton(3), inet_ntop(3), inet_addr(3), inet_aton(3), inet_ntoa(3): text ↔ binary IP addresses.
import { native } from './binding';
import { LITTLE } from './byteorder';
import { AF_INET, AF_INET6 } from './constants';
import { type ErrorTarget, errnoException, invalidArgType, invalidArgValue } from './errors';
import type { In6Addr, InAddr } from './sockaddr';
import { checkBytes, checkInt, checkInt32 } from './validate';

const bin = new Uint8Array(16);

function checkText(src: unknown, name: string): string {
  if (typeof src !== 'string') throw invalidArgType(name, 'of type string', src);
  return src;
}

/**
 * @internal inet_pton(3) into `out`: 1, or 0 when `src` is not a numeric address of family `af`; a
 * failure of the call itself (EAFNOSUPPORT) is a SystemError. Every text address the library takes
 * goes through here.
 */
export function ptonInto(af: number, src: string, out: Uint8Array, target?: ErrorTarget): number {
  // A NUL would end the C string early and let "127.0.0.1\0junk" through.
  if (src.includes('\0')) return 0;
  const rc = native.inet_pton(af, src, out);
  if (rc < 0) throw errnoException(rc, 'inet_pton', target);
  return rc;
}

function pton(af: number, src: string): number {
  return ptonInto(af, src, bin);
}

/**
 * inet_pton(3). With two arguments, returns the address in network byte order (4 or 16 bytes) and
 * throws ERR_INVALID_ARG_VALUE if `src` is not a numeric address of family `af`. With a third argument,
 * behaves like C: fills `dst` (an `in_addr`, `in6_addr` or byte array) and returns 1, or returns 0 if
 * `src` is not an address. An unsupported `af` is an EAFNOSUPPORT SystemError.
 */
export function inet_pton(af: number, src: string): Buffer;
export function inet_pton(af: number, src: string, dst: InAddr | In6Addr | Uint8Array): 0 | 1;
export function inet_pton(af: number, src: string, dst?: InAddr | In6Addr | Uint8Array): Buffer | 0 | 1 {
  checkInt32(af, 'af');
  checkText(src, 'src');
  const ok = pton(af, src);
  const n = af === AF_INET6 ? 16 : 4;
  if (dst === undefined) {
    if (ok !== 1) throw invalidArgValue('src', src, `is not a numeric ${af === AF_INET6 ? 'IPv6' : 'IPv4'} address`);
    return Buffer.from(bin.subarray(0, n));
  }
  if (ok !== 1) return 0;
  if (dst instanceof Uint8Array) {
    if (dst.length < n) throw invalidArgValue('dst', dst, `must hold at least ${n} bytes`);
    dst.set(bin.subarray(0, n));
  } else if (dst !== null && typeof dst === 'object' && 's6_addr' in dst) {
    if (af !== AF_INET6) throw invalidArgValue('dst', dst, 'is an in6_addr but af is not AF_INET6');
    dst.s6_addr = Uint8Array.from(bin.subarray(0, 16));
  } else if (dst !== null && typeof dst === 'object') {
    if (af !== AF_INET) throw invalidArgValue('dst', dst, 'is an in_addr but af is not AF_INET');
    (dst as InAddr).s_addr = new DataView(bin.buffer).getUint32(0, LITTLE);
  } else {
    throw invalidArgType('dst', 'an in_addr, in6_addr or Uint8Array', dst);
  }
  return 1;
}

function addrBytes(af: number, src: unknown): Uint8Array {
  if (src instanceof Uint8Array || ArrayBuffer.isView(src)) return checkBytes(src, 'src');
  if (src !== null && typeof src === 'object' && 's6_addr' in src) return checkBytes((src as In6Addr).s6_addr, 'src.s6_addr');
  if (src !== null && typeof src === 'object' && 's_addr' in src) return inAddrBytes((src as InAddr).s_addr);
  if (typeof src === 'number' && af === AF_INET) return inAddrBytes(src);
  throw invalidArgType('src', 'an in_addr, in6_addr or Uint8Array', src);
}

function inAddrBytes(s_addr: unknown): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, checkInt(s_addr, 's_addr', 0, 0xffffffff), LITTLE);
  return b;
}

/**
 * inet_ntop(3): the text form of a binary address (network byte order): bytes, an `in_addr`
 * (`{ s_addr }`), or an `in6_addr` (`{ s6_addr }`). IPv6 comes out in RFC 5952 form ('::1').
 */
export function inet_ntop(af: number, src: Uint8Array | InAddr | In6Addr): string {
  checkInt32(af, 'af');
  const bytes = addrBytes(af, src);
  const need = af === AF_INET6 ? 16 : 4;
  if (bytes.length < need) throw invalidArgValue('src', src, `must hold ${need} bytes`);
  const r = native.inet_ntop(af, bytes);
  if (typeof r === 'number') throw errnoException(r, 'inet_ntop'); // EAFNOSUPPORT
  return r;
}

/**
 * inet_addr(3): the IPv4 address as the `s_addr` of an `in_addr` (network byte order), or INADDR_NONE
 * (0xffffffff) if `cp` is not an address — which is also what '255.255.255.255' gives, the classic
 * reason to prefer inet_pton or inet_aton. Accepts the historical forms ('127.1', '0x7f.0.0.1').
 */
export function inet_addr(cp: string): number {
  checkText(cp, 'cp');
  const r = native.inet_aton(cp);
  return r < 0 ? 0xffffffff : r;
}

/**
 * inet_aton(3): parses `cp` into `inp.s_addr` (network byte order); returns 1, or 0 if `cp` is not an
 * address. Without `inp`, returns the `in_addr` or null.
 */
export function inet_aton(cp: string): InAddr | null;
export function inet_aton(cp: string, inp: InAddr): 0 | 1;
export function inet_aton(cp: string, inp?: InAddr): InAddr | null | 0 | 1 {
  checkText(cp, 'cp');
  const r = native.inet_aton(cp);
  if (inp === undefined) return r < 0 ? null : { s_addr: r };
  if (inp === null || typeof inp !== 'object') throw invalidArgType('inp', 'an in_addr object', inp);
  if (r < 0) return 0;
  inp.s_addr = r;
  return 1;
}

/** inet_ntoa(3): dotted-quad text of an `in_addr` (or its `s_addr` number, network byte order). */
export function inet_ntoa(inaddr: InAddr | number): string {
  const s = typeof inaddr === 'number' ? inaddr : inaddr?.s_addr;
  const b = inAddrBytes(s);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}
