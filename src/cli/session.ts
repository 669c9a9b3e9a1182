// socklab's session: the sockets it keeps, how a call that may block waits (through
// 'berkeley-sockets/promises' with an AbortSignal, so Ctrl-C ends the wait with EINTR, as for a C program
// that handles SIGINT, and the shell lives on), and how each call is printed, as C reports it. The
// commands themselves are in commands/*.ts, a module per group, each command one system call.
import { isIP } from 'node:net';
import {
  AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, MSG_DONTWAIT, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM,
  SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO, type SocketHandle, SystemError, bind, close, gai_strerror, getaddrinfo,
  getNonBlocking, getsockname, getsockopt, listen, setNonBlocking, setsockopt, socket,
} from '../index';
import * as S from '../index';
import * as A from '../promises';
import { LabCapture } from './commands/capture';
import { optionCommands } from './commands/options';
import { socketCommands } from './commands/sockets';
import { statusCommands } from './commands/status';
import { transferCommands } from './commands/transfer';
import type { Messages } from './i18n';
import { ParseError, UsageError, type Word, expand, stripComment, textOf, words } from './parse';
import { type Kind, type OptDef, findOption, optionValue, optionsFor, readOption } from './sockopts';
import { type Endpoint, type Line, type Outcome, calls, failed, render } from './strace';
import { type Ctx, E, SIGINT, type Sock, type Spec, TIMEOUT, type Try } from './spec';
import { ALIASES, complete } from './complete';
import { missingArgs, nearest, withAnswer } from './usage';

/** What a command line came to, for the shell's exit status. */
export interface Done {
  /** ok; failed: a system call returned -1; usage: the command or its arguments were wrong; empty: a comment. */
  status: 'ok' | 'failed' | 'usage' | 'empty' | 'quit';
  /** The errno name of the first call that failed. */
  code?: string;
  /** The command line with the answers in it, when missing arguments were asked for (for the history). */
  completed?: string;
}

export class Session {
  trace = false;
  mode: 'tcp' | 'udp' = 'tcp';
  /**
   * Set by commands, read by ${name}: id (the last socket made), id1, id2… (the Nth socket made, accept
   * included: a script names its sockets the same way whatever descriptors the kernel hands out), port
   * (the last getsockname), from (the last sender).
   */
  readonly vars = new Map<string, string>();
  /** The open sockets, by descriptor: the descriptor is the identifier every command takes. */
  readonly socks = new Map<number, Sock>();
  /** How many sockets this session has made, for ${idN}. */
  private made = 0;
  pending?: AbortController;
  /** `capture on`: the packets of the lab's sockets, shown after each command (commands/capture.ts). */
  readonly capture = new LabCapture(this);
  /**
   * Set by an interactive front end: asks for one missing argument (the prompt is `label`) and resolves
   * to the answer, or to undefined when none came (end of input, Ctrl-C). Unset, as for a script, which
   * must be complete, a command missing an argument is a usage error.
   */
  ask?: (label: string) => Promise<string | undefined>;
  /** The usage word (ID, PORT…) being asked for, so that Tab completes the answer. */
  asking?: string;
  failure?: string;
  readonly specs: Record<string, Spec>;

  constructor(readonly out: (line: string) => void, readonly m: Messages, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.specs = this.makeSpecs();
  }

  /** Ends the call that is blocked (Ctrl-C); false when nothing was waiting. */
  interrupt(): boolean {
    if (this.pending === undefined) return false;
    this.pending.abort(SIGINT);
    return true;
  }

  /** The descriptor of every socket still open, in order, for Tab completion. */
  ids(): number[] {
    return [...this.socks.keys()].sort((a, b) => a - b);
  }

  /** Closes every socket (when the shell leaves), then the capture, once it printed their last packets. */
  closeAll(): void {
    for (const s of this.socks.values()) {
      try {
        close(s.h);
      } catch {
        // leaving anyway
      }
    }
    this.socks.clear();
    this.capture.close();
  }

