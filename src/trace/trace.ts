// The trace: every system call the library makes, printed the way `strace` prints it — the course's
// -DDEBUG, done properly. Turned on by BSOCK_TRACE=1 or trace(true). It works by swapping the addon's
// functions for formatting wrappers (format.ts prints), so when it is off the calls are the addon's
// own: no cost at all.
import { writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type Native, native, ownCalls, silently } from '../binding';
import { addrOut } from '../addrout';
import { LITTLE } from '../byteorder';
import { type Calls, type Untraced } from './untraced';
import { type Instant, Wire, realtime } from './wire';
import {
  AF, C, MSG_FLAGS, OPTS, SHUT, SOL, STORAGE, addrIn, addrResult, data, flags, formatReceivedMsg, formatSentMsg,
  formatPselect6, formatWaitStatus, pointer, protocol, quote, result, sockType, waitOptions, epollEvent, epollEventArray,
  epollOp, formatFprog, ioctlRequest, optionValue, optionLayouts, FILTER, isGetFilter,
} from './format';

type Sink = (line: string) => void;

// glibc's epoll_wait(3) is the epoll_wait system call where the kernel has one, and epoll_pwait with
// no signal mask on the architectures whose system call table has none (the asm-generic ones: arm64,
// riscv64, loongarch64); strace names the call made. 8: the kernel's sizeof(sigset_t) there.
const EPOLL_WAIT_IS_PWAIT = ['arm64', 'riscv64', 'loong64'].includes(process.arch);

const original: Partial<Native> = {};

let sink: Sink | undefined;
// BSOCK_TRACE's pictures (env.ts) see every line while the trace is on, whoever the sink is (the tour
// turns the trace on itself, with a sink of its own): they tap it.
let tap: Sink | undefined;
/** @internal Gives `fn` every line printed from now on, as well as the sink (env.ts). */
export const tapTrace = (fn: Sink): void => void (tap = fn);
const out = (line: string): void => (sink?.(line), tap?.(line));

// BSOCK_TRACE=wire / trace({ wire: true }): the capture whose packets are printed between the calls,
// and the CLOCK_REALTIME instant the call being printed began (undefined outside a wrapped call: a
// line from the async API's watcher is stamped when it is printed). While the capture reads or is
// opened or closed, its own calls (socket, bind, recvmsg, close…) are kept out of the trace (silently).
let wire: Wire | undefined;
let began: Instant | undefined;
const quiet = (): boolean => ownCalls.depth > 0;

/**
 * Prints the program's packets stamped before `until` (all that are left without it). The capture's
 * recvmsg writes its sockaddr_ll into addrOut, where the call being printed (getsockname, accept,
 * recvfrom) left the address it has not decoded yet: kept aside and put back.
 */
function printPackets(until?: Instant): void {
  const w = wire;
  if (w === undefined || sink === undefined) return;
  const kept = addrOut.slice();
  try {
    for (const line of silently(() => w.drain(until))) out(line);
  } finally {
    addrOut.set(kept);
  }
}

// After a fork, strace -f tells the processes apart by a `[pid N] ` before each line; so does the trace,
// in both processes (the call itself is still padded to column 40, as strace pads it).
let pidTag = '';

function emit(call: string, rc: number, detail = ''): void {
  if (sink === undefined || quiet()) return;
  const line = `${pidTag}${call.padEnd(39)} = ${result(rc)}${rc >= 0 ? detail : ''}`;
  if (wire !== undefined) {
    const w = wire;
    silently(() => w.learn(line)); // a new port re-attaches the capture's filter (setsockopt): not printed
    printPackets(began ?? realtime());
  }
  out(line);
}

/**
 * @internal A call made where no wrapper sees it (the async API's watcher, in C++), printed when the
 * trace is on: `call` as strace shows it, `rc` its result (or -errno).
 */
export function traceCall(call: string, rc: number, detail = ''): void {
  if (sink !== undefined) emit(call, rc, detail);
}

/**
 * @internal The async API's watcher (src/async/reactor.ts) calls this when it starts watching `fd`,
 * with what native/watcher.cc's constructor saw (Poller.setup()): the calls it made, as strace prints
 * them. getsockopt(SO_TYPE) (only sockets are watched); on Linux the probe of libuv's epoll set
 * (ADD then DEL: EEXIST means another owner watches the number), then uv_poll_init's own: libuv's
 * check (uv__io_check_fd, the same pair with data -1) and ioctl(FIONBIO), which makes the descriptor
 * non-blocking. Later epoll_ctl calls are libuv's, made by its loop on its own descriptor as it
 * polls: not the program's calls.
 */
