// How strace(1) prints a system call's arguments and result: the one formatter of the library (the
// trace, socklab's `trace on`). Values come from the platform's constants and the measured layout of
// its structures, never from a number written here.
import { readFileSync, readdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { native } from '../binding';
import { LITTLE } from '../byteorder';
import { errnoName } from '../errors';

export const C = native.constants;
export const L = native.layout;

/** Reverse lookup of a constant by prefix ('AF_' → AF_INET…), first name wins. */
function names(prefix: RegExp, exclude?: RegExp): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(C)) if (prefix.test(k) && !exclude?.test(k) && !m.has(v)) m.set(v, k);
  return m;
}
export const AF = names(/^AF_/, /^AF_LOCAL$/);
export const SOCK_TYPES = names(/^SOCK_(STREAM|DGRAM|RAW|SEQPACKET|RDM)$/);
export const PROTO = names(/^IPPROTO_/);
export const SOL = new Map<number, string>([[C.SOL_SOCKET, 'SOL_SOCKET'], [C.IPPROTO_TCP, 'SOL_TCP'], [C.IPPROTO_IP, 'SOL_IP'], [C.IPPROTO_IPV6, 'SOL_IPV6'], [C.IPPROTO_UDP, 'SOL_UDP']]);
export const OPTS = new Map<number, Map<number, string>>([
  [C.SOL_SOCKET, names(/^SO_/)],
  [C.IPPROTO_TCP, names(/^TCP_(?!ESTABLISHED|SYN_|FIN_|TIME_WAIT|CLOSE|LAST_ACK|LISTEN|CLOSING)/)],
  [C.IPPROTO_IP, names(/^IP_/)],
  [C.IPPROTO_IPV6, names(/^IPV6_/)],
]);
if (C.SOL_PACKET !== undefined) {
  SOL.set(C.SOL_PACKET, 'SOL_PACKET');
  OPTS.set(C.SOL_PACKET, names(/^PACKET_(ADD|DROP)_MEMBERSHIP$/));
}
// strace names the 64-bit time options by their historical values on Linux.
if (process.platform === 'linux') {
  for (const [name, old] of [['SO_RCVTIMEO', 'SO_RCVTIMEO_OLD'], ['SO_SNDTIMEO', 'SO_SNDTIMEO_OLD'], ['SO_TIMESTAMP', 'SO_TIMESTAMP_OLD'], ['SO_TIMESTAMPNS', 'SO_TIMESTAMPNS_OLD']]) {
    if (C[name] !== undefined) OPTS.get(C.SOL_SOCKET)!.set(C[name], old);
  }
}
export const MSG_FLAGS = ['MSG_OOB', 'MSG_PEEK', 'MSG_DONTROUTE', 'MSG_CTRUNC', 'MSG_TRUNC', 'MSG_DONTWAIT', 'MSG_EOR', 'MSG_WAITALL',
  'MSG_CONFIRM', 'MSG_ERRQUEUE', 'MSG_NOSIGNAL', 'MSG_MORE', 'MSG_FASTOPEN', 'MSG_ZEROCOPY', 'MSG_CMSG_CLOEXEC'];
export const SHUT = new Map([[C.SHUT_RD, 'SHUT_RD'], [C.SHUT_WR, 'SHUT_WR'], [C.SHUT_RDWR, 'SHUT_RDWR']]);
export const STRSIZE = 32; // strace -s default