  /** Runs one command line. Never throws: mistakes are printed and reported as 'usage'. */
  async execute(raw: string): Promise<Done> {
    this.failure = undefined;
    try {
      const line = expand(stripComment(raw), (n) => this.vars.get(n) ?? this.env[n], this.m.unknownVariable);
      const ws = words(line, this.m.unterminated);
      if (ws.length === 0) return { status: 'empty' };
      const name = ws[0].value;
      if (name === 'quit' || name === 'exit') return { status: 'quit' };
      const spec = this.specs[name] ?? this.specs[ALIASES[name] ?? ''];
      if (spec === undefined) throw new UsageError(this.m.unknownCommand(name, nearest(name, this.commandNames())));
      const ctx = this.context(spec, line, ws.slice(1));
      const missing = this.ask === undefined ? [] : missingArgs(spec, ctx);
      if (missing.length > 0) return await this.askFor(spec, raw, missing);
      await spec.run(ctx);
      return this.failure === undefined ? { status: 'ok' } : { status: 'failed', code: this.failure };
    } catch (e) {
      if (e instanceof UsageError || e instanceof ParseError) {
        this.out(e.message);
        return { status: 'usage' };
      }
      const err = e as { code?: string; message?: string };
      if (typeof err.code === 'string' && err.code.startsWith('ERR_')) {
        // The library refused an argument before any system call: say so in its words.
        this.out(err.message ?? String(e));
        return { status: 'usage' };
      }
      this.out(`socklab: ${(e as Error)?.stack ?? String(e)}`);
      return { status: 'failed', code: 'internal' };
    }
  }

  /**
   * Asks for each missing argument in turn, as the course's socklab does, then runs the line as if it
   * had been typed complete; no answer cancels the command with its usage. What is still missing is
   * worked out again after each answer: an answer may fill two places (host? 127.0.0.1 3400), and
   * connect's first answer tells which form it is (an id, or the host of the shortcut).
   */
  private async askFor(spec: Spec, raw: string, missing: string[]): Promise<Done> {
    let line = stripComment(raw).trim();
    while (missing.length > 0) {
      this.asking = missing[0];
      let answer: string | undefined;
      try {
        answer = (await this.ask!(this.m.ask(missing[0])))?.trim();
      } finally {
        this.asking = undefined;
      }
      if (answer === undefined || answer === '') throw new UsageError(this.m.usage(spec.usage));
      line = withAnswer(line, spec, answer, this.m.unterminated);
      const expanded = expand(line, (n) => this.vars.get(n) ?? this.env[n], this.m.unknownVariable);
      missing = missingArgs(spec, this.context(spec, expanded, words(expanded, this.m.unterminated).slice(1)));
    }
    const done = await this.execute(line);
    return { ...done, completed: done.completed ?? line };
  }

  context(spec: Spec, line: string, rest: Word[]): Ctx {
    const flags = new Set<string>();
    const known = new Set(spec.flags ?? []);
    const isFlag = (w: Word) => w.quote === null && known.has(w.value);
    const w: Word[] = [];
    let textWords: Word[] | undefined;
    const textAt = typeof spec.textAt === 'function' ? spec.textAt(rest) : spec.textAt;
    for (let i = 0; i < rest.length; i++) {
      if (textAt !== undefined && w.length === textAt) {
        textWords = rest.slice(i);
        break;
      }
      if (isFlag(rest[i])) flags.add(rest[i].value);
      else if (rest[i].quote === null && /^-[a-z]+$/.test(rest[i].value) && textAt === undefined) {
        throw new UsageError(`${this.m.badChoice(rest[i].value, spec.flags ?? [])}\n${this.m.usage(spec.usage)}`);
      } else w.push(rest[i]);
    }
    let text: Buffer | undefined;
    if (textWords !== undefined) {
      while (textWords.length > 0 && isFlag(textWords[textWords.length - 1])) flags.add(textWords.pop()!.value);
      text = textWords.length === 0 ? undefined : textOf(line, textWords);
    }
    return { line, w, flags, text };
  }

  // ---------------------------------------------------------------------------------------------
  // Printing and calling

  note(text: string | undefined): void {
    if (text !== undefined) this.out(text);
  }

  /** Prints a call and its outcome; remembers the first failure. True if the call succeeded. */
  report(line: Line, o: Outcome, syscall: string, interrupted = false): boolean {
    if (interrupted && this.trace) this.out('--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL} ---');
    this.out(render(line, o, this.trace));
    if (!failed(o)) return true;
    this.failure ??= o.code;
    if (interrupted) this.out(this.m.interrupted);
    else if (o.code === 'EINPROGRESS') this.out(this.m.inProgress);
    else this.note(this.m.hint(o.code, syscall));
    return false;
  }

  /** A synchronous call: its value, or the errno it failed with. */
  attempt<T>(fn: () => T): Try<T> {
    try {
      return { v: fn() };
    } catch (e) {
      if (e instanceof SystemError) return { f: { code: e.code, errno: -e.errno } };
      throw e;
    }
  }