export function traceWatch(fd: number, [type, epfd, rc, failed]: readonly [number, number, number, number, number]): void {
  if (sink === undefined) return;
  emit(`getsockopt(${fd}, SOL_SOCKET, SO_TYPE, ${type >= 0 ? `[${type}]` : pointer}, [4])`, type >= 0 ? 0 : type);
  if (failed === 1 || process.platform !== 'linux') return;
  const probe = failed === 2 ? rc : 0;
  emit(`epoll_ctl(${epfd}, EPOLL_CTL_ADD, ${fd}, ${epollEvent(0, 0, 0)})`, probe);
  if (probe < 0) return;
  emit(`epoll_ctl(${epfd}, EPOLL_CTL_DEL, ${fd}, ${pointer})`, 0);
  if (failed === 3) return;  // uv_poll_init refused: which of its calls failed is libuv's to know
  emit(`epoll_ctl(${epfd}, EPOLL_CTL_ADD, ${fd}, ${epollEvent(C.EPOLLIN ?? 1, -1, 0)})`, 0);
  emit(`epoll_ctl(${epfd}, EPOLL_CTL_DEL, ${fd}, ${pointer})`, 0);
  emit(`ioctl(${fd}, FIONBIO, [1])`, 0);
}

/**
 * @internal fork() (src/fork.ts) calls this in both processes once fork(2) returned: the parent prints
 * the clone(2) that glibc's fork makes (the child prints nothing, as under strace), and from then on
 * every line of either process starts with its pid.
 */
export function traceFork(pid: number): void {
  // Both processes hold the capture now; the parent alone reads it, or each would get half the packets.
  if (pid === 0 && wire !== undefined) {
    const w = wire;
    wire = undefined;
    silently(() => w.close(false));
  }
  pidTag = `[pid ${String(process.pid).padStart(5)}] `;
  if (pid > 0) emit(`clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=${pointer})`, pid);
}

/**
 * The wire learns the port a call sends to before the call (its capture's kernel filter then keeps the
 * packets the call sends: a SYN's answer, the handshake's last ACK, a datagram); returns `text`.
 */
function foresee(text: string): string {
  const w = wire;
  if (w !== undefined && sink !== undefined && !quiet()) silently(() => w.learn(text));
  return text;
}

