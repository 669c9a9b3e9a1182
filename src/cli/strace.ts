// How socklab prints a system call: a short C-like line by default, and with `trace on` the line
// strace(1) prints for the same call. The strace form is the library's own formatter (../trace/format.ts,
// what BSOCK_TRACE prints): the same names, sockaddr layout, flags and strings; socklab only hands it
// the values it has (addresses, option values, the bytes moved), as bytes where the formatter wants them.
import {
  AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, SOCK_CLOEXEC,
  SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, SOL_SOCKET, encodeSockaddr, strerror,
} from '../index';
import * as S from '../index';
import {
  AF, MSG_FLAGS, OPTS, SHUT, SOL, STORAGE, flags as flagNames, formatPselect6, formatSockaddr, pointer, protocol, quote,
  sockType,
} from '../trace/format';

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
/** What strace prints for a buffer the call did not fill (the real address is meaningless here). */
export const POINTER = pointer;

/** The C form's names: AF_INET, SOCK_STREAM; option levels as C programs write them (IPPROTO_TCP). */
const TYPES = new Map<number, string>([[SOCK_STREAM, 'SOCK_STREAM'], [SOCK_DGRAM, 'SOCK_DGRAM'], [SOCK_RAW, 'SOCK_RAW']]);
const LEVELS_C = new Map<number, string>([[SOL_SOCKET, 'SOL_SOCKET'], [IPPROTO_TCP, 'IPPROTO_TCP'], [IPPROTO_IP, 'IPPROTO_IP'], [IPPROTO_IPV6, 'IPPROTO_IPV6']]);
const MSG: [string, number | undefined][] = [['MSG_OOB', MSG_OOB], ['MSG_PEEK', MSG_PEEK], ['MSG_DONTWAIT', MSG_DONTWAIT], ['MSG_NOSIGNAL', MSG_NOSIGNAL]];

const name = (m: Map<number, string>, v: number) => m.get(v) ?? String(v);

/** The flags as the C form shows them (the strace form uses the formatter's full table). */
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

/** The sockaddr struct as strace shows it: the formatter reads the very bytes the kernel gets. */
export function sockaddr(a: Endpoint): string {
  const bytes = encodeSockaddr(a);
  return formatSockaddr(bytes, 0, bytes.length);
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

const straceFlags = (flags: number) => flagNames(flags, MSG_FLAGS);
const withNoSignal = (flags: number) => flags | (MSG_NOSIGNAL ?? 0);
/** `[128 => 16]`: the length the caller offered, and the one the kernel wrote back. */
const addrLenOut = (a: Endpoint) => `[${STORAGE} => ${sockaddrLen(a)}]`;

export const calls = {
  socket(domain: number, type: number, protocolNumber: number): Line {
    // A C program passes 0 (the default protocol); strace names 0 IPPROTO_IP.
    const proto = protocolNumber === 0 ? '0' : protocol(domain, protocolNumber);
    return {
      c: `socket(${name(AF, domain)}, ${name(TYPES, type)}, ${proto})`,
      s: `socket(${name(AF, domain)}, ${sockType(type | (SOCK_CLOEXEC ?? 0))}, ${protocol(domain, protocolNumber)})`,
    };
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
      s: `recvfrom(${fd}, ${data ? quote(data) : POINTER}, ${count}, ${straceFlags(flags)}, NULL, NULL)`,
    };
  },
  send(fd: number, data: Uint8Array, flags: number): Line {
    return {
      c: `send(${fd}, ${text(data)}, ${data.length}, ${msgFlags(flags)})`,
      s: `sendto(${fd}, ${quote(data)}, ${data.length}, ${straceFlags(withNoSignal(flags))}, NULL, 0)`,
    };
  },
  recvfrom(fd: number, data: Uint8Array | null, count: number, flags: number, from: Endpoint | null): Line {
    const fromC = from ? endpoint(from) : data ? 'NULL' : 'addr';
    const fromS = from ? `${sockaddr(from)}, ${addrLenOut(from)}` : data ? `NULL, [${STORAGE} => 0]` : `${POINTER}, [${STORAGE}]`;
    return {
      c: `recvfrom(${fd}, ${data ? text(data) : 'buf'}, ${count}, ${msgFlags(flags)}, ${fromC})`,
      s: `recvfrom(${fd}, ${data ? quote(data) : POINTER}, ${count}, ${straceFlags(flags)}, ${fromS})`,
    };
  },
  sendto(fd: number, data: Uint8Array, flags: number, to: Endpoint): Line {
    return {
      c: `sendto(${fd}, ${text(data)}, ${data.length}, ${msgFlags(flags)}, ${endpoint(to)})`,
      s: `sendto(${fd}, ${quote(data)}, ${data.length}, ${straceFlags(withNoSignal(flags))}, ${sockaddr(to)}, ${sockaddrLen(to)})`,
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
      s: `setsockopt(${fd}, ${name(SOL, level)}, ${straceOpt(level, opt)}, ${strace}, ${len})`,
    };
  },
  getsockopt(fd: number, level: number, opt: string, shown: string | null, strace: string | null, len: number): Line {
    return {
      c: `getsockopt(${fd}, ${name(LEVELS_C, level)}, ${opt}, ${shown ?? 'optval'})`,
      s: `getsockopt(${fd}, ${name(SOL, level)}, ${straceOpt(level, opt)}, ${strace ?? POINTER}, [${len}])`,
    };
  },
  /** select(2) with a zero timeout (the = table), as the pselect6 glibc makes: the formatter's form. */
  select(sets: number[][], ready: number[][], rc: number): string {
    const [call, detail] = formatPselect6(sets, 0, rc, ready, 0);
    return `${call.padEnd(39)} = ${rc}${detail}`;
  },
};

/** An option as strace names it: the formatter's table, by the option's value (SO_RCVTIMEO_OLD…). */
function straceOpt(level: number, opt: string): string {
  const value = (S as unknown as Record<string, number | undefined>)[opt];
  return (value !== undefined ? OPTS.get(level)?.get(value) : undefined) ?? opt;
}

/** An int option value as strace shows it: `[1]`. */
export const intArg = (v: number) => `[${v}]`;
