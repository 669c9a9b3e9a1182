// Socket addresses: the plain typed objects every call takes and returns, the C structs with their
// field names for teaching (sockaddr_in, sockaddr_in6, sockaddr_un; packet(7)'s sockaddr_ll lives in
// packet.ts), and the exact bytes the kernel uses. Layout comes from the addon (offsets measured by the
// compiler), never from numbers written here.
import { native } from './binding';
import { LITTLE } from './byteorder';
import { ptonInto } from './inet';
import { AF_INET, AF_INET6, AF_PACKET, AF_UNIX } from './constants';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import {
  type PacketAddress, type PacketAddressInput, type SockaddrLlStruct, decodePacketAt, encodePacket,
  encodePacketStruct, isSockaddrLl, sockaddr_ll,
} from './packet';
import { checkBytes, checkInt } from './validate';

const L = native.layout;

// ---------------------------------------------------------------------------------------------
// Types

/** An IPv4 endpoint, port in host byte order. `address` defaults to INADDR_ANY ('0.0.0.0'). */
export interface InetAddress {
  family: number;
  address: string;
  port: number;
}

/** An IPv6 endpoint. `scope_id` is the interface index of a link-local address; `flowinfo` host order. */
export interface Inet6Address {
  family: number;
  address: string;
  port: number;
  flowinfo: number;
  scope_id: number;
}

/**
 * An AF_UNIX endpoint: a filesystem path, a Linux abstract name (first character '\0'), or '' for an
 * unnamed socket (socketpair, or a client that never bound). The kernel's bytes are kept exactly: `path`
 * is a string when they are valid UTF-8 (it encodes back to the same bytes), and a Buffer of the bytes
 * themselves when they are not (a name is any bytes to the kernel). Either form is accepted back, so
 * `connect(fd, getsockname(srv))` reaches the same socket whatever its name.
 */
export interface UnixAddress {
  family: number;
  path: string | Buffer;
}

/** A family this library does not decode (AF_NETLINK…), or a cut address: the raw sockaddr bytes. */
export interface OtherAddress {
  family: number;
  bytes: Buffer;
}

/** Every address a call can return. */
export type SocketAddress = InetAddress | Inet6Address | UnixAddress | PacketAddress | OtherAddress;

/** An address as callers write it: the port in host order, optional fields omitted. */
export type InetAddressInput = { family: number; address?: string; port: number };
export type Inet6AddressInput = { family: number; address?: string; port: number; flowinfo?: number; scope_id?: number };
export type UnixAddressInput = { family: number; path: string | Uint8Array };

/** Everything accepted where C takes `const struct sockaddr *addr, socklen_t addrlen`. */
export type SockaddrInput =
  | InetAddressInput
  | Inet6AddressInput
  | UnixAddressInput
  | PacketAddressInput
  | SockaddrInStruct
  | SockaddrIn6Struct
  | SockaddrUnStruct
  | SockaddrLlStruct
  | Uint8Array;

// ---------------------------------------------------------------------------------------------
// The C structs, field for field (netinet/in.h, sys/un.h)

/** `struct in_addr`: `s_addr` is the 32-bit address in network byte order, as the host reads it. */
export interface InAddr {
  s_addr: number;
}
/** `struct in6_addr`: 16 bytes in network order. */
export interface In6Addr {
  s6_addr: Uint8Array;
}
export interface SockaddrInStruct {
  sin_family: number;
  /** Network byte order: write `htons(3400)`, not 3400. */
  sin_port: number;
  sin_addr: InAddr;
}
export interface SockaddrIn6Struct {
  sin6_family: number;
  /** Network byte order: `htons(port)`. */
  sin6_port: number;
  /** Network byte order, as the kernel stores it. */
  sin6_flowinfo?: number;
  sin6_addr: In6Addr;
  sin6_scope_id?: number;
}
export interface SockaddrUnStruct {
  sun_family: number;
  sun_path: string | Uint8Array;
}

/** `struct in_addr`, zeroed like C's memset. */
export class in_addr implements InAddr {
  s_addr = 0;
  constructor(s_addr = 0) {
    this.s_addr = s_addr;
  }
}

/** `struct in6_addr`, zeroed (in6addr_any). */
export class in6_addr implements In6Addr {
  s6_addr = new Uint8Array(16);
}

