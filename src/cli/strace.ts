// How socklab prints a system call: a short C-like line by default, and with `trace on` the line
// strace(1) prints for the same call (strace 6: SOCK_CLOEXEC shown, recv as recvfrom, SO_RCVTIMEO as
// SO_RCVTIMEO_OLD, 32-byte strings). Self-contained: it formats values socklab already has (plain
// addresses, option values, the bytes moved) and never wraps the library.
import {
  AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, MSG_DONTWAIT,
  MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM,
  SOL_SOCKET, encodeSockaddr, strerror,
} from '../index';
import { quote } from '../trace/format';

export { quote };

/** An IP endpoint, as the library returns it. */
export interface Endpoint {
  family: number;
  address: string;
  port: number;
  flowinfo?: number;
  scope_id?: number;
}

/** How a call ended: its return value, or the errno it failed with. */
export type Outcome = { rc: number } | { code: string; errno: number };

export const failed = (o: Outcome): o is { code: string; errno: number } => 'code' in o;

/** The short form shows messages whole, up to this many bytes. */
const TEXT_MAX = 512;
/** sizeof(struct sockaddr_storage): the address buffer the library hands to accept/recvfrom/getsockname. */
const STORAGE = 128;
/** What strace prints for a buffer the call did not fill (the real address is meaningless here). */
export const POINTER = '0x…';

const AF = new Map<number, string>([[AF_INET, 'AF_INET'], [AF_INET6, 'AF_INET6']]);
const TYPES = new Map<number, string>([[SOCK_STREAM, 'SOCK_STREAM'], [SOCK_DGRAM, 'SOCK_DGRAM'], [SOCK_RAW, 'SOCK_RAW']]);
const PROTOS = new Map<number, string>([[IPPROTO_IP, 'IPPROTO_IP'], [IPPROTO_TCP, 'IPPROTO_TCP'], [IPPROTO_UDP, 'IPPROTO_UDP'], [IPPROTO_ICMP, 'IPPROTO_ICMP']]);
if (IPPROTO_ICMPV6 !== undefined) PROTOS.set(IPPROTO_ICMPV6, 'IPPROTO_ICMPV6');
const SHUT = new Map<number, string>([[SHUT_RD, 'SHUT_RD'], [SHUT_WR, 'SHUT_WR'], [SHUT_RDWR, 'SHUT_RDWR']]);
/** Option levels as strace names them (it says SOL_TCP where C programs write IPPROTO_TCP). */
const LEVELS = new Map<number, string>([[SOL_SOCKET, 'SOL_SOCKET'], [IPPROTO_TCP, 'SOL_TCP'], [IPPROTO_IP, 'SOL_IP'], [IPPROTO_IPV6, 'SOL_IPV6']]);
const LEVELS_C = new Map<number, string>([[SOL_SOCKET, 'SOL_SOCKET'], [IPPROTO_TCP, 'IPPROTO_TCP'], [IPPROTO_IP, 'IPPROTO_IP'], [IPPROTO_IPV6, 'IPPROTO_IPV6']]);
const MSG: [string, number | undefined][] = [['MSG_OOB', MSG_OOB], ['MSG_PEEK', MSG_PEEK], ['MSG_DONTWAIT', MSG_DONTWAIT], ['MSG_NOSIGNAL', MSG_NOSIGNAL]];

const name = (m: Map<number, string>, v: number) => m.get(v) ?? String(v);

export function msgFlags(flags: number): string {
  if (flags === 0) return '0';
  const out: string[] = [];
  let rest = flags;
  for (const [n, bit] of MSG) {
    if (bit !== undefined && bit !== 0 && (rest & bit) === bit) {
      out.push(n);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.join('|');
}

/**
 * Bytes for people: the whole message, UTF-8 text shown as text (the course is in French: "réponse",
 * not "r\303\251ponse"), control characters and invalid bytes escaped as in C.
 */
export function text(bytes: Uint8Array): string {
  // Enough to read a message; a 100 kB write is not meant to be read on a terminal.
  if (bytes.length > TEXT_MAX) return `${text(bytes.subarray(0, TEXT_MAX)).slice(0, -1)}"...`;
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (decoded.includes('\uFFFD')) return quote(bytes, bytes.length, Infinity); // not UTF-8: bytes, as strace shows them
  let s = '"';
  for (const ch of decoded) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') s += '\\"';
    else if (ch === '\\') s += '\\\\';
    else if (ch === '\n') s += '\\n';
    else if (ch === '\r') s += '\\r';
    else if (ch === '\t') s += '\\t';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) s += quote(Buffer.from(ch, 'utf8'), Infinity, Infinity).slice(1, -1);
    else s += ch;
  }
  return `${s}"`;
}

