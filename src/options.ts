// setsockopt(2) / getsockopt(2), typed. Each known option (level, name) has a kind — a C int, a
// struct timeval, a struct linger, a string, struct tcp_info… — from src/option-table.ts; its
// constant's type (SockOpt<kind>) tells TypeScript what the call takes and returns. Structures are
// encoded and decoded here from layouts the addon measured; the addon only moves bytes.
import { native } from './binding';
import { LITTLE } from './byteorder';
import { ptonInto } from './inet';
import * as C from './constants';
import { errnoException, invalidArgType, invalidArgValue, outOfRange } from './errors';
import type { SockOpt } from './family';
import { type SockFilter, decodeFilter, encodeFilter } from './filter';
import { type Fd, checkFd } from './handle';
import { OPTION_TABLE } from './option-table';
import { INT32_MAX, INT32_MIN, checkBytes, checkInt, checkInt32 } from './validate';


/** `struct timeval` (SO_RCVTIMEO, SO_SNDTIMEO). */
export interface Timeval {
  tv_sec: number;
  tv_usec: number;
}
/** `struct linger` (SO_LINGER): `{ l_onoff: 1, l_linger: 0 }` makes close() send a RST. */
export interface Linger {
  l_onoff: number;
  l_linger: number;
}
/** `struct ucred` (SO_PEERCRED): the peer process of an AF_UNIX connection. */
export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}
/** `struct ip_mreq` / `ip_mreqn` (IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP), addresses as text. */
export interface IpMreq {
  imr_multiaddr: string;
  /** The local interface address ('0.0.0.0', the default, lets the kernel choose). */
  imr_interface?: string;
  /** Linux ip_mreqn: the interface by index (if_nametoindex), instead of by address. */
  imr_ifindex?: number;
}
/** `struct ipv6_mreq` (IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP). */
export interface Ipv6Mreq {
  ipv6mr_multiaddr: string;
  /** Interface index, 0 for the default. */
  ipv6mr_interface?: number;
}
/**
 * `struct packet_mreq` (PACKET_ADD_MEMBERSHIP, PACKET_DROP_MEMBERSHIP; packet(7)): on interface
 * `mr_ifindex`, PACKET_MR_PROMISC (every packet on the link), PACKET_MR_ALLMULTI (every multicast) or
 * PACKET_MR_MULTICAST with the group's link-level address (`mr_address`, `mr_alen` bytes of it).
 */
export interface PacketMreq {
  mr_ifindex: number;
  mr_type: number;
  /** The length of mr_address; defaults to the bytes given. */
  mr_alen?: number;
  /** At most 8 bytes (a MAC address is 6). */
  mr_address?: Uint8Array | readonly number[];
}
/**
 * `struct tcp_info` (TCP_INFO, tcp(7)), without the `tcpi_` prefix. Times are in microseconds
 * (rtt, rttvar, rto…) or milliseconds (last_data_recv…), as the kernel reports them; counters above
 * 2^53 lose precision (bytes_acked on a very long connection).
 */
export interface TcpInfo {
  /** TCP_ESTABLISHED, TCP_SYN_SENT, … (see `stateName`). */
  state: number;
  /** The state's name without TCP_: 'ESTABLISHED', 'CLOSE_WAIT'… */
  stateName: string;
  ca_state: number;
  retransmits: number;
  /** Unanswered keepalive probes (or zero-window probes) sent so far. */
  probes: number;
  backoff: number;
  options: number;
  rto: number;
  ato: number;
  snd_mss: number;
  rcv_mss: number;
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  last_data_sent: number;
  last_ack_sent: number;
  last_data_recv: number;
  last_ack_recv: number;
  pmtu: number;
  rcv_ssthresh: number;
  rtt: number;
  rttvar: number;
  snd_ssthresh: number;
  snd_cwnd: number;
  advmss: number;
  reordering: number;
  total_retrans: number;
  [field: string]: number | string;
}

