// Addresses the kernel writes back: the scratch space every call that returns an address decodes
// (accept, recvfrom, getsockname…), and the C structs a caller gives to be filled in place, as C's
// `(struct sockaddr *)&addr, &len`. The addresses themselves, their encodings and the structs are in
// sockaddr.ts (and packet.ts for sockaddr_ll).
import { native } from './binding';
import { LITTLE } from './byteorder';
import { AF_INET, AF_INET6, AF_PACKET } from './constants';
import { type ErrorTarget, invalidArgType } from './errors';
import { SOCKADDR_LL_SIZE, encodePacketStruct, sockaddr_ll } from './packet';
import {
  type SocketAddress, decodeSockaddrAt, encodeStruct, familyOf, putFamily, sockaddr_in, sockaddr_in6, sockaddr_un,
} from './sockaddr';

const L = native.layout;

// Scratch space for addresses the kernel returns: [uint32 socklen][sockaddr_storage]. One per
// module instance (so one per worker thread); each call decodes it before returning.

const header = native.abi.addrHeader;
const scratch = new ArrayBuffer(header + L.sockaddr_storage);
export const addrOut = new Uint8Array(scratch);
const addrOutLen = new Uint32Array(scratch, 0, 1);

/**
 * @internal The address in a [socklen][sockaddr] slot at `offset` of `b` (socklen a host-order
 * uint32, as native/addrout.h writes it), or null when there is none.
 */
export function decodeAddrSlot(b: Uint8Array, offset: number): SocketAddress | null {
  const len = LITTLE
    ? (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0
    : ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
  return len === 0 ? null : decodeSockaddrAt(b, offset + header, len);
}

/** The address the last native call wrote into `addrOut`, or null when it wrote none (socklen 0). */
export function takeAddrOut(): SocketAddress | null {
  const len = addrOutLen[0];
  if (len === 0) return null;
  return decodeSockaddrAt(addrOut, header, len);
}

/**
 * A C struct that accept() and recvfrom() fill in place, as C's `(struct sockaddr *)&addr, &len` with
 * `len = sizeof addr`; `null` stands for C's `NULL, NULL` (no address wanted).
 */
export type SockaddrOut = sockaddr_in | sockaddr_in6 | sockaddr_un | sockaddr_ll;

/**
 * @internal The socklen_t to pass for `out` (its sizeof), -1 for null (C's NULL, NULL), undefined when
 * the caller gave no struct (the library's own sockaddr_storage). Anything else is a TypeError.
 */
export function outLength(out: unknown, name: string): number | undefined {
  if (out === undefined) return undefined;
  if (out === null) return -1;
  if (out instanceof sockaddr_in) return L.sockaddr_in;
  if (out instanceof sockaddr_in6) return L.sockaddr_in6;
  if (out instanceof sockaddr_un) return L.sockaddr_un;
  if (out instanceof sockaddr_ll && SOCKADDR_LL_SIZE !== undefined) return SOCKADDR_LL_SIZE;
  throw invalidArgType(name, 'a sockaddr_in, sockaddr_in6, sockaddr_un or sockaddr_ll (or null, as C\'s NULL)', out);
}

/**
 * @internal Copies into `out` what the kernel wrote into addrOut — at most `asked` bytes, as into C's
 * struct: bytes it did not write keep what the struct held, and a longer address (an IPv6 peer in a
 * sockaddr_in) is cut as C's would be. Returns the decoded address, or null when it was cut or absent.
 */
export function fillStruct(out: SockaddrOut, asked: number): SocketAddress | null {
  const len = addrOutLen[0];
  if (len === 0) return null;
  const wrote = addrOut.subarray(header, header + Math.min(len, asked));
  const family = familyOf(wrote, 0, wrote.length);
  if (out instanceof sockaddr_un) {
    const un = decodeSockaddrAt(wrote, 0, wrote.length);
    out.sun_family = family;
    out.sun_path = 'path' in un ? un.path : '';
  } else if (out instanceof sockaddr_ll) {
    // Bytes the kernel did not write keep what the struct held, as in C's memory.
    const mem = encodePacketStruct(out);
    mem.set(wrote);
    putFamily(mem, AF_PACKET!, mem.length); // only to read it back
    Object.assign(out, sockaddr_ll.fromBytes(mem));
    out.sll_family = family;
  } else {
    const mem = encodeStruct(out);
    mem.set(wrote);
    putFamily(mem, out instanceof sockaddr_in ? AF_INET : AF_INET6, mem.length); // only to read it back
    const filled = out instanceof sockaddr_in ? sockaddr_in.fromBytes(mem) : sockaddr_in6.fromBytes(mem);
    Object.assign(out, filled);
    if (out instanceof sockaddr_in) out.sin_family = family;
    else out.sin6_family = family;
  }
  return len <= asked ? decodeSockaddrAt(addrOut, header, len) : null;
}

/** Where an address points, for error messages: `127.0.0.1:3400`, `[::1]:80`, or a UNIX path. */
export function targetOf(bytes: Uint8Array): ErrorTarget {
  try {
    const a = decodeSockaddrAt(bytes, 0, bytes.length);
    if ('path' in a) return { path: a.path };
    if ('port' in a) return { address: a.address, port: a.port };
  } catch {
    // an undecodable raw sockaddr: no details
  }
  return {};
}