/** Wrappers for each native call: same arguments, same result, plus one strace-like line. */
const wrappers: { [K in Exclude<keyof Calls, Untraced>]: (f: Calls[K]) => Calls[K] } = {
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
    const to = foresee(addrIn(a));
    const rc = f(fd, a);
    emit(`connect(${fd}, ${to})`, rc);
    return rc;
  },
  listen: (f) => (fd, backlog) => {
    const rc = f(fd, backlog);
    emit(`listen(${fd}, ${backlog})`, rc);
    return rc;
  },
  accept: (f) => (fd, fl, out, alen) => {
    const rc = alen === undefined ? f(fd, fl, out) : f(fd, fl, out, alen);
    emit(`accept4(${fd}, ${addrResult(out, alen, rc)}, ${flags(fl | (C.SOCK_CLOEXEC ?? 0), ['SOCK_CLOEXEC', 'SOCK_NONBLOCK'])})`, rc);
    return rc;
  },
  getsockname: (f) => (fd, out, alen) => {
    const rc = alen === undefined ? f(fd, out) : f(fd, out, alen);
    emit(`getsockname(${fd}, ${addrResult(out, alen, rc)})`, rc);
    return rc;
  },
  getpeername: (f) => (fd, out, alen) => {
    const rc = alen === undefined ? f(fd, out) : f(fd, out, alen);
    emit(`getpeername(${fd}, ${addrResult(out, alen, rc)})`, rc);
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
  recvfrom: (f) => (fd, b, off, n, fl, out, alen) => {
    const rc = alen === undefined ? f(fd, b, off, n, fl, out) : f(fd, b, off, n, fl, out, alen);
    emit(`recvfrom(${fd}, ${rc >= 0 ? data(b, off, Math.min(rc, n)) : pointer}, ${n}, ${flags(fl, MSG_FLAGS)}, ${addrResult(out, alen, rc)})`, rc);
    return rc;
  },
  sendto: (f) => (fd, b, off, n, fl, a) => {
    const to = foresee(addrIn(a));
    const rc = f(fd, b, off, n, fl, a);
    emit(`sendto(${fd}, ${data(b, off, n)}, ${n}, ${flags(fl | (C.MSG_NOSIGNAL ?? 0), MSG_FLAGS)}, ${to})`, rc);
    return rc;
  },
  setsockopt: (f) => (fd, level, name, v) => {
    const rc = f(fd, level, name, v);
    emit(`setsockopt(${fd}, ${SOL.get(level) ?? level}, ${OPTS.get(level)?.get(name) ?? name}, ${optionValue(level, name, v)}, ${v.length})`, rc);
    return rc;
  },
  // SO_ATTACH_FILTER: the struct sock_fprog the addon made, pointing at the program.
  setsockoptFprog: (f) => (fd, level, name, program) => {
    const rc = f(fd, level, name, program);
    const size = optionLayouts.sock_fprog?.size ?? 0;
    emit(`setsockopt(${fd}, ${SOL.get(level) ?? level}, ${OPTS.get(level)?.get(name) ?? name}, ${formatFprog(program.length / FILTER)}, ${size})`, rc);
    return rc;
  },
  getsockopt: (f) => (fd, level, name, out) => {
    const cap = out.length;
    const rc = f(fd, level, name, out);
    if (isGetFilter(level, name)) {
      // Read back, the filter is SO_GET_FILTER, its lengths in instructions (native/options.cc).
      const asked = Math.floor(cap / FILTER);
      const len = rc < 0 || rc / FILTER === asked ? `[${asked}]` : `[${asked} => ${rc / FILTER}]`;
      emit(`getsockopt(${fd}, SOL_SOCKET, SO_GET_FILTER, ${pointer}, ${len})`, rc < 0 ? rc : 0);
      return rc;
    }
    const shown = rc < 0 ? pointer : rc === 4 ? `[${new DataView(out.buffer, out.byteOffset, 4).getInt32(0, LITTLE)}]` : quote(out, rc);
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
  // glibc's select(3) is the pselect6 system call: a timespec, a NULL signal mask, and the sets as the
  // caller passed them (C's NULL is NULL, an empty set []). The kernel writes back the time left, which
  // strace shows; here it is measured around the call, to the microsecond glibc keeps.
  select: (f) => (r, w, e, us, nfds) => {
    const before = [r, w, e].map((a) => (a === null ? null : [...a]));
    const start = us >= 0 ? process.hrtime.bigint() : 0n;
    const rc = nfds === undefined ? f(r, w, e, us) : f(r, w, e, us, nfds);
    const left = us >= 0 ? us - Number((process.hrtime.bigint() - start) / 1000n) : -1;
    const [call, detail] = formatPselect6(before, us, rc, [r, w, e].map((a) => (a === null ? [] : [...a].filter((x) => x >= 0))), left, nfds);
    emit(call, rc, detail);
    return rc;
  },
  sendmsg: (f) => (fd, iov, name, control, fl) => {
    const msg = foresee(formatSentMsg(iov, name, control));
    const rc = f(fd, iov, name, control, fl);
    emit(`sendmsg(${fd}, ${msg}, ${flags(fl | (C.MSG_NOSIGNAL ?? 0), MSG_FLAGS)})`, rc);
    return rc;
  },
  // The library adds MSG_CMSG_CLOEXEC (native/message.cc); Linux echoes it in msg_flags. A socket that
  // refuses it (packet(7): EINVAL) shows the three calls the addon made: the refusal, the SO_DOMAIN
  // question, and the recvmsg without the flag. strace prints a failed recvmsg's msghdr as its namelen.
  recvmsg: (f) => (fd, iov, control, out, fl, info, cloexec) => {
    const rc = cloexec === undefined ? f(fd, iov, control, out, fl, info) : f(fd, iov, control, out, fl, info, cloexec);
    const added = cloexec === false ? 0 : (C.MSG_CMSG_CLOEXEC ?? 0);
    const line = (r: number, fls: number) =>
      emit(`recvmsg(${fd}, ${r >= 0 ? formatReceivedMsg(iov, r, out, control, info[0], info[1]) : `{msg_namelen=${STORAGE}}`}, ${flags(fls, MSG_FLAGS)})`, r);
    const domain = info[2];
    if (domain === 0 || added === 0) {
      line(rc, fl | added);
      return rc;
    }
    line(-osConstants.errno.EINVAL, fl | added);
    emit(`getsockopt(${fd}, SOL_SOCKET, SO_DOMAIN, ${domain > 0 ? `[${domain}]` : pointer}, [4])`, domain > 0 ? 0 : domain);
    if (domain > 0 && domain !== C.AF_UNIX) line(rc, fl);
    return rc;
  },
  // glibc's waitpid(3) is wait4(2) with no rusage; the status is shown decoded, as strace decodes it.
  waitpid: (f) => (pid, options, out) => {
    const rc = f(pid, options, out);
    emit(`wait4(${pid}, ${rc > 0 ? formatWaitStatus(out) : pointer}, ${waitOptions(options)}, NULL)`, rc);
    return rc;
  },
  pidfd_open: (f) => (pid) => {
    const rc = f(pid);
    emit(`pidfd_open(${pid}, 0)`, rc);
    return rc;
  },
  epoll_create1: (f) => (fl) => {
    const rc = f(fl);
    emit(`epoll_create1(${flags(fl | (C.EPOLL_CLOEXEC ?? 0), ['EPOLL_CLOEXEC'])})`, rc);
    return rc;
  },
  // EPOLL_CTL_DEL with an event: strace shows the pointer, as the kernel does not read it.
  epoll_ctl: (f) => (ep, op, fd, events, lo, hi) => {
    const rc = f(ep, op, fd, events, lo, hi);
    const ev = events === undefined ? 'NULL' : op === C.EPOLL_CTL_DEL ? pointer : epollEvent(events, lo ?? 0, hi ?? 0);
    emit(`epoll_ctl(${ep}, ${epollOp(op)}, ${fd}, ${ev})`, rc);
    return rc;
  },
  epoll_wait: (f) => (ep, out, max, timeout) => {
    const rc = f(ep, out, max, timeout);
    const evs = rc >= 0 ? epollEventArray(out, rc) : pointer;
    emit(EPOLL_WAIT_IS_PWAIT ? `epoll_pwait(${ep}, ${evs}, ${max}, ${timeout}, NULL, 8)` : `epoll_wait(${ep}, ${evs}, ${max}, ${timeout})`, rc);
    return rc;
  },
  ioctl: (f) => (fd, request) => {
    const rc = f(fd, request);
    emit(`ioctl(${fd}, ${ioctlRequest(request)}, ${rc >= 0 ? `[${rc}]` : pointer})`, rc < 0 ? rc : 0);
    return rc;
  },
  // An int option's value comes back directly, or -errno - 2^32 (native/options.cc).
  getsockoptInt: (f) => (fd, level, name) => {
    const v = f(fd, level, name);
    const failed = v < -0x80000000;
    if (isGetFilter(level, name)) {
      // Asked for no instruction (none fits an int), the kernel answers how many there are.
      emit(`getsockopt(${fd}, SOL_SOCKET, SO_GET_FILTER, ${pointer}, ${failed || v === 0 ? '[0]' : `[0 => ${v}]`})`, failed ? v + 2 ** 32 : 0);
      return v;
    }
    emit(`getsockopt(${fd}, ${SOL.get(level) ?? level}, ${OPTS.get(level)?.get(name) ?? name}, ${failed ? pointer : `[${v}]`}, [4])`, failed ? v + 2 ** 32 : 0);
    return v;
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

/**
 * `wrapped`, stamped: the instant the call begins (CLOCK_REALTIME, the packets' clock) is kept while
 * it runs, so that its line comes after every packet stamped before it, and before every packet the
 * call itself caused (connect's SYN is stamped after connect began).
 */
function stamped(wrapped: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    if (wire === undefined || quiet()) return wrapped(...args);
    const outer = began;
    began = realtime();
    try {
      return wrapped(...args);
    } finally {
      began = outer;
    }
  };
}

function install(): void {
  for (const key of Object.keys(wrappers) as (keyof typeof wrappers)[]) {
    if (original[key] !== undefined || typeof native[key] !== 'function') continue;
    (original as Record<string, unknown>)[key] = native[key];
    const wrap = wrappers[key] as (f: unknown) => (...args: unknown[]) => unknown;
    (native as unknown as Record<string, unknown>)[key] = stamped(wrap(native[key]));
  }
}

function uninstall(): void {
  for (const [key, f] of Object.entries(original)) (native as unknown as Record<string, unknown>)[key] = f;
  for (const key of Object.keys(original)) delete (original as Record<string, unknown>)[key];
}

/** Where trace() prints: stderr (`true`), a stream, or a function given each line. */
export type TraceSink = true | NodeJS.WritableStream | ((line: string) => void);

/** trace()'s options: where lines go, and whether the packets go with them. */
export interface TraceOptions {
  /** Where the lines go (default stderr). */
  to?: TraceSink;
  /**
   * Also capture the loopback's packets (needs CAP_NET_RAW) and print those of the program's own
   * sockets between its calls, each before the first call that began after the kernel stamped it, as
   * tcpdump -nn -S prints it after a `  ── ` and its time. Without CAP_NET_RAW the trace says so once
   * and goes on with the calls alone. Default: whether BSOCK_TRACE says `wire`.
   */
  wire?: boolean;
}

// BSOCK_TRACE=wire (or diagram:wire, mermaid:wire, svg:FILE) asks for packets in any trace the process
// turns on, the one a program turns on itself too (the tour's). env.ts reads the rest of BSOCK_TRACE.
const mode = process.env.BSOCK_TRACE;
const wireByDefault = mode !== undefined && (/(^|:)wire$/.test(mode) || mode.startsWith('svg:'));
// Said once per process: a program that turns the trace on and off is not told again.
let wireRefusalSaid = false;

/** Opens the capture for the wire trace, or says once why there is none. */
function startWire(): void {
  if (wire !== undefined) return;
  try {
    // The loopback: a program talking to itself (the course's examples, the tests) sends every
    // packet there. Another interface would be an option's name here (trace({ wire: 'eth0' })), its
    // packets matched by the same ports; a program's traffic to another host leaves by the interface
    // its route names (ip route get), which getsockname's address tells.
    wire = silently(() => Wire.open('lo'));
  } catch (e) {
    if (!wireRefusalSaid) {
      wireRefusalSaid = true;
      const err = e as { syscall?: string; code?: string; message?: string };
      const why = err.code === 'EPERM' || err.code === 'EACCES' ? 'capture needs CAP_NET_RAW: ' : '';
      out(`# BSOCK_TRACE=wire: no packets (${why}${err.syscall && err.code ? `${err.syscall} ${err.code}` : err.message})`);
    }
  }
}

/** Prints the packets left and closes the capture. */
function stopWire(): void {
  const w = wire;
  if (w === undefined) return;
  silently(() => w.close());
  printPackets();
  wire = undefined;
}

// At exit, the packets sent after the last call (the FIN of a socket closed by the process's end).
let exitHooked = false;

/**
 * Prints every system call this library makes, as strace(1) prints it, to stderr (`true`), to a
 * stream or function of your choice, or stops (`false`). `{ to, wire: true }` also prints the
 * loopback's packets of the program's sockets between the calls (TraceOptions). `BSOCK_TRACE=1` in
 * the environment turns it on at load; `BSOCK_TRACE=wire` with the packets; `BSOCK_TRACE=diagram`
 * (or `mermaid`, and `diagram:wire`, `mermaid:wire` drawing the real segments) draws the calls as a
 * client/server sequence picture when the process exits; `BSOCK_TRACE=svg:FILE` prints the wire
 * trace and writes its SVG picture to FILE (src/trace/env.ts). When off, calls go straight to the
 * addon: tracing costs nothing.
 */
export function trace(on: boolean | TraceSink | TraceOptions): void {
  if (on === false) {
    stopWire();
    sink = undefined;
    uninstall();
    traceChanged?.();
    return;
  }
  let to: unknown = on;
  let withWire = wireByDefault;
  if (on !== null && typeof on === 'object' && typeof (on as NodeJS.WritableStream).write !== 'function') {
    const options = on as TraceOptions;
    if (options.wire !== undefined && typeof options.wire !== 'boolean') throw new TypeError('trace()\'s wire option is true or false');
    to = options.to ?? true;
    withWire = options.wire ?? wireByDefault;
  }
  if (to === true) sink = (line) => writeSync(2, `${line}\n`);
  else if (typeof to === 'function') sink = to as Sink;
  else if (to && typeof (to as NodeJS.WritableStream).write === 'function') sink = (line) => (to as NodeJS.WritableStream).write(`${line}\n`);
  else throw new TypeError('trace() takes true, false, a writable stream, a function or { to, wire }');
  if (withWire) startWire();
  else stopWire();
  if (wire !== undefined && !exitHooked) {
    exitHooked = true;
    process.on('exit', () => stopWire());
  }
  install();
  traceChanged?.();
}