/** What each kind of option reads back as. */
export interface OptionValues {
  int: number;
  timeval: Timeval;
  linger: Linger;
  string: string;
  tcp_info: TcpInfo;
  ucred: Ucred;
  ip_mreq: never;
  ipv6_mreq: never;
  packet_mreq: never;
  /** getsockopt(SO_GET_FILTER): the program attached, as the kernel keeps it ([] when there is none). */
  sock_fprog: SockFilter[];
}
/** What each kind of option accepts. */
export interface OptionInputs {
  int: number | boolean;
  /** Milliseconds, or a timeval. */
  timeval: number | Timeval;
  linger: Linger;
  string: string;
  ip_mreq: IpMreq;
  ipv6_mreq: Ipv6Mreq;
  packet_mreq: PacketMreq;
  /** A classic BPF program: `struct sock_filter` instructions (BPF_STMT, BPF_JUMP). */
  sock_fprog: readonly SockFilter[];
  tcp_info: never;
  ucred: never;
}
export type OptionKind = keyof OptionValues;

// (level, optname) → kind, under one small-integer key (level * 2^16 + optname): a single Map lookup
// on the hot path, with no string built. Every level and option number Linux has fits; anything
// outside that range is simply not in the table.
const kinds = new Map<number, OptionKind>();
const consts = C as unknown as Record<string, number | undefined>;
function kindKey(level: number, optname: number): number {
  return level >= 0 && level < 0x8000 && optname >= 0 && optname < 0x10000 ? level * 0x10000 + optname : -1;
}
for (const [level, name, kind] of OPTION_TABLE) {
  const l = consts[level];
  const n = consts[name];
  if (l === undefined || n === undefined) continue;
  const k = kindKey(l, n);
  if (k >= 0) kinds.set(k, kind as OptionKind);
}

/** The kind of option (level, optname), or undefined for one the table does not know. */
export function optionKind(level: number, optname: number): OptionKind | undefined {
  const k = kindKey(level, optname);
  if (k === lastKey) return lastKind;
  const kind = k < 0 ? undefined : kinds.get(k);
  lastKey = k;
  lastKind = kind;
  return kind;
}
// The last option looked up: a program that reads one option in a loop (a poll of TCP_INFO, SO_ERROR
// after each connect) skips the Map's hashing (about 25 instructions a call under callgrind).
let lastKey = -2;
let lastKind: OptionKind | undefined;

type Layout = { size: number; fields: Record<string, [offset: number, size: number]> };
const layouts = native.optionLayouts as Record<string, Layout | undefined>;

function layoutOf(name: string): Layout {
  const l = layouts[name];
  if (l === undefined) throw invalidArgValue('optname', name, `uses struct ${name}, which this platform does not have`);
  return l;
}

function putField(v: DataView, l: Layout, field: string, value: number): void {
  const [off, size] = l.fields[field];
  if (size === 8) v.setBigInt64(off, BigInt(value), LITTLE);
  else if (size === 4) v.setInt32(off, value, LITTLE);
  else if (size === 2) v.setUint16(off, value, LITTLE);
  else v.setUint8(off, value);
}

function getField(v: DataView, l: Layout, field: string, unsigned = false): number {
  const [off, size] = l.fields[field];
  if (off + size > v.byteLength) return 0; // an older kernel filled in less
  if (size === 8) return Number(unsigned ? v.getBigUint64(off, LITTLE) : v.getBigInt64(off, LITTLE));
  if (size === 4) return unsigned ? v.getUint32(off, LITTLE) : v.getInt32(off, LITTLE);
  if (size === 2) return v.getUint16(off, LITTLE);
  return v.getUint8(off);
}

function ipBytes(af: number, text: unknown, name: string): Uint8Array {
  if (typeof text !== 'string') throw invalidArgType(name, 'of type string', text);
  const out = new Uint8Array(16);
  if (ptonInto(af, text, out) !== 1) throw invalidArgValue(name, text, 'is not a numeric address');
  return out.subarray(0, af === C.AF_INET6 ? 16 : 4);
}