  /**
   * A call that may block, through the async API: says so when it would wait, ends with EINTR on
   * Ctrl-C, and honours SO_RCVTIMEO/SO_SNDTIMEO as the kernel would (EAGAIN; EINPROGRESS for connect),
   * since a descriptor waited on this way is non-blocking and the kernel timer never runs.
   */
  async wait<T>(
    fd: number, dir: 'in' | 'out', why: 'accept' | 'connect' | 'in' | 'out', shown: string, start: (signal: AbortSignal) => Promise<T>,
  ): Promise<Try<T> & { interrupted?: boolean }> {
    const ac = new AbortController();
    this.pending = ac;
    const timers: NodeJS.Timeout[] = [];
    try {
      const limit = timeoutMs(fd, dir);
      if (limit > 0) timers.push(setTimeout(() => ac.abort(TIMEOUT), limit));
      if (dir === 'out') {
        // A handshake always waits a little, and a write may fill the send buffer only halfway through:
        // say so when the call is still waiting after a moment (a distant or silent peer, a full buffer).
        timers.push(setTimeout(() => this.out(this.m.blocks(shown, why)), 200));
      } else {
        // Said once the call is really waiting: a call the kernel answers at once (accept on a socket
        // that does not listen, a read at end of file) settles before the loop turns, and says nothing.
        timers.push(setTimeout(() => this.out(this.m.blocks(shown, why)), 0));
      }
      return { v: await start(ac.signal) };
    } catch (e) {
      const err = e as { name?: string; code?: string; bytesWritten?: number };
      if (err.name === 'AbortError') {
        // write(2): interrupted after some bytes went out, the call succeeds with that count.
        if (err.bytesWritten) return { v: err.bytesWritten as T, interrupted: true };
        if (ac.signal.reason === TIMEOUT) {
          this.out(this.m.timedOut(dir === 'in' ? 'SO_RCVTIMEO' : 'SO_SNDTIMEO'));
          const code = why === 'connect' ? 'EINPROGRESS' : 'EAGAIN';
          return { f: { code, errno: E[code as keyof typeof E] } };
        }
        return { f: { code: 'EINTR', errno: E.EINTR }, interrupted: true };
      }
      if (e instanceof SystemError) return { f: { code: e.code, errno: -e.errno } };
      throw e;
    } finally {
      for (const t of timers) clearTimeout(t);
      this.pending = undefined;
    }
  }

  sock(w: Word | undefined, usage: string): Sock {
    if (w === undefined) throw new UsageError(this.m.usage(usage));
    const s = /^\d+$/.test(w.value) ? this.socks.get(Number(w.value)) : undefined;
    if (s === undefined) throw new UsageError(this.m.noSuchSocket(w.value));
    return s;
  }

  /**
   * Keeps a new socket under its descriptor. A closed socket's number may come back with the next one,
   * as in C; ${idN} keeps naming the Nth socket made, whatever number it got.
   */
  add(h: SocketHandle, domain: number, kind: Kind): Sock {
    const s: Sock = { fd: h.fd, h, domain, kind, listening: false };
    this.socks.set(s.fd, s);
    this.vars.set('id', String(s.fd));
    this.vars.set(`id${++this.made}`, String(s.fd));
    return s;
  }

  number(w: Word | undefined, what: string, min: number, max: number, fallback?: number): number {
    if (w === undefined) {
      if (fallback === undefined) throw new UsageError(this.m.badNumber(what, ''));
      return fallback;
    }
    if (!/^\d+$/.test(w.value) || Number(w.value) < min || Number(w.value) > max) throw new UsageError(this.m.badNumber(what, w.value));
    return Number(w.value);
  }

  port(w: Word | undefined, kind: Kind, usage: string): number {
    if (w === undefined) throw new UsageError(this.m.usage(usage));
    if (/^\d+$/.test(w.value)) {
      const p = Number(w.value);
      if (p > 0xffff) throw new UsageError(this.m.badPort(w.value));
      return p;
    }
    try {
      const r = getaddrinfo(null, w.value, { ai_socktype: kind === 'udp' ? SOCK_DGRAM : SOCK_STREAM, ai_family: AF_INET });
      return r[0].ai_addr.port;
    } catch {
      throw new UsageError(this.m.badPort(w.value));
    }
  }