export function flags(value: number, table: string[], zero = '0'): string {
  if (value === 0) return zero;
  const out: string[] = [];
  let rest = value;
  for (const name of table) {
    const bit = C[name];
    if (bit !== undefined && (rest & bit) === bit && bit !== 0) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${(rest >>> 0).toString(16)}`);
  return out.join('|');
}

export function sockType(type: number): string {
  const base = type & ~((C.SOCK_CLOEXEC ?? 0) | (C.SOCK_NONBLOCK ?? 0));
  const parts = [SOCK_TYPES.get(base) ?? String(base)];
  if (C.SOCK_CLOEXEC !== undefined && type & C.SOCK_CLOEXEC) parts.push('SOCK_CLOEXEC');
  if (C.SOCK_NONBLOCK !== undefined && type & C.SOCK_NONBLOCK) parts.push('SOCK_NONBLOCK');
  return parts.join('|');
}

export function protocol(domain: number, proto: number): string {
  // packet(7): the protocol is an Ethernet type in network order, htons(ETH_P_ALL).
  if (domain === C.AF_PACKET && proto >= 0 && proto <= 0xffff) return `htons(${ethProtocol(swap16(proto))})`;
  if (domain !== C.AF_INET && domain !== C.AF_INET6) return String(proto);
  return PROTO.get(proto) ?? String(proto);
}

/** ntohs/htons of a 16-bit value on this host (the identity where the host is big-endian). */
const swap16 = (x: number) => (LITTLE ? ((x & 0xff) << 8) | ((x >>> 8) & 0xff) : x);

/** A number strace has no name for: C's `%#x` (0 stays 0), then the comment naming what it should be. */
const unknown = (value: number, what: string) => `${value === 0 ? '0' : `0x${value.toString(16)}`} /* ${what}??? */`;

/** The first name of `table` whose constant is `value`, or `value` as strace prints an unknown one. */
function named(value: number, table: string[], what: string): string {
  for (const name of table) if (C[name] === value) return name;
  return unknown(value, what);
}

const ETH_P = ['ETH_P_ALL', 'ETH_P_IP', 'ETH_P_IPV6', 'ETH_P_ARP'];
const ARPHRD = ['ARPHRD_NETROM', 'ARPHRD_ETHER', 'ARPHRD_LOOPBACK', 'ARPHRD_NONE'];
const PKTTYPE = ['PACKET_HOST', 'PACKET_BROADCAST', 'PACKET_MULTICAST', 'PACKET_OTHERHOST', 'PACKET_OUTGOING'];
const MR_TYPE = ['PACKET_MR_MULTICAST', 'PACKET_MR_PROMISC', 'PACKET_MR_ALLMULTI'];

/** An Ethernet protocol number (host order) as strace names it: ETH_P_IP, or `0x1234 /* ETH_P_??? *\/`. */
export const ethProtocol = (p: number) => named(p, ETH_P, 'ETH_P_');

/**
 * An interface index as strace prints it: `if_nametoindex("lo")` when an interface has it, else the
 * number. Looked up in /sys/class/net: if_indextoname(3) would make its own socket and ioctl in this
 * process, calls that would show up in the very strace the trace is compared with.
 */
export function ifIndex(index: number): string {
  if (process.platform === 'linux' && index > 0) {
    try {
      for (const name of readdirSync('/sys/class/net')) {
        if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8')) === index) return `if_nametoindex(${quote(Buffer.from(name))})`;
      }
    } catch {
      // no sysfs: the number
    }
  }
  return String(index);
}

/** A hardware address byte as strace prints sll_addr's: C's `%#02x` (00, 0x2, 0xfc). */
const hexByte = (b: number) => (b === 0 ? '00' : `0x${b.toString(16)}`);

/** struct sockaddr_ll's fields after sa_family, as strace prints them (at least sizeof bytes: the caller checks). */
function formatSockaddrLl(b: Uint8Array, off: number, v: DataView): string {
  const halen = b[off + L.sll_halen!];
  const shown = Array.from(b.subarray(off + L.sll_addr!, off + L.sll_addr! + Math.min(halen, L.sll_addr_size!)), hexByte);
  if (halen > L.sll_addr_size!) shown.push('...');
  const ifindex = v.getInt32(L.sll_ifindex!, LITTLE);
  return `sll_protocol=htons(${ethProtocol(v.getUint16(L.sll_protocol!, false))}), sll_ifindex=${ifIndex(ifindex)}, ` +
    `sll_hatype=${named(v.getUint16(L.sll_hatype!, LITTLE), ARPHRD, 'ARPHRD_')}, ` +
    `sll_pkttype=${named(b[off + L.sll_pkttype!], PKTTYPE, 'PACKET_')}, sll_halen=${halen}` +
    (halen > 0 ? `, sll_addr=[${shown.join(', ')}]` : '');
}

/**
 * setsockopt's struct packet_mreq (PACKET_ADD_MEMBERSHIP) as strace prints it:
 * `{mr_ifindex=if_nametoindex("lo"), mr_type=PACKET_MR_PROMISC, mr_alen=0, mr_address=}`.
 */
export function formatPacketMreq(b: Uint8Array): string {
  const l = native.optionLayouts.packet_mreq!;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const [ifi, type, alen, address] = ['mr_ifindex', 'mr_type', 'mr_alen', 'mr_address'].map((f) => l.fields[f]);
  const len = v.getUint16(alen[0], LITTLE);
  const bytes = b.subarray(address[0], address[0] + Math.min(len, address[1]));
  return `{mr_ifindex=${ifIndex(v.getInt32(ifi[0], LITTLE))}, mr_type=${named(v.getUint16(type[0], LITTLE), MR_TYPE, 'PACKET_MR_')}, ` +
    `mr_alen=${len}, mr_address=${Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join(':')}}`;
}

/** SO_ATTACH_FILTER's struct sock_fprog as strace prints it: the length, and where the program is. */
export const formatFprog = (instructions: number) => `{len=${instructions}, filter=${pointer}}`;

/**
 * An ioctl request as strace names it. On Linux SIOCINQ is FIONREAD's number and SIOCOUTQ TIOCOUTQ's
 * (a terminal's output queue), and strace prints the terminal names.
 */
export function ioctlRequest(request: number): string {
  if (request === C.FIONREAD) return 'FIONREAD';
  if (request === C.SIOCATMARK) return 'SIOCATMARK';
  if (request === C.SIOCOUTQ) return process.platform === 'linux' ? 'TIOCOUTQ' : 'SIOCOUTQ';
  return `0x${(request >>> 0).toString(16)}`;
}

/**
 * The first `length` bytes as strace shows them: C escapes, octal for the rest, at most `max` bytes
 * (strace's `-s`, 32) then "...".
 */
export function quote(bytes: Uint8Array, length = bytes.length, max = STRSIZE): string {
  const n = Math.min(length, bytes.length);
  let s = '"';
  for (let i = 0; i < Math.min(n, max); i++) {
    const c = bytes[i];
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x0c) s += '\\f';
    else if (c === 0x0b) s += '\\v';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else {
      const next = i + 1 < n ? bytes[i + 1] : -1;
      // Octal, as short as possible unless a digit follows (then three digits, so it stays unambiguous).
      s += `\\${next >= 0x30 && next <= 0x37 ? c.toString(8).padStart(3, '0') : c.toString(8)}`;
    }
  }
  return `${s}"${n > max ? '...' : ''}`;
}

function u16be(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** A sockaddr as strace shows it. */
export function formatSockaddr(b: Uint8Array, off: number, len: number): string {
  if (len < L.sa_family_offset + L.sa_family_size) return '{}';
  const v = new DataView(b.buffer, b.byteOffset + off, len);
  const family = L.sa_family_size === 1 ? b[off + L.sa_family_offset] : v.getUint16(L.sa_family_offset, LITTLE);
  const fam = `sa_family=${AF.get(family) ?? family}`;
  if (family === C.AF_INET && len >= L.sockaddr_in) {
    const a = off + L.sin_addr;
    return `{${fam}, sin_port=htons(${u16be(b, off + L.sin_port)}), sin_addr=inet_addr("${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}")}`;
  }
  if (family === C.AF_INET6 && len >= L.sockaddr_in6) {
    const text = native.inet_ntop(C.AF_INET6, b.subarray(off + L.sin6_addr, off + L.sin6_addr + 16));
    const flow = v.getUint32(L.sin6_flowinfo, false);
    return `{${fam}, sin6_port=htons(${u16be(b, off + L.sin6_port)}), sin6_flowinfo=htonl(${flow}), inet_pton(AF_INET6, "${text}", &sin6_addr), sin6_scope_id=${v.getUint32(L.sin6_scope_id, LITTLE)}}`;
  }
  // strace decodes a sockaddr_ll only when all of it is there (the 18 bytes getsockname returns on lo
  // fall back to sa_data).
  if (family === C.AF_PACKET && L.sockaddr_ll !== undefined && len >= L.sockaddr_ll) return `{${fam}, ${formatSockaddrLl(b, off, v)}}`;
  if (family === C.AF_UNIX) {
    const p = b.subarray(off + L.sun_path, off + len);
    if (p.length === 0) return `{${fam}}`;
    if (p[0] === 0) return `{${fam}, sun_path=@${quote(p.subarray(1))}}`;
    const end = p.indexOf(0);
    return `{${fam}, sun_path=${quote(end < 0 ? p : p.subarray(0, end))}}`;
  }
  return `{${fam}, sa_data=${quote(b.subarray(off + L.sa_family_offset + L.sa_family_size, off + len))}}`;
}

// Where two names share a number, strace prints the kernel's (asm-generic/errno.h); Node (libuv) may
// print the other: 95 is EOPNOTSUPP to strace and ENOTSUP to Node.
const STRACE_ERRNO = new Map<number, string>(
  process.platform === 'linux' && osConstants.errno.EOPNOTSUPP !== undefined ? [[osConstants.errno.EOPNOTSUPP, 'EOPNOTSUPP']] : [],
);

/** A result as strace shows it: the value, or -1 and the errno's name and text. */
export function result(rc: number): string {
  if (typeof rc !== 'number' || rc >= 0) return String(rc);
  let code = STRACE_ERRNO.get(-rc);
  try {
    code ??= getSystemErrorName(rc);
  } catch {
    code = undefined;
  }
  if (code === undefined || code.startsWith('Unknown')) code = errnoName(-rc) ?? String(-rc);
  return `-1 ${code} (${native.strerror(-rc)})`;
}

export const addrOutLen = (out: Uint8Array) => new DataView(out.buffer, out.byteOffset, 4).getUint32(0, LITTLE);
export const addrOut = (out: Uint8Array) => formatSockaddr(out, native.abi.addrHeader, addrOutLen(out));
/**
 * The (address, &len) pair of accept and recvfrom as strace prints it: `NULL, NULL` when none was asked
 * for (-1), `[16]` when the kernel kept the length passed, `[128 => 16]` when it changed it.
 */
export function addrResult(out: Uint8Array, alen: number | undefined, rc: number): string {
  if (alen === -1) return 'NULL, NULL';
  const asked = alen ?? STORAGE;
  if (rc < 0) return `${pointer}, [${asked}]`;
  const len = addrOutLen(out);
  if (len === 0) return `NULL, [${asked} => 0]`;
  return `${addrOut(out)}, [${len === asked ? asked : `${asked} => ${len}`}]`;
}
export const addrIn = (b: Uint8Array) => `${formatSockaddr(b, 0, b.length)}, ${b.length}`;
export const STORAGE = L.sockaddr_storage;
export const pointer = '0x…'; // strace shows the buffer's address when it did not fill it
export const data = (b: Uint8Array, off: number, n: number) => quote(b.subarray(off, off + n));

// ── sendmsg(2) / recvmsg(2): struct msghdr as strace shows it ────────────────────────────────────

const cmsgAlign = (n: number) => Math.ceil(n / L.cmsg_align) * L.cmsg_align;

function readSize(v: DataView, off: number, size: number): number {
  if (size === 8) return Number(v.getBigUint64(off, LITTLE));
  return v.getUint32(off, LITTLE);
}

/** Ancillary data as strace shows it: [{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]. */
function formatControl(ctrl: Uint8Array, len: number): string {
  const v = new DataView(ctrl.buffer, ctrl.byteOffset, Math.min(len, ctrl.length));
  const out: string[] = [];
  for (let off = 0; off + L.cmsghdr <= v.byteLength;) {
    const clen = readSize(v, off + L.cmsg_len, L.cmsg_len_size);
    if (clen < L.cmsg_data || off + clen > v.byteLength) break;
    const level = v.getInt32(off + L.cmsg_level, LITTLE);
    const type = v.getInt32(off + L.cmsg_type, LITTLE);
    const dataOff = off + L.cmsg_data;
    const dataLen = clen - L.cmsg_data;
    let typeName = String(type);
    let shown: string;
    if (level === C.SOL_SOCKET && type === C.SCM_RIGHTS) {
      typeName = 'SCM_RIGHTS';
      const fds: number[] = [];
      for (let p = 0; p + 4 <= dataLen; p += 4) fds.push(v.getInt32(dataOff + p, LITTLE));
      shown = `[${fds.join(', ')}]`;
    } else if (level === C.SOL_SOCKET && type === C.SCM_CREDENTIALS && L.ucred !== undefined && dataLen >= L.ucred) {
      typeName = 'SCM_CREDENTIALS';
      shown = `{pid=${v.getInt32(dataOff + L.ucred_pid!, LITTLE)}, uid=${v.getUint32(dataOff + L.ucred_uid!, LITTLE)}, gid=${v.getUint32(dataOff + L.ucred_gid!, LITTLE)}}`;
    } else if (level === C.SOL_SOCKET && type === C.SCM_TIMESTAMPNS && dataLen >= L.timespec) {
      // Named as the option that asks for it (SO_TIMESTAMPNS_OLD on 64-bit Linux), as strace does.
      typeName = OPTS.get(level)?.get(type) ?? 'SCM_TIMESTAMPNS';
      const field = (at: number, size: number) => (size === 8 ? v.getBigInt64(dataOff + at, LITTLE) : v.getInt32(dataOff + at, LITTLE));
      shown = `{tv_sec=${field(L.tv_sec, L.tv_sec_size)}, tv_nsec=${field(L.tv_nsec, L.tv_nsec_size)}}`;
    } else {
      typeName = OPTS.get(level)?.get(type) ?? String(type);
      shown = quote(ctrl.subarray(dataOff, dataOff + dataLen));
    }
    out.push(`{cmsg_len=${clen}, cmsg_level=${SOL.get(level) ?? level}, cmsg_type=${typeName}, cmsg_data=${shown}}`);
    off += cmsgAlign(clen);
  }
  return `[${out.join(', ')}]`;
}

/** The iovecs, each with what it holds: `shown` bytes in all, filling them in order (what was moved). */
function formatIov(iov: Uint8Array[], shown: number): string {
  let left = shown;
  const parts = iov.map((b) => {
    const n = Math.max(0, Math.min(left, b.length));
    left -= n;
    return `{iov_base=${quote(b, n)}, iov_len=${b.length}}`;
  });
  return `[${parts.join(', ')}]`;
}

const MSG_FLAG_TABLE = MSG_FLAGS;

/** sendmsg's struct msghdr: the name given (or NULL), every iovec whole, the control given. */
export function formatSentMsg(iov: Uint8Array[], name: Uint8Array | null, control: Uint8Array | null): string {
  const total = iov.reduce((n, b) => n + b.length, 0);
  const ctrl = control !== null && control.length > 0
    ? `msg_control=${formatControl(control, control.length)}, msg_controllen=${control.length}`
    : 'msg_controllen=0';
  const nm = name !== null && name.length > 0 ? `msg_name=${formatSockaddr(name, 0, name.length)}, msg_namelen=${name.length}` : 'msg_name=NULL, msg_namelen=0';
  return `{${nm}, msg_iov=${formatIov(iov, total)}, msg_iovlen=${iov.length}, ${ctrl}, msg_flags=0}`;
}

/** recvmsg's struct msghdr as the kernel filled it: `rc` bytes across the iovecs, the sender, the control. */
export function formatReceivedMsg(iov: Uint8Array[], rc: number, addr: Uint8Array, control: Uint8Array, controlLen: number, msgFlags: number): string {
  const alen = addrOutLen(addr);
  const nm = alen > 0 ? `msg_name=${addrOut(addr)}, msg_namelen=${STORAGE} => ${alen}` : `msg_name=${pointer}, msg_namelen=${STORAGE} => 0`;
  const ctrl = controlLen > 0 ? `msg_control=${formatControl(control, controlLen)}, msg_controllen=${controlLen}` : 'msg_controllen=0';
  return `{${nm}, msg_iov=${formatIov(iov, rc)}, msg_iovlen=${iov.length}, ${ctrl}, msg_flags=${flags(msgFlags, MSG_FLAG_TABLE)}}`;
}

// ── wait4(2) ──────────────────────────────────────────────────────────────────────────────────────

const signalName = (n: number) => Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? String(n);

/**
 * A wait status as strace decodes it, from the addon's [status, exited, code, signaled, signal, core,
 * stopped, stopsig] (native/process.cc decodes it with the C macros).
 */
export function formatWaitStatus(out: Int32Array): string {
  if (out[1]) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${out[2]}}]`;
  if (out[3]) return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(out[4])}${out[5] ? ' && WCOREDUMP(s)' : ''}}]`;
  if (out[6]) return `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${signalName(out[7])}}]`;
  return `[${out[0]}]`;
}