function encode(kind: OptionKind, value: unknown): Uint8Array {
  switch (kind) {
    case 'int': {
      if (typeof value !== 'number' && typeof value !== 'boolean') throw invalidArgType('optval', 'of type number or boolean', value);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, typeof value === 'boolean' ? Number(value) : checkInt32(value, 'optval'), LITTLE);
      return b;
    }
    case 'timeval': {
      const l = layoutOf('timeval');
      // tv_sec is a time_t: what it holds, and no more than a double counts in whole microseconds.
      // Past that the value used to wrap, and 1e300 ms became 0.28 s.
      const maxSec = l.fields.tv_sec[1] === 8 ? Math.floor(Number.MAX_SAFE_INTEGER / 1e6) : INT32_MAX;
      let tv: Timeval;
      if (typeof value === 'number') {
        if (!(value >= 0) || !(value <= maxSec * 1000)) throw outOfRange('optval', `a number of milliseconds >= 0 && <= ${maxSec * 1000}`, value);
        const us = Math.round(value * 1000);
        tv = { tv_sec: Math.floor(us / 1e6), tv_usec: us % 1e6 };
      } else if (value !== null && typeof value === 'object') {
        tv = value as Timeval;
        checkInt(tv.tv_sec, 'optval.tv_sec', 0, maxSec);
        checkInt(tv.tv_usec, 'optval.tv_usec', 0, 999_999);
      } else {
        throw invalidArgType('optval', 'a number of milliseconds or { tv_sec, tv_usec }', value);
      }
      const b = new Uint8Array(l.size);
      const v = new DataView(b.buffer);
      putField(v, l, 'tv_sec', tv.tv_sec);
      putField(v, l, 'tv_usec', tv.tv_usec);
      return b;
    }
    case 'linger': {
      if (value === null || typeof value !== 'object') throw invalidArgType('optval', 'a { l_onoff, l_linger } object', value);
      const lg = value as Linger;
      const l = layoutOf('linger');
      const b = new Uint8Array(l.size);
      const v = new DataView(b.buffer);
      putField(v, l, 'l_onoff', checkInt32(Number(lg.l_onoff), 'optval.l_onoff'));
      putField(v, l, 'l_linger', checkInt32(lg.l_linger, 'optval.l_linger'));
      return b;
    }
    case 'string': {
      if (typeof value !== 'string') throw invalidArgType('optval', 'of type string', value);
      return Buffer.from(value, 'utf8');
    }
    case 'ip_mreq': {
      if (value === null || typeof value !== 'object') throw invalidArgType('optval', 'an { imr_multiaddr, imr_interface? } object', value);
      const m = value as IpMreq;
      const useN = m.imr_ifindex !== undefined && layouts.ip_mreqn !== undefined;
      const l = layoutOf(useN ? 'ip_mreqn' : 'ip_mreq');
      const b = new Uint8Array(l.size);
      b.set(ipBytes(C.AF_INET, m.imr_multiaddr, 'optval.imr_multiaddr'), l.fields.imr_multiaddr[0]);
      const local = ipBytes(C.AF_INET, m.imr_interface ?? '0.0.0.0', 'optval.imr_interface');
      b.set(local, l.fields[useN ? 'imr_address' : 'imr_interface'][0]);
      if (useN) putField(new DataView(b.buffer), l, 'imr_ifindex', checkInt(m.imr_ifindex, 'optval.imr_ifindex', 0, 2 ** 31 - 1));
      return b;
    }
    case 'ipv6_mreq': {
      if (value === null || typeof value !== 'object') throw invalidArgType('optval', 'an { ipv6mr_multiaddr, ipv6mr_interface? } object', value);
      const m = value as Ipv6Mreq;
      const l = layoutOf('ipv6_mreq');
      const b = new Uint8Array(l.size);
      b.set(ipBytes(C.AF_INET6, m.ipv6mr_multiaddr, 'optval.ipv6mr_multiaddr'), l.fields.ipv6mr_multiaddr[0]);
      putField(new DataView(b.buffer), l, 'ipv6mr_interface', checkInt(m.ipv6mr_interface ?? 0, 'optval.ipv6mr_interface', 0, 2 ** 31 - 1));
      return b;
    }
    case 'packet_mreq': {
      if (value === null || typeof value !== 'object') throw invalidArgType('optval', 'a { mr_ifindex, mr_type, mr_alen?, mr_address? } object', value);
      const m = value as PacketMreq;
      const l = layoutOf('packet_mreq');
      const room = l.fields.mr_address[1];
      let address: Uint8Array = new Uint8Array(0);
      if (Array.isArray(m.mr_address)) address = Uint8Array.from(m.mr_address, (x, i) => checkInt(x, `optval.mr_address[${i}]`, 0, 0xff));
      else if (m.mr_address !== undefined) address = checkBytes(m.mr_address, 'optval.mr_address');
      if (address.length > room) throw outOfRange('optval.mr_address', `at most ${room} bytes`, `${address.length} bytes`);
      const b = new Uint8Array(l.size);
      const v = new DataView(b.buffer);
      putField(v, l, 'mr_ifindex', checkInt(m.mr_ifindex, 'optval.mr_ifindex', 0, INT32_MAX));
      putField(v, l, 'mr_type', checkInt(m.mr_type, 'optval.mr_type', 0, 0xffff));
      putField(v, l, 'mr_alen', checkInt(m.mr_alen ?? address.length, 'optval.mr_alen', 0, 0xffff));
      b.set(address, l.fields.mr_address[0]);
      return b;
    }
    default:
      throw invalidArgValue('optname', kind, 'is read-only (getsockopt only)');
  }
}