/** `127.0.0.1:3400`, `[::1]:3400`. */
export function endpoint(a: Endpoint): string {
  return a.family === AF_INET6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** The sockaddr struct as strace shows it, and its length. */
export function sockaddr(a: Endpoint): string {
  if (a.family === AF_INET6) {
    return `{sa_family=AF_INET6, sin6_port=htons(${a.port}), sin6_flowinfo=htonl(${a.flowinfo ?? 0}), inet_pton(AF_INET6, "${a.address}", &sin6_addr), sin6_scope_id=${a.scope_id ?? 0}}`;
  }
  return `{sa_family=AF_INET, sin_port=htons(${a.port}), sin_addr=inet_addr("${a.address}")}`;
}

export function sockaddrLen(a: Endpoint): number {
  return encodeSockaddr(a).length;
}

/** `= 0`, `= 22`, `= -1 ECONNREFUSED (Connection refused)`. */
export function result(o: Outcome): string {
  return failed(o) ? `-1 ${o.code} (${strerror(o.errno)})` : String(o.rc);
}

/** One call, in both forms. `rc` decides which arguments are shown (a failed read filled nothing). */
export interface Line {
  /** The short form: C names and arguments, addresses as `127.0.0.1:3400`, data in full. */
  c: string;
  /** strace's form. */
  s: string;
}

/** Pads the call like strace does, so the results line up at column 40. */
export function render(line: Line, o: Outcome, trace: boolean): string {
  return trace ? `${line.s.padEnd(39)} = ${result(o)}` : `${line.c} = ${result(o)}`;
}

const cloexec = (t: number) => (SOCK_CLOEXEC !== undefined ? `${name(TYPES, t)}|SOCK_CLOEXEC` : name(TYPES, t));
const withNoSignal = (flags: number) => flags | (MSG_NOSIGNAL ?? 0);
/** `[128 => 16]`: the length the caller offered, and the one the kernel wrote back. */
const addrLenOut = (a: Endpoint) => `[${STORAGE} => ${sockaddrLen(a)}]`;

export const calls = {
  socket(domain: number, type: number, protocol: number): Line {
    // A C program passes 0 (the default protocol); strace names 0 IPPROTO_IP.
    const proto = protocol === 0 ? '0' : name(PROTOS, protocol);
    return { c: `socket(${name(AF, domain)}, ${name(TYPES, type)}, ${proto})`, s: `socket(${name(AF, domain)}, ${cloexec(type)}, ${name(PROTOS, protocol)})` };
  },
  bind(fd: number, a: Endpoint): Line {
    return { c: `bind(${fd}, ${endpoint(a)})`, s: `bind(${fd}, ${sockaddr(a)}, ${sockaddrLen(a)})` };
  },
  listen(fd: number, backlog: number): Line {
    const l = `listen(${fd}, ${backlog})`;
    return { c: l, s: l };
  },
  accept(fd: number, peer: Endpoint | null): Line {
    return {
      c: `accept(${fd}, ${peer ? endpoint(peer) : 'addr'})`,
      s: `accept4(${fd}, ${peer ? `${sockaddr(peer)}, ${addrLenOut(peer)}` : `${POINTER}, [${STORAGE}]`}, ${SOCK_CLOEXEC !== undefined ? 'SOCK_CLOEXEC' : '0'})`,
    };
  },
  connect(fd: number, a: Endpoint): Line {
    return { c: `connect(${fd}, ${endpoint(a)})`, s: `connect(${fd}, ${sockaddr(a)}, ${sockaddrLen(a)})` };
  },
  read(fd: number, data: Uint8Array | null, count: number): Line {
    return { c: `read(${fd}, ${data ? text(data) : 'buf'}, ${count})`, s: `read(${fd}, ${data ? quote(data) : POINTER}, ${count})` };
  },
  write(fd: number, data: Uint8Array): Line {
    return { c: `write(${fd}, ${text(data)}, ${data.length})`, s: `write(${fd}, ${quote(data)}, ${data.length})` };
  },
  // glibc's recv and send are the recvfrom and sendto system calls: strace names them so.
  recv(fd: number, data: Uint8Array | null, count: number, flags: number): Line {
    return {
      c: `recv(${fd}, ${data ? text(data) : 'buf'}, ${count}, ${msgFlags(flags)})`,
      s: `recvfrom(${fd}, ${data ? quote(data) : POINTER}, ${count}, ${msgFlags(flags)}, NULL, NULL)`,
    };
  },
  send(fd: number, data: Uint8Array, flags: number): Line {
    return {
      c: `send(${fd}, ${text(data)}, ${data.length}, ${msgFlags(flags)})`,
      s: `sendto(${fd}, ${quote(data)}, ${data.length}, ${msgFlags(withNoSignal(flags))}, NULL, 0)`,
    };
  },
  recvfrom(fd: number, data: Uint8Array | null, count: number, flags: number, from: Endpoint | null): Line {
    const fromC = from ? endpoint(from) : data ? 'NULL' : 'addr';
    const fromS = from ? `${sockaddr(from)}, ${addrLenOut(from)}` : data ? `NULL, [${STORAGE} => 0]` : `${POINTER}, [${STORAGE}]`;
    return {
      c: `recvfrom(${fd}, ${data ? text(data) : 'buf'}, ${count}, ${msgFlags(flags)}, ${fromC})`,
      s: `recvfrom(${fd}, ${data ? quote(data) : POINTER}, ${count}, ${msgFlags(flags)}, ${fromS})`,
    };
  },
  sendto(fd: number, data: Uint8Array, flags: number, to: Endpoint): Line {
    return {
      c: `sendto(${fd}, ${text(data)}, ${data.length}, ${msgFlags(flags)}, ${endpoint(to)})`,
      s: `sendto(${fd}, ${quote(data)}, ${data.length}, ${msgFlags(withNoSignal(flags))}, ${sockaddr(to)}, ${sockaddrLen(to)})`,
    };
  },
  shutdown(fd: number, how: number): Line {
    const l = `shutdown(${fd}, ${name(SHUT, how)})`;
    return { c: l, s: l };
  },
  close(fd: number): Line {
    const l = `close(${fd})`;
    return { c: l, s: l };
  },
  getsockname(fd: number, a: Endpoint | null): Line {
    return {
      c: `getsockname(${fd}, ${a ? endpoint(a) : 'addr'})`,
      s: `getsockname(${fd}, ${a ? `${sockaddr(a)}, ${addrLenOut(a)}` : `${POINTER}, [${STORAGE}]`})`,
    };
  },
  getpeername(fd: number, a: Endpoint | null): Line {
    return {
      c: `getpeername(${fd}, ${a ? endpoint(a) : 'addr'})`,
      s: `getpeername(${fd}, ${a ? `${sockaddr(a)}, ${addrLenOut(a)}` : `${POINTER}, [${STORAGE}]`})`,
    };
  },
  /**
   * setsockopt: `shown` is the value for people (1, {tv_sec=1, tv_usec=0}…), `strace` how strace
   * prints the optval argument and `len` its size.
   */
  setsockopt(fd: number, level: number, opt: string, shown: string, strace: string, len: number): Line {
    return {
      c: `setsockopt(${fd}, ${name(LEVELS_C, level)}, ${opt}, ${shown})`,
      s: `setsockopt(${fd}, ${name(LEVELS, level)}, ${straceOpt(opt)}, ${strace}, ${len})`,
    };
  },
  getsockopt(fd: number, level: number, opt: string, shown: string | null, strace: string | null, len: number): Line {
    return {
      c: `getsockopt(${fd}, ${name(LEVELS_C, level)}, ${opt}, ${shown ?? 'optval'})`,
      s: `getsockopt(${fd}, ${name(LEVELS, level)}, ${straceOpt(opt)}, ${strace ?? POINTER}, [${len}])`,
    };
  },
  select(nfds: number, sets: number[][], ready: number[][] | null, rc: number): string {
    const set = (a: number[]) => (a.length ? `[${a.join(' ')}]` : 'NULL');
    const tv = '{tv_sec=0, tv_usec=0}';
    let detail = '';
    if (ready && rc > 0) {
      const parts = ready.map((a, i) => (a.length ? `${['in', 'out', 'except'][i]} [${a.join(' ')}]` : '')).filter(Boolean);
      detail = ` (${parts.join(', ')}, left ${tv})`;
    } else if (rc === 0) detail = ' (Timeout)';
    return `${`select(${nfds}, ${set(sets[0])}, ${set(sets[1])}, ${set(sets[2])}, ${tv})`.padEnd(39)} = ${rc}${detail}`;
  },
};

/** strace 6 names the 64-bit time options by their historical values on Linux. */
function straceOpt(opt: string): string {
  if (process.platform === 'linux' && (opt === 'SO_RCVTIMEO' || opt === 'SO_SNDTIMEO')) return `${opt}_OLD`;
  return opt;
}

/** An int option value as strace shows it: `[1]`. */
export const intArg = (v: number) => `[${v}]`;
