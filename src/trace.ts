// The trace: every system call the library makes, printed the way `strace` prints it — the course's
// -DDEBUG, done properly. Turned on by BSOCK_TRACE=1 or trace(true). It works by swapping the addon's
// functions for formatting wrappers, so when it is off the calls are the addon's own: no cost at all.
import { writeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { type Native, native } from './binding';
import { renderDiagram } from './diagram';
import { errnoName } from './errors';

type Sink = (line: string) => void;

const original: Partial<Native> = {};
let sink: Sink | undefined;

const C = native.constants;
const L = native.layout;

/** Reverse lookup of a constant by prefix ('AF_' → AF_INET…), first name wins. */
function names(prefix: RegExp, exclude?: RegExp): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(C)) if (prefix.test(k) && !exclude?.test(k) && !m.has(v)) m.set(v, k);
  return m;
}
const AF = names(/^AF_/, /^AF_LOCAL$/);
const SOCK_TYPES = names(/^SOCK_(STREAM|DGRAM|RAW|SEQPACKET|RDM)$/);
const PROTO = names(/^IPPROTO_/);
const SOL = new Map<number, string>([[C.SOL_SOCKET, 'SOL_SOCKET'], [C.IPPROTO_TCP, 'SOL_TCP'], [C.IPPROTO_IP, 'SOL_IP'], [C.IPPROTO_IPV6, 'SOL_IPV6'], [C.IPPROTO_UDP, 'SOL_UDP']]);
const OPTS = new Map<number, Map<number, string>>([
  [C.SOL_SOCKET, names(/^SO_/)],
  [C.IPPROTO_TCP, names(/^TCP_(?!ESTABLISHED|SYN_|FIN_|TIME_WAIT|CLOSE|LAST_ACK|LISTEN|CLOSING)/)],
  [C.IPPROTO_IP, names(/^IP_/)],
  [C.IPPROTO_IPV6, names(/^IPV6_/)],
]);
// strace names the 64-bit time options by their historical values on Linux.
if (process.platform === 'linux') {
  for (const [name, old] of [['SO_RCVTIMEO', 'SO_RCVTIMEO_OLD'], ['SO_SNDTIMEO', 'SO_SNDTIMEO_OLD'], ['SO_TIMESTAMP', 'SO_TIMESTAMP_OLD']]) {
    if (C[name] !== undefined) OPTS.get(C.SOL_SOCKET)!.set(C[name], old);
  }
}
const MSG_FLAGS = ['MSG_OOB', 'MSG_PEEK', 'MSG_DONTROUTE', 'MSG_CTRUNC', 'MSG_TRUNC', 'MSG_DONTWAIT', 'MSG_EOR', 'MSG_WAITALL',
  'MSG_CONFIRM', 'MSG_ERRQUEUE', 'MSG_NOSIGNAL', 'MSG_MORE', 'MSG_FASTOPEN', 'MSG_ZEROCOPY', 'MSG_CMSG_CLOEXEC'];
const SHUT = new Map([[C.SHUT_RD, 'SHUT_RD'], [C.SHUT_WR, 'SHUT_WR'], [C.SHUT_RDWR, 'SHUT_RDWR']]);
const STRSIZE = 32; // strace -s default