let stateNames: Map<number, string> | undefined;
function stateName(state: number): string {
  if (stateNames === undefined) {
    stateNames = new Map();
    for (const [k, v] of Object.entries(native.constants)) {
      if (/^TCP_(ESTABLISHED|SYN_SENT|SYN_RECV|FIN_WAIT1|FIN_WAIT2|TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK|LISTEN|CLOSING)$/.test(k)) stateNames.set(v, k.slice(4));
    }
  }
  return stateNames.get(state) ?? String(state);
}

function decode(kind: OptionKind, b: Uint8Array): unknown {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (kind) {
    case 'int':
      return b.length >= 4 ? v.getInt32(0, LITTLE) : b.length === 1 ? b[0] : b.length === 2 ? v.getInt16(0, LITTLE) : 0;
    case 'timeval': {
      const l = layoutOf('timeval');
      return { tv_sec: getField(v, l, 'tv_sec'), tv_usec: getField(v, l, 'tv_usec') };
    }
    case 'linger': {
      const l = layoutOf('linger');
      return { l_onoff: getField(v, l, 'l_onoff'), l_linger: getField(v, l, 'l_linger') };
    }
    case 'ucred': {
      const l = layoutOf('ucred');
      return { pid: getField(v, l, 'pid'), uid: getField(v, l, 'uid', true), gid: getField(v, l, 'gid', true) };
    }
    case 'string': {
      const end = b.indexOf(0);
      return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.length : end).toString('utf8');
    }
    case 'sock_fprog':
      return decodeFilter(b);
    case 'tcp_info': {
      const l = layoutOf('tcp_info');
      const info: Record<string, number | string> = {};
      for (const field of Object.keys(l.fields)) info[field.replace(/^tcpi_/, '')] = getField(v, l, field, true);
      info.stateName = stateName(info.state as number);
      return info;
    }
    default:
      throw invalidArgValue('optname', kind, 'is write-only (setsockopt only)');
  }
}

function capacity(kind: OptionKind): number {
  switch (kind) {
    case 'int': return 4;
    case 'string': return 256;
    // Room for the longest program the kernel takes (BPF_MAXINSNS): it refuses a smaller optlen with
    // EINVAL, and counts this one in instructions (native/options.cc).
    case 'sock_fprog': return (C.BPF_MAXINSNS ?? 0) * layoutOf('sock_filter').size;
    default: return layoutOf(kind).size;
  }
}