/** waitpid(2)'s options by name: WNOHANG|WUNTRACED|WCONTINUED (their values are the addon's, process.cc). */
export function waitOptions(options: number): string {
  if (options === 0) return '0';
  const out: string[] = [];
  let rest = options;
  for (const [name, bit] of Object.entries(native.process)) {
    if (bit !== 0 && (rest & bit) === bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${(rest >>> 0).toString(16)}`);
  return out.join('|');
}

// ── pselect6(2): what glibc's select(3) is ───────────────────────────────────────────────────────

/**
 * pselect6 as strace shows it: every set given ([] when empty), the timeout as a timespec (NULL:
 * forever), and after a positive result the ready sets and the time left (`leftUs`).
 */
export function formatPselect6(
  sets: (number[] | null)[], timeoutUs: number, rc: number, ready: number[][], leftUs: number, nfdsGiven?: number,
): [call: string, detail: string] {
  const nfds = nfdsGiven ?? Math.max(-1, ...sets.flatMap((a) => a ?? [])) + 1;
  const set = (a: number[] | null) => (a === null ? 'NULL' : `[${a.join(' ')}]`);
  const ts = (usec: number) => `{tv_sec=${Math.floor(usec / 1e6)}, tv_nsec=${(usec % 1e6) * 1000}}`;
  let detail = '';
  if (rc > 0) {
    const parts = ready.map((a, i) => (a.length ? `${['in', 'out', 'except'][i]} [${a.join(' ')}]` : '')).filter(Boolean);
    if (timeoutUs >= 0) parts.push(`left ${ts(Math.max(0, leftUs))}`);
    detail = ` (${parts.join(', ')})`;
  } else if (rc === 0) detail = ' (Timeout)';
  return [`pselect6(${nfds}, ${set(sets[0])}, ${set(sets[1])}, ${set(sets[2])}, ${timeoutUs < 0 ? 'NULL' : ts(timeoutUs)}, NULL)`, detail];
}

// ── epoll(7) ─────────────────────────────────────────────────────────────────────────────────────

/** The EPOLL* event bits in the order strace prints them: by value (EPOLLIN first, EPOLLET last). */
const EPOLL_EVENT_BITS = Object.entries(C).filter(([k]) => /^EPOLL[A-Z]+$/.test(k)).sort(([, a], [, b]) => a - b);

/**
 * An epoll event mask as strace prints it: names joined by |, then the bits it does not know in hex;
 * a mask of unknown bits alone is `0x400000 /* EPOLL??? *\/`. EPOLLET is 1u << 31: compared unsigned.
 */
export function epollEvents(mask: number): string {
  let rest = mask >>> 0;
  if (rest === 0) return '0';
  const out: string[] = [];
  for (const [name, bit] of EPOLL_EVENT_BITS) {
    if (bit !== 0 && ((rest & bit) >>> 0) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest === 0) return out.join('|');
  if (out.length === 0) return `0x${rest.toString(16)} /* EPOLL??? */`;
  return `${out.join('|')}|0x${rest.toString(16)}`;
}

/** epoll_ctl's op: EPOLL_CTL_ADD, _MOD, _DEL, or `0x7 /* EPOLL_CTL_??? *\/`. */
export function epollOp(op: number): string {
  for (const name of ['EPOLL_CTL_ADD', 'EPOLL_CTL_MOD', 'EPOLL_CTL_DEL']) if (C[name] === op) return name;
  return `${op < 0 ? op : `0x${op.toString(16)}`} /* EPOLL_CTL_??? */`;
}

/** A struct epoll_event as strace prints it: `{events=EPOLLIN, data={u32=3, u64=3}}`. */
export function epollEvent(events: number, dataLo: number, dataHi: number): string {
  const u64 = (BigInt(dataHi >>> 0) << 32n) | BigInt(dataLo >>> 0);
  return `{events=${epollEvents(events)}, data={u32=${dataLo >>> 0}, u64=${u64}}}`;
}

/** The first `count` struct epoll_event the kernel wrote into `words` (native.epollLayout), as strace's array. */
export function epollEventArray(words: Uint32Array, count: number): string {
  const { size, events, data } = native.epollLayout;
  const stride = size / 4;
  const lo = data / 4 + (LITTLE ? 0 : 1);
  const hi = data / 4 + (LITTLE ? 1 : 0);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    out.push(epollEvent(words[base + events / 4], words[base + lo], words[base + hi]));
  }
  return `[${out.join(', ')}]`;
}

// setsockopt's and getsockopt's option values (trace.ts's wrappers).
export const optionLayouts = native.optionLayouts as Record<string, { size: number; fields: Record<string, [number, number]> } | undefined>;
export const FILTER = optionLayouts.sock_filter?.size ?? 1;

/**
 * setsockopt's value as strace prints it: an int as [n], the structures it decodes (packet_mreq,
 * sock_fprog) field by field and its pointer when they are cut short, other bytes as a string.
 */
export function optionValue(level: number, name: number, v: Uint8Array): string {
  if (level === C.SOL_PACKET && (name === C.PACKET_ADD_MEMBERSHIP || name === C.PACKET_DROP_MEMBERSHIP)) {
    return v.length >= (optionLayouts.packet_mreq?.size ?? Infinity) ? formatPacketMreq(v) : pointer;
  }
  if (level === C.SOL_SOCKET && name === C.SO_ATTACH_FILTER) {
    const fprog = optionLayouts.sock_fprog;
    if (fprog === undefined || v.length < fprog.size) return pointer;
    return formatFprog(new DataView(v.buffer, v.byteOffset, v.length).getUint16(fprog.fields.len[0], LITTLE));
  }
  return v.length === 4 ? `[${new DataView(v.buffer, v.byteOffset, 4).getInt32(0, LITTLE)}]` : quote(v);
}

/** Whether getsockopt(level, name) is Linux's SO_GET_FILTER, whose optlen counts instructions. */
export const isGetFilter = (level: number, name: number) => level === C.SOL_SOCKET && name === C.SO_GET_FILTER && C.SO_GET_FILTER !== undefined;