function flags(value: number, table: string[], zero = '0'): string {
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

function sockType(type: number): string {
  const base = type & ~((C.SOCK_CLOEXEC ?? 0) | (C.SOCK_NONBLOCK ?? 0));
  const parts = [SOCK_TYPES.get(base) ?? String(base)];
  if (C.SOCK_CLOEXEC !== undefined && type & C.SOCK_CLOEXEC) parts.push('SOCK_CLOEXEC');
  if (C.SOCK_NONBLOCK !== undefined && type & C.SOCK_NONBLOCK) parts.push('SOCK_NONBLOCK');
  return parts.join('|');
}

function protocol(domain: number, proto: number): string {
  if (domain !== C.AF_INET && domain !== C.AF_INET6) return String(proto);
  return PROTO.get(proto) ?? String(proto);
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
  const family = L.sa_family_size === 1 ? b[off + L.sa_family_offset] : v.getUint16(L.sa_family_offset, true);
  const fam = `sa_family=${AF.get(family) ?? family}`;
  if (family === C.AF_INET && len >= L.sockaddr_in) {
    const a = off + L.sin_addr;
    return `{${fam}, sin_port=htons(${u16be(b, off + L.sin_port)}), sin_addr=inet_addr("${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}")}`;
  }
  if (family === C.AF_INET6 && len >= L.sockaddr_in6) {
    const text = native.inet_ntop(C.AF_INET6, b.subarray(off + L.sin6_addr, off + L.sin6_addr + 16));
    const flow = v.getUint32(L.sin6_flowinfo, false);
    return `{${fam}, sin6_port=htons(${u16be(b, off + L.sin6_port)}), sin6_flowinfo=htonl(${flow}), inet_pton(AF_INET6, "${text}", &sin6_addr), sin6_scope_id=${v.getUint32(L.sin6_scope_id, true)}}`;
  }
  if (family === C.AF_UNIX) {
    const p = b.subarray(off + L.sun_path, off + len);
    if (p.length === 0) return `{${fam}}`;
    if (p[0] === 0) return `{${fam}, sun_path=@${quote(p.subarray(1))}}`;
    const end = p.indexOf(0);
    return `{${fam}, sun_path=${quote(end < 0 ? p : p.subarray(0, end))}}`;
  }
  return `{${fam}, sa_data=${quote(b.subarray(off + L.sa_family_offset + L.sa_family_size, off + len))}}`;
}

function result(rc: number): string {
  if (typeof rc !== 'number' || rc >= 0) return String(rc);
  let code: string | undefined;
  try {
    code = getSystemErrorName(rc);
  } catch {
    code = undefined;
  }
  if (code === undefined || code.startsWith('Unknown')) code = errnoName(-rc) ?? String(-rc);
  return `-1 ${code} (${native.strerror(-rc)})`;
}

function emit(call: string, rc: number, detail = ''): void {
  sink?.(`${call.padEnd(39)} = ${result(rc)}${rc >= 0 ? detail : ''}`);
}

const addrOutLen = (out: Uint8Array) => new DataView(out.buffer, out.byteOffset, 4).getUint32(0, true);
const addrOut = (out: Uint8Array) => formatSockaddr(out, native.abi.addrHeader, addrOutLen(out));
const addrIn = (b: Uint8Array) => `${formatSockaddr(b, 0, b.length)}, ${b.length}`;
const STORAGE = L.sockaddr_storage;
const pointer = '0x…'; // strace shows the buffer's address when it did not fill it
const data = (b: Uint8Array, off: number, n: number) => quote(b.subarray(off, off + n));

/** Wrappers for each native call: same arguments, same result, plus one strace-like line. */
const wrappers: { [K in keyof Native]?: (f: Native[K]) => Native[K] } = {
  socket: (f) => (d, t, p) => {
    const rc = f(d, t, p);
    emit(`socket(${AF.get(d) ?? d}, ${sockType(t | (C.SOCK_CLOEXEC ?? 0))}, ${protocol(d, p)})`, rc);
    return rc;
  },
  socketpair: (f) => (d, t, p, out) => {
    const rc = f(d, t, p, out);
    emit(`socketpair(${AF.get(d) ?? d}, ${sockType(t | (C.SOCK_CLOEXEC ?? 0))}, ${protocol(d, p)}, ${rc >= 0 ? `[${out[0]}, ${out[1]}]` : pointer})`, rc);
    return rc;
  },
  close: (f) => (fd) => {
    const rc = f(fd);
    emit(`close(${fd})`, rc);
    return rc;
  },
  shutdown: (f) => (fd, how) => {
    const rc = f(fd, how);
    emit(`shutdown(${fd}, ${SHUT.get(how) ?? how})`, rc);
    return rc;
  },
  bind: (f) => (fd, a) => {
    const rc = f(fd, a);
    emit(`bind(${fd}, ${addrIn(a)})`, rc);
    return rc;
  },
  connect: (f) => (fd, a) => {
    const rc = f(fd, a);
    emit(`connect(${fd}, ${addrIn(a)})`, rc);
    return rc;
  },
  listen: (f) => (fd, backlog) => {
    const rc = f(fd, backlog);
    emit(`listen(${fd}, ${backlog})`, rc);
    return rc;
  },
  accept: (f) => (fd, fl, out) => {
    const rc = f(fd, fl, out);
    const peer = rc >= 0 ? `${addrOut(out)}, [${STORAGE} => ${addrOutLen(out)}]` : `${pointer}, [${STORAGE}]`;
    emit(`accept4(${fd}, ${peer}, ${flags(fl | (C.SOCK_CLOEXEC ?? 0), ['SOCK_CLOEXEC', 'SOCK_NONBLOCK'])})`, rc);
    return rc;
  },
  getsockname: (f) => (fd, out) => {
    const rc = f(fd, out);
    emit(`getsockname(${fd}, ${rc >= 0 ? `${addrOut(out)}, [${STORAGE} => ${addrOutLen(out)}]` : `${pointer}, [${STORAGE}]`})`, rc);
    return rc;
  },
  getpeername: (f) => (fd, out) => {
    const rc = f(fd, out);
    emit(`getpeername(${fd}, ${rc >= 0 ? `${addrOut(out)}, [${STORAGE} => ${addrOutLen(out)}]` : `${pointer}, [${STORAGE}]`})`, rc);
    return rc;
  },
  read: (f) => (fd, b, off, n) => {
    const rc = f(fd, b, off, n);
    emit(`read(${fd}, ${rc >= 0 ? data(b, off, rc) : pointer}, ${n})`, rc);
    return rc;
  },
  write: (f) => (fd, b, off, n) => {
    const rc = f(fd, b, off, n);
    emit(`write(${fd}, ${data(b, off, n)}, ${n})`, rc);
    return rc;
  },
  // glibc's send and recv are the sendto and recvfrom system calls, and strace names them so.
  recv: (f) => (fd, b, off, n, fl) => {
    const rc = f(fd, b, off, n, fl);
    emit(`recvfrom(${fd}, ${rc >= 0 ? data(b, off, Math.min(rc, n)) : pointer}, ${n}, ${flags(fl, MSG_FLAGS)}, NULL, NULL)`, rc);
    return rc;
  },
  send: (f) => (fd, b, off, n, fl) => {
    const rc = f(fd, b, off, n, fl);
    emit(`sendto(${fd}, ${data(b, off, n)}, ${n}, ${flags(fl | (C.MSG_NOSIGNAL ?? 0), MSG_FLAGS)}, NULL, 0)`, rc);
    return rc;
  },
  recvfrom: (f) => (fd, b, off, n, fl, out) => {
    const rc = f(fd, b, off, n, fl, out);
    const from = rc >= 0 ? (addrOutLen(out) ? `${addrOut(out)}, [${STORAGE} => ${addrOutLen(out)}]` : `NULL, [${STORAGE} => 0]`) : `${pointer}, [${STORAGE}]`;
    emit(`recvfrom(${fd}, ${rc >= 0 ? data(b, off, Math.min(rc, n)) : pointer}, ${n}, ${flags(fl, MSG_FLAGS)}, ${from})`, rc);
    return rc;
  },
  sendto: (f) => (fd, b, off, n, fl, a) => {
    const rc = f(fd, b, off, n, fl, a);
    emit(`sendto(${fd}, ${data(b, off, n)}, ${n}, ${flags(fl | (C.MSG_NOSIGNAL ?? 0), MSG_FLAGS)}, ${addrIn(a)})`, rc);
    return rc;
  },
  setsockopt: (f) => (fd, level, name, v) => {
    const rc = f(fd, level, name, v);
    const shown = v.length === 4 ? `[${new DataView(v.buffer, v.byteOffset, 4).getInt32(0, true)}]` : quote(v);
    emit(`setsockopt(${fd}, ${SOL.get(level) ?? level}, ${OPTS.get(level)?.get(name) ?? name}, ${shown}, ${v.length})`, rc);
    return rc;
  },
  getsockopt: (f) => (fd, level, name, out) => {
    const cap = out.length;
    const rc = f(fd, level, name, out);
    const shown = rc < 0 ? pointer : rc === 4 ? `[${new DataView(out.buffer, out.byteOffset, 4).getInt32(0, true)}]` : quote(out, rc);
    const len = rc < 0 || rc === cap ? `[${cap}]` : `[${cap} => ${rc}]`;
    emit(`getsockopt(${fd}, ${SOL.get(level) ?? level}, ${OPTS.get(level)?.get(name) ?? name}, ${shown}, ${len})`, rc < 0 ? rc : 0);
    return rc;
  },
  fcntl: (f) => (fd, cmd, arg) => {
    const rc = f(fd, cmd, arg);
    const cmdName = cmd === C.F_GETFL ? 'F_GETFL' : cmd === C.F_SETFL ? 'F_SETFL' : cmd === C.F_GETFD ? 'F_GETFD' : cmd === C.F_SETFD ? 'F_SETFD' : String(cmd);
    emit(`fcntl(${fd}, ${cmdName}${cmd === C.F_SETFL || cmd === C.F_SETFD ? `, ${arg}` : ''})`, rc);
    return rc;
  },
  poll: (f) => (t, timeout) => {
    const rc = f(t, timeout);
    const ev = (e: number) => flags(e, ['POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR', 'POLLHUP', 'POLLNVAL', 'POLLRDHUP']);
    const fds: string[] = [];
    const ready: string[] = [];
    for (let i = 0; i + 2 < t.length; i += 3) {
      fds.push(`{fd=${t[i]}, events=${ev(t[i + 1])}}`);
      if (rc > 0 && t[i + 2]) ready.push(`{fd=${t[i]}, revents=${ev(t[i + 2])}}`);
    }
    emit(`poll([${fds.join(', ')}], ${t.length / 3}, ${timeout})`, rc, rc > 0 ? ` ([${ready.join(', ')}])` : rc === 0 ? ' (Timeout)' : '');
    return rc;
  },
  select: (f) => (r, w, e, us) => {
    const before = [r, w, e].map((a) => [...a]);
    const rc = f(r, w, e, us);
    const nfds = Math.max(-1, ...before.flat()) + 1;
    const set = (a: number[]) => (a.length ? `[${a.join(' ')}]` : 'NULL');
    const tv = us < 0 ? 'NULL' : `{tv_sec=${Math.floor(us / 1e6)}, tv_usec=${us % 1e6}}`;
    const after = [r, w, e].map((a, i) => [['in', 'out', 'except'][i], [...a].filter((x) => x >= 0)] as const).filter(([, a]) => a.length);
    const detail = rc > 0 ? ` (${after.map(([k, a]) => `${k} [${a.join(' ')}]`).join(', ')})` : rc === 0 ? ' (Timeout)' : '';
    emit(`select(${nfds}, ${set(before[0])}, ${set(before[1])}, ${set(before[2])}, ${tv})`, rc, detail);
    return rc;
  },
};

/**
 * Whether the trace is on. The async API's watcher makes waiting reads itself, in C++, where no
 * wrapper sees them: while tracing, it leaves every call to JavaScript (src/async/reactor.ts asks here, and
 * is told when this changes), so the trace shows each read as it is made.
 */
export function tracing(): boolean {
  return sink !== undefined;
}

let traceChanged: (() => void) | undefined;

/** @internal Called (by src/async/reactor.ts) whenever the trace is turned on or off. */
export function onTraceChange(hook: () => void): void {
  traceChanged = hook;
}

function install(): void {
  for (const key of Object.keys(wrappers) as (keyof Native)[]) {
    if (original[key] !== undefined || typeof native[key] !== 'function') continue;
    (original as Record<string, unknown>)[key] = native[key];
    const wrap = wrappers[key] as (f: unknown) => unknown;
    (native as unknown as Record<string, unknown>)[key] = wrap(native[key]);
  }
}

function uninstall(): void {
  for (const [key, f] of Object.entries(original)) (native as unknown as Record<string, unknown>)[key] = f;
  for (const key of Object.keys(original)) delete (original as Record<string, unknown>)[key];
}

/**
 * Prints every system call this library makes, as strace(1) prints it, to stderr (`true`), to a
 * stream or function of your choice, or stops (`false`). `BSOCK_TRACE=1` in the environment turns it
 * on at load; `BSOCK_TRACE=diagram` (or `mermaid`) draws the calls as a client/server sequence picture
 * when the process exits. When off, calls go straight to the addon: tracing costs nothing.
 */
export function trace(on: boolean | NodeJS.WritableStream | ((line: string) => void)): void {
  if (on === false) {
    sink = undefined;
    uninstall();
    traceChanged?.();
    return;
  }
  if (on === true) sink = (line) => writeSync(2, `${line}\n`);
  else if (typeof on === 'function') sink = on;
  else if (on && typeof (on as NodeJS.WritableStream).write === 'function') sink = (line) => (on as NodeJS.WritableStream).write(`${line}\n`);
  else throw new TypeError('trace() takes true, false, a writable stream or a function');
  install();
  traceChanged?.();
}

const mode = process.env.BSOCK_TRACE;
if (mode === '1') trace(true);
else if (mode === 'diagram' || mode === 'mermaid') {
  // Collect the calls and draw them when the process ends.
  const lines: string[] = [];
  trace((line) => lines.push(line));
  process.on('exit', () => writeSync(2, renderDiagram(lines, mode === 'mermaid' ? 'mermaid' : 'text')));
}
