// htons(3), htonl(3), ntohs(3), ntohl(3). Like CPython, values outside the C type's range are a
// RangeError instead of being silently truncated.
import { endianness } from 'node:os';
import { checkInt } from './validate';

/** @internal Whether this host stores numbers little-endian: the one place the library asks. */
export const LITTLE = endianness() === 'LE';

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** htons(3): a 16-bit value from host to network byte order (big-endian). */
export function htons(hostshort: number): number {
  checkInt(hostshort, 'hostshort', 0, 0xffff);
  return LITTLE ? swap16(hostshort) : hostshort;
}

/** ntohs(3): a 16-bit value from network to host byte order. */
export function ntohs(netshort: number): number {
  checkInt(netshort, 'netshort', 0, 0xffff);
  return LITTLE ? swap16(netshort) : netshort;
}

/** htonl(3): a 32-bit value from host to network byte order (big-endian). */
export function htonl(hostlong: number): number {
  checkInt(hostlong, 'hostlong', 0, 0xffffffff);
  return LITTLE ? swap32(hostlong) : hostlong;
}

/** ntohl(3): a 32-bit value from network to host byte order. */
export function ntohl(netlong: number): number {
  checkInt(netlong, 'netlong', 0, 0xffffffff);
  return LITTLE ? swap32(netlong) : netlong;
}