  /** A host for `domain`: *, a numeric address, or a name resolved with getaddrinfo (as adr_socket did). */
  host(text: string, domain: number): string {
    const v6 = domain === AF_INET6;
    if (text === '*' || text === 'any' || text === 'INADDR_ANY') return v6 ? '::' : '0.0.0.0';
    const ip = isIP(text.replace(/%.*$/, ''));
    if (ip === 4) return v6 ? `::ffff:${text}` : text;
    if (ip === 6) {
      if (!v6) throw new UsageError(this.m.badHost(text, 'IPv6 address for an IPv4 socket (socket tcp v6)'));
      return text;
    }
    try {
      const r = getaddrinfo(text, null, { ai_family: domain, ai_socktype: SOCK_STREAM });
      return r[0].ai_addr.address;
    } catch (e) {
      const err = e as SystemError;
      throw new UsageError(this.m.badHost(text, typeof err.errno === 'number' && err.code?.startsWith('EAI_') ? gai_strerror(err.errno) : err.message));
    }
  }

  endpoint(hostW: Word | undefined, portW: Word | undefined, s: { domain: number; kind: Kind }, usage: string): Endpoint {
    if (hostW === undefined || portW === undefined) throw new UsageError(this.m.usage(usage));
    const address = this.host(hostW.value, s.domain);
    return { family: s.domain, address, port: this.port(portW, s.kind, usage) };
  }