/**
 * `struct sockaddr_in` (ip(7)), zeroed like `memset(&addr, 0, sizeof addr)`:
 * ```ts
 * const serv_add = new sockaddr_in();
 * serv_add.sin_family = AF_INET;
 * serv_add.sin_port = htons(13);
 * serv_add.sin_addr.s_addr = htonl(INADDR_ANY);
 * bind(fd, serv_add);
 * ```
 */
export class sockaddr_in implements SockaddrInStruct {
  sin_family = 0;
  sin_port = 0;
  sin_addr: InAddr = new in_addr();
  readonly sin_zero = new Uint8Array(8);

  constructor(init?: Partial<SockaddrInStruct>) {
    if (init) Object.assign(this, init);
  }
  /** The exact bytes the kernel reads (sizeof(struct sockaddr_in)). */
  toBytes(): Buffer {
    return encodeStruct(this);
  }
  /** Reads a sockaddr_in from the kernel's bytes (e.g. what getsockname filled in). */
  static fromBytes(bytes: Uint8Array): sockaddr_in {
    const b = checkBytes(bytes, 'bytes');
    if (familyOf(b, 0, b.length) !== AF_INET || b.length < L.sockaddr_in) throw invalidArgValue('bytes', b, 'is not a sockaddr_in');
    const v = view(b);
    return new sockaddr_in({
      sin_family: AF_INET,
      sin_port: v.getUint16(L.sin_port, LITTLE),
      sin_addr: new in_addr(v.getUint32(L.sin_addr, LITTLE)),
    });
  }
}

/** `struct sockaddr_in6` (ipv6(7)), zeroed. */
export class sockaddr_in6 implements SockaddrIn6Struct {
  sin6_family = 0;
  sin6_port = 0;
  sin6_flowinfo = 0;
  sin6_addr: In6Addr = new in6_addr();
  sin6_scope_id = 0;

  constructor(init?: Partial<SockaddrIn6Struct>) {
    if (init) Object.assign(this, init);
  }
  toBytes(): Buffer {
    return encodeStruct(this);
  }
  static fromBytes(bytes: Uint8Array): sockaddr_in6 {
    const b = checkBytes(bytes, 'bytes');
    if (familyOf(b, 0, b.length) !== AF_INET6 || b.length < L.sockaddr_in6) throw invalidArgValue('bytes', b, 'is not a sockaddr_in6');
    const v = view(b);
    const addr = new in6_addr();
    addr.s6_addr.set(b.subarray(L.sin6_addr, L.sin6_addr + 16));
    return new sockaddr_in6({
      sin6_family: AF_INET6,
      sin6_port: v.getUint16(L.sin6_port, LITTLE),
      sin6_flowinfo: v.getUint32(L.sin6_flowinfo, LITTLE),
      sin6_addr: addr,
      sin6_scope_id: v.getUint32(L.sin6_scope_id, LITTLE),
    });
  }
}

/** `struct sockaddr_un` (unix(7)), zeroed. `sun_path` is at most sizeof(sun_path) bytes. */
export class sockaddr_un implements SockaddrUnStruct {
  sun_family = 0;
  sun_path: string | Uint8Array = '';