/**
 * setsockopt(2). The value's type follows the option: a number or boolean for `int` options
 * (SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, TCP_NODELAY, TCP_KEEPIDLE, IP_TTL…), milliseconds or
 * `{ tv_sec, tv_usec }` for SO_RCVTIMEO/SO_SNDTIMEO, `{ l_onoff, l_linger }` for SO_LINGER, a string for
 * SO_BINDTODEVICE/TCP_CONGESTION, `{ imr_multiaddr, imr_interface? | imr_ifindex? }` for
 * IP_ADD_MEMBERSHIP, `{ ipv6mr_multiaddr, ipv6mr_interface? }` for IPV6_JOIN_GROUP, `{ mr_ifindex,
 * mr_type, mr_alen?, mr_address? }` for PACKET_ADD_MEMBERSHIP (packet(7)), and a classic BPF program
 * — an array of `{ code, jt, jf, k }`, C's `struct sock_filter` — for SO_ATTACH_FILTER (socket(7)),
 * which the addon passes in the `struct sock_fprog` that points at it (SO_DETACH_FILTER, SO_LOCK_FILTER:
 * an int). A Buffer is passed as the raw option bytes, for any (level, optname).
 */
export function setsockopt<K extends OptionKind>(fd: Fd, level: number, optname: SockOpt<K>, optval: OptionInputs[K] | Uint8Array): void;
export function setsockopt(fd: Fd, level: number, optname: number, optval: number | boolean | Uint8Array): void;
export function setsockopt(fd: Fd, level: number, optname: number, optval: unknown): void {
  const n = checkFd(fd, 'setsockopt');
  checkInt32(level, 'level');
  checkInt32(optname, 'optname');
  let bytes: Uint8Array;
  const kind = optval instanceof Uint8Array ? undefined : (optionKind(level, optname) ?? 'int');
  if (kind === 'sock_fprog') {
    // The one option whose value points at more memory: the addon builds the struct sock_fprog.
    const rc = native.setsockoptFprog(n, level, optname, encodeFilter(optval));
    if (rc < 0) throw errnoException(rc, 'setsockopt');
    return;
  }
  if (kind === undefined) bytes = optval as Uint8Array;
  else bytes = encode(kind, optval);
  const rc = native.setsockopt(n, level, optname, bytes);
  if (rc < 0) throw errnoException(rc, 'setsockopt');
}

/**
 * getsockopt(2). Returns the value decoded by the option's kind: a number for `int` options (SO_ERROR,
 * SO_TYPE, SO_RCVBUF — which Linux reports doubled, socket(7)), `{ tv_sec, tv_usec }`, `{ l_onoff,
 * l_linger }`, `{ pid, uid, gid }` for SO_PEERCRED, a string, or a decoded `struct tcp_info` for
 * TCP_INFO, the attached classic BPF program for SO_GET_FILTER (Linux counts that optlen in
 * instructions: the addon converts, so `optlen` is bytes here too). An option the table does not know
 * is read as an int; with `optlen`, any option is returned as raw bytes (at most `optlen`, as many as
 * the kernel wrote).
 */
export function getsockopt<K extends OptionKind>(fd: Fd, level: number, optname: SockOpt<K>): OptionValues[K];
export function getsockopt(fd: Fd, level: number, optname: number): number;
export function getsockopt(fd: Fd, level: number, optname: number, optlen: number): Buffer;
export function getsockopt(fd: Fd, level: number, optname: number, optlen?: number): unknown {
  const n = checkFd(fd, 'getsockopt');
  checkInt32(level, 'level');
  checkInt32(optname, 'optname');
  const kind = optlen === undefined ? (optionKind(level, optname) ?? 'int') : undefined;
  if (kind === 'int') {
    // The common case returns the value itself: no buffer to allocate or look up (a fresh small Buffer
    // lives on V8's heap and N-API must move it off-heap, ~1 µs; bench/README.md). An error comes back
    // below every int: -errno - 2^32.
    const v = native.getsockoptInt(n, level, optname);
    if (v < INT32_MIN) throw errnoException(v + 2 ** 32, 'getsockopt');
    return v;
  }
  const out = Buffer.alloc(kind === undefined ? checkInt(optlen, 'optlen', 0, 65536) : capacity(kind));
  const rc = native.getsockopt(n, level, optname, out);
  if (rc < 0) throw errnoException(rc, 'getsockopt');
  return kind === undefined ? out.subarray(0, rc) : decode(kind, out.subarray(0, rc));
}