  noMore(c: Ctx, n: number, usage: string): void {
    if (c.w.length > n) throw new UsageError(`${this.m.tooMany}\n${this.m.usage(usage)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // The commands

  /** The commands, a module per group (commands/*.ts), in the order help lists them. */
  private makeSpecs(): Record<string, Spec> {
    return { ...socketCommands(this), ...transferCommands(this), ...optionCommands(this), ...statusCommands(this) };
  }

  needText(c: Ctx): Buffer {
    if (c.text === undefined) throw new UsageError(this.m.missingText);
    return c.text;
  }

  makeSocket(kind: Kind, domain: number): Sock | undefined {
    const type = kind === 'tcp' ? SOCK_STREAM : kind === 'udp' ? SOCK_DGRAM : SOCK_RAW;
    const protocol = kind === 'raw' ? (domain === AF_INET6 ? IPPROTO_ICMPV6 ?? 58 : IPPROTO_ICMP) : 0;
    const r = this.attempt(() => socket(domain, type, protocol));
    if ('f' in r) {
      this.report(calls.socket(domain, type, protocol), r.f, 'socket');
      return undefined;
    }
    const s = this.add(r.v, domain, kind);
    this.report(calls.socket(domain, type, protocol), { rc: s.h.fd }, 'socket');
    this.out(this.m.newSocket(s.fd));
    return s;
  }

  /** getsockname(2); ${port} is then the local port, for the rest of a script. */
  getsockname(s: Sock): void {
    const r = this.attempt(() => getsockname(s.h) as Endpoint);
    this.report(calls.getsockname(s.h.fd, 'v' in r ? r.v : null), 'f' in r ? r.f : { rc: 0 }, 'getsockname');
    if ('v' in r) this.vars.set('port', String(r.v.port));
  }

  bindTo(s: Sock, at: Endpoint): boolean {
    const r = this.attempt(() => bind(s.h, at));
    return this.report(calls.bind(s.h.fd, at), 'f' in r ? r.f : { rc: 0 }, 'bind');
  }

  listenOn(s: Sock, backlog: number): boolean {
    const r = this.attempt(() => listen(s.h, backlog));
    if ('v' in r) s.listening = true;
    return this.report(calls.listen(s.h.fd, backlog), 'f' in r ? r.f : { rc: 0 }, 'listen');
  }

  async connectTo(s: Sock, to: Endpoint, nb: boolean): Promise<void> {
    const fd = s.h.fd;
    let r: Try<void> & { interrupted?: boolean };
    if (nb) {
      this.nonBlocking(s);
      r = this.attempt(() => S.connect(s.h, to));
    } else {
      r = await this.wait(fd, 'out', 'connect', `connect(${fd})`, (signal) => A.connect(s.h, to, { signal }));
    }
    this.report(calls.connect(fd, to), 'f' in r ? r.f : { rc: 0 }, 'connect', 'f' in r && r.interrupted);
    if (!('f' in r) || r.f.code === 'EINPROGRESS') s.peer = { address: to.address, port: to.port };
    if ('f' in r && r.interrupted && s.kind === 'tcp') this.out(this.m.inProgress);
  }

  async sendTo(s: Sock, to: Endpoint, data: Buffer, nb: boolean): Promise<void> {
    const fd = s.h.fd;
    let flags = 0;
    let r: Try<number> & { interrupted?: boolean };
    if (nb) {
      flags |= MSG_DONTWAIT ?? 0;
      if (MSG_DONTWAIT === undefined) this.nonBlocking(s);
      r = this.attempt(() => S.sendto(s.h, data, flags, to));
    } else {
      r = await this.wait(fd, 'out', 'out', `sendto(${fd})`, (signal) => A.sendto(s.h, data, flags, to, { signal }));
    }
    this.report(calls.sendto(fd, data, flags, to), 'f' in r ? r.f : { rc: r.v }, 'sendto', 'f' in r && r.interrupted);
  }

  /** A write interrupted after some bytes went out returns that count, as write(2) does. */
  afterWrite(line: Line, r: Try<number> & { interrupted?: boolean }, total: number, syscall: string): void {
    if ('f' in r) {
      this.report(line, r.f, syscall, r.interrupted);
      return;
    }
    if (r.interrupted && this.trace) this.out('--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL} ---');
    this.report(line, { rc: r.v }, syscall);
    if (r.v < total) this.out(this.m.partial(r.v, total));
  }

  /** O_NONBLOCK for -nb. The async API sets it too, and socklab never clears it: its waits don't need it cleared. */
  nonBlocking(s: Sock): void {
    if (!getNonBlocking(s.h)) setNonBlocking(s.h, true);
  }

  // ---------------------------------------------------------------------------------------------
  // Options

  option(s: Sock, text: string): OptDef {
    return findOption(text, s.kind, s.domain, this.m);
  }

  getOption(s: Sock, d: OptDef, print: boolean): string | undefined {
    const r = this.attempt(() => readOption(s.h, d));
    if (print || this.trace) {
      const line = calls.getsockopt(s.h.fd, d.level, d.name, 'v' in r ? r.v.shown : null, 'v' in r ? r.v.straced : null, 'v' in r ? r.v.len : 4);
      if (print) this.report(line, 'f' in r ? r.f : { rc: 0 }, 'getsockopt');
      else this.out(render(line, 'f' in r ? r.f : { rc: 0 }, true));
    }
    return 'v' in r ? r.v.shown : undefined;
  }

  /** setsockopt with a value as typed (see optionValue). */
  setOption(s: Sock, d: OptDef, text: string): boolean {
    const { value, shown, straced, len } = optionValue(d, text, this.m);
    const r = this.attempt(() => setsockopt(s.h, d.level, d.opt as number, value as number));
    return this.report(calls.setsockopt(s.h.fd, d.level, d.name, shown, straced, len), 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
  }

  showOptions(s: Sock): void {
    const rows: [string, string][] = [];
    for (const d of optionsFor(s.kind, s.domain)) {
      const v = this.getOption(s, d, false);
      rows.push([d.name, v ?? '-']);
    }
    const width = Math.max(...rows.map(([n]) => n.length));
    for (const [n, v] of rows) this.out(`  ${n.padEnd(width)}  ${v}`);
  }

  // ---------------------------------------------------------------------------------------------
  // The status table and help

  help(cmd: string | undefined): void {
    if (cmd !== undefined) {
      const key = ALIASES[cmd] ?? cmd;
      const spec = this.specs[key];
      if (spec === undefined && cmd !== 'quit' && cmd !== 'exit') throw new UsageError(this.m.unknownCommand(cmd, nearest(cmd, this.commandNames())));
      this.out(this.m.usage(spec?.usage ?? 'quit'));
      this.out(`  ${spec?.help[this.m.lang] ?? this.m.quitHelp}`);
      if (key === '=') this.out(`  ${this.m.legend}`);
      return;
    }
    this.out(this.m.helpHeader);
    const entries = Object.values(this.specs).map((s) => [s.usage, s.help[this.m.lang]] as const);
    entries.push(['quit', this.m.quitHelp]);
    for (const [usage, text] of entries) {
      const u = this.m.words(usage.split('   |   ')[0]);
      this.out(`  ${u.padEnd(36)} ${text}`);
    }
    this.out(this.m.helpFooter);
  }

  // ---------------------------------------------------------------------------------------------
  // Tab completion

  /** Command names, for completion. */
  commandNames(): string[] {
    return [...Object.keys(this.specs), 'status', 'quit', 'exit'].sort();
  }

  /** readline's completer: what may come next at the end of `line` (a command, or the answer being asked for). */
  complete(line: string): [string[], string] {
    return complete(this, line);
  }

}

/** SO_RCVTIMEO/SO_SNDTIMEO in ms (0: none), to end an async wait as the kernel would. */
function timeoutMs(fd: number, dir: 'in' | 'out'): number {
  try {
    const tv = getsockopt(fd, SOL_SOCKET, dir === 'in' ? SO_RCVTIMEO : SO_SNDTIMEO);
    return tv.tv_sec * 1000 + tv.tv_usec / 1000;
  } catch {
    return 0;
  }
}