  constructor(init?: Partial<SockaddrUnStruct>) {
    if (init) Object.assign(this, init);
  }
  toBytes(): Buffer {
    return encodeStruct(this);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** @internal */
export function putFamily(b: Uint8Array, family: number, length: number): void {
  if (L.sa_len) b[0] = length; // BSD: sin_len
  if (L.sa_family_size === 1) b[L.sa_family_offset] = family;
  else view(b).setUint16(L.sa_family_offset, family, LITTLE);
}

// The layout offsets the decoder reads on every received address, read once from native.layout.
const SA_FAMILY_OFFSET = L.sa_family_offset;
const SA_FAMILY_SIZE = L.sa_family_size;
const SIN_ADDR = L.sin_addr;
const SIN_PORT = L.sin_port;
const SIN6_ADDR = L.sin6_addr;
const SIN6_PORT = L.sin6_port;

/** @internal */
export function familyOf(b: Uint8Array, offset: number, length: number): number {
  if (length < SA_FAMILY_OFFSET + SA_FAMILY_SIZE) return AF_UNSPEC_VALUE;
  const i = offset + SA_FAMILY_OFFSET;
  if (SA_FAMILY_SIZE === 1) return b[i];
  return LITTLE ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
}

// The text of the last address decoded, per family: a server answering one peer decodes the same
// address for every datagram (recvfrom, accept), and formatting it costs more than the system call
// around it here (bench/README.md). The same string back also makes sendto's encoding cache a
// pointer comparison.
let lastV4 = -1;
let lastV4Text = '';
const lastV6 = new Uint8Array(16);
let lastV6Text: string | undefined;

function ipv4Text(b: Uint8Array, a: number): string {
  const key = ((b[a] << 24) | (b[a + 1] << 16) | (b[a + 2] << 8) | b[a + 3]) >>> 0;
  if (key !== lastV4) {
    lastV4Text = `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}`;
    lastV4 = key;
  }
  return lastV4Text;
}

function ipv6Text(b: Uint8Array, a: number): string {
  let same = lastV6Text !== undefined;
  for (let i = 0; same && i < 16; i++) same = b[a + i] === lastV6[i];
  if (same) return lastV6Text!;
  const text = native.inet_ntop(AF_INET6, b.subarray(a, a + 16));
  if (typeof text !== 'string') return '';
  lastV6.set(b.subarray(a, a + 16));
  lastV6Text = text;
  return text;
}

const AF_UNSPEC_VALUE = native.constants.AF_UNSPEC;
const ip6 = new Uint8Array(16);

function parseIp(family: number, address: string): Uint8Array {
  if (typeof address !== 'string') throw invalidArgType('address', 'of type string', address);
  if (ptonInto(family, address, ip6, { address }) === 1) return ip6;
  throw invalidArgValue(
    'address',
    address,
    `must be a numeric ${family === AF_INET ? 'IPv4' : 'IPv6'} address (use getaddrinfo() to resolve names)`,
  );
}

function checkPort(port: unknown): number {
  return checkInt(port, 'port', 0, 0xffff);
}

function encodeInet(a: InetAddressInput): Buffer {
  const port = checkPort(a.port);
  const b = Buffer.alloc(L.sockaddr_in);
  putFamily(b, AF_INET, L.sockaddr_in);
  b.writeUInt16BE(port, L.sin_port);
  if (a.address !== undefined) b.set(parseIp(AF_INET, a.address).subarray(0, 4), L.sin_addr);
  return b;
}

function encodeInet6(a: Inet6AddressInput): Buffer {
  const port = checkPort(a.port);
  let address = a.address;
  let scope = a.scope_id === undefined ? 0 : checkInt(a.scope_id, 'scope_id', 0, 0xffffffff);
  if (address !== undefined && typeof address === 'string') {
    const pct = address.indexOf('%');
    if (pct >= 0) {
      // 'fe80::1%eth0' or 'fe80::1%2', as getaddrinfo and ping accept
      const zone = address.slice(pct + 1);
      address = address.slice(0, pct);
      if (a.scope_id === undefined) {
        // A NUL would end the C string early ('lo\0junk' → lo); a number must fit sin6_scope_id.
        scope = /^\d+$/.test(zone) ? Number(zone) : zone.includes('\0') ? 0 : native.if_nametoindex(zone);
        if (!scope || scope > 0xffffffff) throw invalidArgValue('address', a.address, 'names an unknown interface');
      }
    }
  }
  const flow = a.flowinfo === undefined ? 0 : checkInt(a.flowinfo, 'flowinfo', 0, 0xfffff);
  const b = Buffer.alloc(L.sockaddr_in6);
  putFamily(b, AF_INET6, L.sockaddr_in6);
  b.writeUInt16BE(port, L.sin6_port);
  b.writeUInt32BE(flow, L.sin6_flowinfo); // sin6_flowinfo is network order (RFC 3493), as CPython stores it
  if (address !== undefined) b.set(parseIp(AF_INET6, address), L.sin6_addr);
  view(b).setUint32(L.sin6_scope_id, scope, LITTLE);
  return b;
}

function encodeUnix(pathIn: string | Uint8Array): Buffer {
  let path: Uint8Array;
  if (typeof pathIn === 'string') path = Buffer.from(pathIn, 'utf8');
  else if (pathIn instanceof Uint8Array) path = pathIn;
  else throw invalidArgType('path', 'of type string or an instance of Buffer', pathIn);
  const abstract = path.length > 0 && path[0] === 0;
  if (!abstract && path.includes(0)) throw invalidArgValue('path', pathIn, 'must not contain NUL bytes (only a leading one, for an abstract name)');
  if (path.length > L.sun_path_size) {
    throw outOfRange('path', `at most ${L.sun_path_size} bytes long (sizeof sun_path)`, `${path.length} bytes`);
  }
  // A filesystem path carries its terminating NUL when it fits, as the kernel itself reports it;
  // an abstract name is exactly its bytes; '' is an unnamed address (autobind on Linux).
  const len = L.sun_path + path.length + (!abstract && path.length > 0 && path.length < L.sun_path_size ? 1 : 0);
  const b = Buffer.alloc(len);
  putFamily(b, AF_UNIX, len);
  b.set(path, L.sun_path);
  return b;
}

/** @internal */
export function encodeStruct(s: SockaddrInStruct | SockaddrIn6Struct | SockaddrUnStruct | SockaddrLlStruct): Buffer {
  if (isSockaddrLl(s)) return encodePacketStruct(s);
  if ('sin_family' in s) {
    const b = Buffer.alloc(L.sockaddr_in);
    putFamily(b, checkInt(s.sin_family, 'sin_family', 0, 0xffff), L.sockaddr_in);
    const v = view(b);
    // sin_port and s_addr already hold network-order values: store them as the host would.
    v.setUint16(L.sin_port, checkInt(s.sin_port, 'sin_port', 0, 0xffff), LITTLE);
    if (!s.sin_addr || typeof s.sin_addr !== 'object') throw invalidArgType('sin_addr', 'an in_addr object', s.sin_addr);
    v.setUint32(L.sin_addr, checkInt(s.sin_addr.s_addr, 'sin_addr.s_addr', 0, 0xffffffff), LITTLE);
    return b;
  }
  if ('sin6_family' in s) {
    const b = Buffer.alloc(L.sockaddr_in6);
    putFamily(b, checkInt(s.sin6_family, 'sin6_family', 0, 0xffff), L.sockaddr_in6);
    const v = view(b);
    v.setUint16(L.sin6_port, checkInt(s.sin6_port, 'sin6_port', 0, 0xffff), LITTLE);
    v.setUint32(L.sin6_flowinfo, checkInt(s.sin6_flowinfo ?? 0, 'sin6_flowinfo', 0, 0xffffffff), LITTLE);
    const a = s.sin6_addr?.s6_addr;
    if (!(a instanceof Uint8Array) || a.length !== 16) throw invalidArgType('sin6_addr.s6_addr', 'a Uint8Array of 16 bytes', a);
    b.set(a, L.sin6_addr);
    v.setUint32(L.sin6_scope_id, checkInt(s.sin6_scope_id ?? 0, 'sin6_scope_id', 0, 0xffffffff), LITTLE);
    return b;
  }
  const b = encodeUnix(s.sun_path);
  putFamily(b, checkInt(s.sun_family, 'sun_family', 0, 0xffff), b.length);
  return b;
}

// One-entry cache: a UDP server answering the same peer, or a client sending to one server, encodes
// the same address on every call.
let cacheFamily = -1;
let cacheAddress: string | undefined;
let cachePort = -1;
let cacheBytes: Buffer = Buffer.alloc(0);

/**
 * The sockaddr bytes for any accepted address form. Internal: the result may be shared (cached), so
 * callers must not modify it. Public code uses `encodeSockaddr`.
 */
export function sockaddrBytes(addr: SockaddrInput): Uint8Array {
  if (ArrayBuffer.isView(addr) || addr instanceof Uint8Array) {
    // Raw sockaddr bytes: they must fit the kernel's sockaddr_storage (the addon copies at most that).
    const b = checkBytes(addr, 'address');
    if (b.length > L.sockaddr_storage) throw outOfRange('address', `at most ${L.sockaddr_storage} bytes (sizeof struct sockaddr_storage)`, `${b.length} bytes`);
    return b;
  }
  if (addr === null || typeof addr !== 'object') {
    throw invalidArgType('address', 'a socket address object ({ family, address, port } or { family, path })', addr);
  }
  const family = (addr as { family?: unknown }).family;
  if (family === undefined) {
    if ('sin_family' in addr || 'sin6_family' in addr || 'sun_family' in addr || isSockaddrLl(addr)) return encodeStruct(addr);
    throw invalidArgType('address.family', 'of type number', family);
  }
  if (family === AF_INET || family === AF_INET6) {
    const a = addr as Inet6AddressInput;
    if (
      family === cacheFamily && a.address === cacheAddress && a.port === cachePort &&
      a.flowinfo === undefined && a.scope_id === undefined
    ) {
      return cacheBytes;
    }
    const bytes = family === AF_INET ? encodeInet(a) : encodeInet6(a);
    if (a.flowinfo === undefined && a.scope_id === undefined) {
      cacheFamily = family as number;
      cacheAddress = a.address;
      cachePort = a.port;
      cacheBytes = bytes;
    }
    return bytes;
  }
  if (family === AF_UNIX) return encodeUnix((addr as UnixAddressInput).path);
  if (family === AF_PACKET && AF_PACKET !== undefined) return encodePacket(addr as PacketAddressInput);
  if (typeof family !== 'number') throw invalidArgType('address.family', 'of type number', family);
  throw invalidArgValue('address.family', family, 'must be AF_INET, AF_INET6, AF_UNIX or AF_PACKET (pass raw sockaddr bytes for others)');
}

/** The exact bytes of `struct sockaddr_*` that the kernel would receive for `addr`. */
export function encodeSockaddr(addr: SockaddrInput): Buffer {
  return Buffer.from(sockaddrBytes(addr));
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes `length` sockaddr bytes at `offset` of `b` (as the kernel filled them in). */
export function decodeSockaddrAt(b: Uint8Array, offset: number, length: number): SocketAddress {
  const family = familyOf(b, offset, length);
  if (family === AF_INET && length >= L.sockaddr_in) {
    const p = offset + SIN_PORT; // network byte order
    return { family, address: ipv4Text(b, offset + SIN_ADDR), port: (b[p] << 8) | b[p + 1] };
  }
  if (family === AF_INET6 && length >= L.sockaddr_in6) {
    const v = new DataView(b.buffer, b.byteOffset + offset, length);
    return {
      family,
      address: ipv6Text(b, offset + SIN6_ADDR),
      port: v.getUint16(SIN6_PORT, false),
      flowinfo: v.getUint32(L.sin6_flowinfo, false),
      scope_id: v.getUint32(L.sin6_scope_id, LITTLE),
    };
  }
  if (family === AF_UNIX) {
    const p = b.subarray(offset + L.sun_path, offset + length);
    if (p.length === 0) return { family, path: '' };
    // Abstract names keep their leading NUL and every byte; filesystem paths end at the first NUL.
    const end = p[0] === 0 ? p.length : p.indexOf(0) === -1 ? p.length : p.indexOf(0);
    const raw = Buffer.from(p.buffer, p.byteOffset, end);
    const text = raw.toString('utf8');
    // U+FFFD stands for bytes that are not UTF-8, unless the name really has it: compare to be sure.
    return { family, path: text.includes('\ufffd') && !Buffer.from(text, 'utf8').equals(raw) ? Buffer.from(raw) : text };
  }
  if (family === AF_PACKET && AF_PACKET !== undefined) {
    const ll = decodePacketAt(b, offset, length, family);
    if (ll !== undefined) return ll;
  }
  return { family, bytes: Buffer.from(b.subarray(offset, offset + length)) };
}

/** Decodes kernel sockaddr bytes into the plain object form every call returns. */
export function decodeSockaddr(bytes: Uint8Array): SocketAddress {
  const b = checkBytes(bytes, 'bytes');
  return decodeSockaddrAt(b, 0, b.length);
}

/** The C struct (sockaddr_in / sockaddr_in6 / sockaddr_un / sockaddr_ll) for an address, to show its fields. */
export function toStruct(addr: SockaddrInput): sockaddr_in | sockaddr_in6 | sockaddr_un | sockaddr_ll {
  const bytes = sockaddrBytes(addr);
  const family = familyOf(bytes, 0, bytes.length);
  if (family === AF_INET) return sockaddr_in.fromBytes(bytes);
  if (family === AF_INET6) return sockaddr_in6.fromBytes(bytes);
  if (family === AF_PACKET && AF_PACKET !== undefined) return sockaddr_ll.fromBytes(bytes);
  const un = decodeSockaddrAt(bytes, 0, bytes.length) as UnixAddress;
  return new sockaddr_un({ sun_family: AF_UNIX, sun_path: un.path });
}
