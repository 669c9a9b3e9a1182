// socklab's commands: one system call each, made with the library's real calls, printed as C reports
// them. A call that would block waits through 'berkeley-sockets/promises' with an AbortSignal, so
// Ctrl-C ends the wait (EINTR, as for a C program that handles SIGINT) and the shell lives on.
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import {
  AF_INET, AF_INET6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP, MSG_DONTWAIT, MSG_OOB, MSG_PEEK, POLLIN, POLLOUT, SHUT_RD,
  SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO, type SocketHandle,
  SystemError, TCP_INFO, bind, close, gai_strerror, getaddrinfo, getKeepAlive, getNonBlocking, getpeername,
  getsockname, getsockopt, if_indextoname, if_nametoindex, listen, poll, select, setNonBlocking, setsockopt, shutdown,
  socket,
} from '../index';
import * as S from '../index';
import * as A from '../promises';
import type { Messages } from './i18n';
import { ParseError, UsageError, type Word, expand, stripComment, textOf, words } from './parse';
import { type Kind, OPTIONS, type OptDef, findOption, optionValue, optionsFor, readOption } from './sockopts';
import { type Endpoint, type Line, type Outcome, calls, endpoint, failed, render } from './strace';

type Fail = { code: string; errno: number };
type Try<T> = { v: T } | { f: Fail };

interface Sock {
  id: number;
  h: SocketHandle;
  domain: number;
  kind: Kind;
  listening: boolean;
}

/** What a command line came to, for the shell's exit status. */
export interface Done {
  /** ok; failed: a system call returned -1; usage: the command or its arguments were wrong; empty: a comment. */
  status: 'ok' | 'failed' | 'usage' | 'empty' | 'quit';
  /** The errno name of the first call that failed. */
  code?: string;
}

const E = osConstants.errno;
const SIGINT = Symbol('SIGINT');
const TIMEOUT = Symbol('timeout');
const READ_SIZE = 1024;
const MAX_READ = 1 << 20;
const BACKLOG = 5;

/** What each command takes, for parsing, `help` and Tab completion. */
type Arg = 'id' | 'proto' | 'v6' | 'host' | 'port' | 'n' | 'text' | 'how' | 'opt' | 'value' | 'onoff' | 'mode' | 'cmd' | 'group' | 'ifaddr' | 'secs' | 'service' | 'addr';
interface Spec {
  usage: string;
  /** Argument kinds in order, for completion. */
  args: Arg[];
  flags?: string[];
  /** Index among the positional words where the free text starts (write, send, sendto, echo). */
  textAt?: number | ((rest: Word[]) => number);
  run(c: Ctx): void | Promise<void>;
}
interface Ctx {
  line: string;
  /** Positional words (flags taken out). */
  w: Word[];
  flags: Set<string>;
  /** The text argument, when the command has one. */
  text?: Buffer;
}

export class Session {
  trace = false;
  mode: 'tcp' | 'udp' = 'tcp';
  /** Set by commands — id (the last socket made), port (the last getsockname), from (the last sender) — read by ${name}. */
  readonly vars = new Map<string, string>();
  private readonly socks = new Map<number, Sock>();
  private nextId = 1;
  private pending?: AbortController;
  private failure?: string;
  readonly specs: Record<string, Spec>;

  constructor(private readonly out: (line: string) => void, private readonly m: Messages, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.specs = this.makeSpecs();
  }

  /** Ends the call that is blocked (Ctrl-C); false when nothing was waiting. */
  interrupt(): boolean {
    if (this.pending === undefined) return false;
    this.pending.abort(SIGINT);
    return true;
  }

  /** Every socket still open, for Tab completion. */
  ids(): number[] {
    return [...this.socks.keys()];
  }

  /** Closes every socket (when the shell leaves). */
  closeAll(): void {
    for (const s of this.socks.values()) {
      try {
        close(s.h);
      } catch {
        // leaving anyway
      }
    }
    this.socks.clear();
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
      if (spec === undefined) throw new UsageError(this.m.unknownCommand(name));
      const ctx = this.context(spec, line, ws.slice(1));
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

  private context(spec: Spec, line: string, rest: Word[]): Ctx {
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

  private note(text: string | undefined): void {
    if (text !== undefined) this.out(text);
  }

  /** Prints a call and its outcome; remembers the first failure. True if the call succeeded. */
  private report(line: Line, o: Outcome, syscall: string, interrupted = false): boolean {
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
  private attempt<T>(fn: () => T): Try<T> {
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
  private async wait<T>(
    fd: number, dir: 'in' | 'out', why: 'accept' | 'connect' | 'in' | 'out', shown: string, start: (signal: AbortSignal) => Promise<T>,
    checkReady = true,
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
      } else if (checkReady) {
        const p = [{ fd, events: dir === 'in' ? POLLIN : POLLOUT }];
        if (poll(p, 0) === 0) this.out(this.m.blocks(shown, why));
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

  private sock(w: Word | undefined, usage: string): Sock {
    if (w === undefined) throw new UsageError(this.m.usage(usage));
    const s = /^\d+$/.test(w.value) ? this.socks.get(Number(w.value)) : undefined;
    if (s === undefined) throw new UsageError(this.m.noSuchSocket(w.value));
    return s;
  }

  private add(h: SocketHandle, domain: number, kind: Kind): Sock {
    const s: Sock = { id: this.nextId++, h, domain, kind, listening: false };
    this.socks.set(s.id, s);
    this.vars.set('id', String(s.id));
    return s;
  }

  private number(w: Word | undefined, what: string, min: number, max: number, fallback?: number): number {
    if (w === undefined) {
      if (fallback === undefined) throw new UsageError(this.m.badNumber(what, ''));
      return fallback;
    }
    if (!/^\d+$/.test(w.value) || Number(w.value) < min || Number(w.value) > max) throw new UsageError(this.m.badNumber(what, w.value));
    return Number(w.value);
  }

  private port(w: Word | undefined, kind: Kind, usage: string): number {
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
  private host(text: string, domain: number): string {
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

  private endpoint(hostW: Word | undefined, portW: Word | undefined, s: { domain: number; kind: Kind }, usage: string): Endpoint {
    if (hostW === undefined || portW === undefined) throw new UsageError(this.m.usage(usage));
    const address = this.host(hostW.value, s.domain);
    return { family: s.domain, address, port: this.port(portW, s.kind, usage) };
  }

  private noMore(c: Ctx, n: number, usage: string): void {
    if (c.w.length > n) throw new UsageError(`${this.m.tooMany}\n${this.m.usage(usage)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // The commands

  private makeSpecs(): Record<string, Spec> {
    const m = this.m;
    const specs: Record<string, Spec> = {
      socket: {
        usage: 'socket tcp|udp|raw [v6]',
        args: ['proto', 'v6'],
        run: (c) => {
          const proto = c.w[0]?.value;
          if (proto !== 'tcp' && proto !== 'udp' && proto !== 'raw') throw new UsageError(m.usage(specs.socket.usage));
          const v6 = c.w[1]?.value;
          if (v6 !== undefined && v6 !== 'v6' && v6 !== 'v4') throw new UsageError(m.badChoice(v6, ['v6', 'v4']));
          this.noMore(c, 2, specs.socket.usage);
          this.makeSocket(proto, v6 === 'v6' ? AF_INET6 : AF_INET);
        },
      },
      bind: {
        usage: 'bind ID [ADDR] PORT',
        args: ['id', 'addr', 'port'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.bind.usage);
          this.noMore(c, 3, specs.bind.usage);
          const [hostW, portW] = c.w.length === 3 ? [c.w[1], c.w[2]] : [{ value: '*' } as Word, c.w[1]];
          this.bindTo(s, this.endpoint(hostW, portW, s, specs.bind.usage));
        },
      },
      listen: {
        usage: 'listen ID [N]',
        args: ['id', 'n'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.listen.usage);
          this.noMore(c, 2, specs.listen.usage);
          this.listenOn(s, this.number(c.w[1], 'N', 0, 2 ** 31 - 1, BACKLOG));
        },
      },
      accept: {
        usage: 'accept ID [-nb]',
        args: ['id'],
        flags: ['-nb'],
        run: async (c) => {
          const s = this.sock(c.w[0], specs.accept.usage);
          this.noMore(c, 1, specs.accept.usage);
          const fd = s.h.fd;
          let r: Try<S.Accepted> & { interrupted?: boolean };
          if (c.flags.has('-nb')) {
            this.nonBlocking(s);
            r = this.attempt(() => S.accept(s.h));
          } else {
            r = await this.wait(fd, 'in', 'accept', `accept(${fd})`, (signal) => A.accept(s.h, { signal }));
          }
          if ('f' in r) {
            this.report(calls.accept(fd, null), r.f, 'accept', r.interrupted);
            return;
          }
          const peer = r.v.address as Endpoint;
          const n = this.add(r.v.fd, s.domain, s.kind);
          this.report(calls.accept(fd, peer), { rc: n.h.fd }, 'accept');
          this.out(m.accepted(n.id, n.h.fd, endpoint(peer)));
        },
      },
      connect: {
        usage: 'connect ID HOST PORT [-nb]   |   connect HOST PORT [-nb]',
        args: ['id', 'host', 'port'],
        flags: ['-nb'],
        run: async (c) => {
          // connect 1 127.0.0.1 is a forgotten port, not the shortcut to host "1".
          if (c.w.length === 2 && !/^\d+$/.test(c.w[0].value)) {
            // The shortcut: a socket of the current mode, then connect.
            const domain = isIP(c.w[0].value) === 6 ? AF_INET6 : AF_INET;
            const to = this.endpoint(c.w[0], c.w[1], { domain, kind: this.mode }, specs.connect.usage);
            const s = this.makeSocket(this.mode, domain);
            if (s !== undefined) await this.connectTo(s, to, c.flags.has('-nb'));
            return;
          }
          if (c.w.length !== 3) throw new UsageError(m.usage(specs.connect.usage));
          const s = this.sock(c.w[0], specs.connect.usage);
          await this.connectTo(s, this.endpoint(c.w[1], c.w[2], s, specs.connect.usage), c.flags.has('-nb'));
        },
      },
      read: {
        usage: 'read ID [N] [-nb]',
        args: ['id', 'n'],
        flags: ['-nb'],
        run: async (c) => {
          const s = this.sock(c.w[0], specs.read.usage);
          this.noMore(c, 2, specs.read.usage);
          const n = this.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
          const buf = Buffer.alloc(n);
          const fd = s.h.fd;
          let r: Try<number> & { interrupted?: boolean };
          if (c.flags.has('-nb')) {
            this.nonBlocking(s);
            r = this.attempt(() => S.read(s.h, buf, n));
          } else {
            r = await this.wait(fd, 'in', 'in', `read(${fd})`, (signal) => A.read(s.h, buf, n, { signal }));
          }
          if ('f' in r) {
            this.report(calls.read(fd, null, n), r.f, 'read', r.interrupted);
            return;
          }
          this.report(calls.read(fd, buf.subarray(0, r.v), n), { rc: r.v }, 'read');
          if (r.v === 0) this.out(m.eof);
        },
      },
      recv: {
        usage: 'recv ID [N] [-peek] [-oob] [-nb]',
        args: ['id', 'n'],
        flags: ['-peek', '-oob', '-nb'],
        run: async (c) => {
          const s = this.sock(c.w[0], specs.recv.usage);
          this.noMore(c, 2, specs.recv.usage);
          const n = this.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
          const buf = Buffer.alloc(n);
          let flags = (c.flags.has('-peek') ? MSG_PEEK : 0) | (c.flags.has('-oob') ? MSG_OOB : 0);
          const fd = s.h.fd;
          let r: Try<number> & { interrupted?: boolean };
          if (c.flags.has('-nb')) {
            flags |= MSG_DONTWAIT ?? 0; // non-blocking for this call only, as a C program would write it
            if (MSG_DONTWAIT === undefined) this.nonBlocking(s);
            r = this.attempt(() => S.recv(s.h, buf, n, flags));
          } else {
            // Urgent data never blocks: recv(MSG_OOB) returns EINVAL at once when there is none.
            r = await this.wait(fd, 'in', 'in', `recv(${fd})`, (signal) => A.recv(s.h, buf, n, flags, { signal }), (flags & MSG_OOB) === 0);
          }
          if ('f' in r) {
            this.report(calls.recv(fd, null, n, flags), r.f, 'recv', r.interrupted);
            return;
          }
          this.report(calls.recv(fd, buf.subarray(0, Math.min(r.v, n)), n, flags), { rc: r.v }, 'recv');
          if (r.v === 0 && s.kind === 'tcp') this.out(m.eof);
        },
      },
      recvfrom: {
        usage: 'recvfrom ID [N] [-nb]',
        args: ['id', 'n'],
        flags: ['-nb'],
        run: async (c) => {
          const s = this.sock(c.w[0], specs.recvfrom.usage);
          this.noMore(c, 2, specs.recvfrom.usage);
          const n = this.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
          const buf = Buffer.alloc(n);
          let flags = 0;
          const fd = s.h.fd;
          let r: Try<S.Received> & { interrupted?: boolean };
          if (c.flags.has('-nb')) {
            flags |= MSG_DONTWAIT ?? 0;
            if (MSG_DONTWAIT === undefined) this.nonBlocking(s);
            r = this.attempt(() => S.recvfrom(s.h, buf, n, flags));
          } else {
            r = await this.wait(fd, 'in', 'in', `recvfrom(${fd})`, (signal) => A.recvfrom(s.h, buf, n, flags, { signal }));
          }
          if ('f' in r) {
            this.report(calls.recvfrom(fd, null, n, flags, null), r.f, 'recvfrom', r.interrupted);
            return;
          }
          const from = r.v.address && 'port' in r.v.address ? (r.v.address as Endpoint) : null;
          this.report(calls.recvfrom(fd, buf.subarray(0, Math.min(r.v.n, n)), n, flags, from), { rc: r.v.n }, 'recvfrom');
          if (from) {
            this.vars.set('from', `${from.address} ${from.port}`);
            this.vars.set('from_host', from.address);
            this.vars.set('from_port', String(from.port));
          }
          if (r.v.n === 0 && s.kind === 'tcp') this.out(m.eof);
        },
      },
      write: {
        usage: 'write ID TEXT [-nb]',
        args: ['id', 'text'],
        flags: ['-nb'],
        textAt: 1,
        run: async (c) => {
          const s = this.sock(c.w[0], specs.write.usage);
          const data = this.needText(c);
          const fd = s.h.fd;
          if (c.flags.has('-nb')) {
            this.nonBlocking(s);
            const r = this.attempt(() => S.write(s.h, data));
            this.report(calls.write(fd, data), 'f' in r ? r.f : { rc: r.v }, 'write');
            return;
          }
          // A blocking write(2) on a stream returns once everything is in the send buffer: writeAll.
          const r = await this.wait(fd, 'out', 'out', `write(${fd})`, (signal) => A.writeAll(s.h, data, { signal }));
          this.afterWrite(calls.write(fd, data), r, data.length, 'write');
        },
      },
      send: {
        usage: 'send ID TEXT [-oob] [-nb]',
        args: ['id', 'text'],
        flags: ['-oob', '-nb'],
        textAt: 1,
        run: async (c) => {
          const s = this.sock(c.w[0], specs.send.usage);
          const data = this.needText(c);
          let flags = c.flags.has('-oob') ? MSG_OOB : 0;
          const fd = s.h.fd;
          if (c.flags.has('-nb')) {
            flags |= MSG_DONTWAIT ?? 0;
            if (MSG_DONTWAIT === undefined) this.nonBlocking(s);
            const r = this.attempt(() => S.send(s.h, data, undefined, flags));
            this.report(calls.send(fd, data, flags), 'f' in r ? r.f : { rc: r.v }, 'send');
            return;
          }
          const r = await this.wait(fd, 'out', 'out', `send(${fd})`, async (signal) => {
            if (s.kind !== 'tcp') return A.send(s.h, data, undefined, flags, { signal });
            let done = 0;
            while (done < data.length) {
              try {
                done += await A.send(s.h, data.subarray(done), undefined, flags, { signal });
              } catch (e) {
                throw Object.assign(e as Error, { bytesWritten: done });
              }
            }
            return done;
          });
          this.afterWrite(calls.send(fd, data, flags), r, data.length, 'send');
        },
      },
      sendto: {
        usage: 'sendto ID HOST PORT TEXT [-nb]',
        args: ['id', 'host', 'port', 'text'],
        flags: ['-nb'],
        textAt: 3,
        run: async (c) => {
          const s = this.sock(c.w[0], specs.sendto.usage);
          const to = this.endpoint(c.w[1], c.w[2], s, specs.sendto.usage);
          await this.sendTo(s, to, this.needText(c), c.flags.has('-nb'));
        },
      },
      broadcast: {
        usage: 'broadcast ID [ADDR] PORT TEXT [-nb]',
        args: ['id', 'addr', 'port', 'text'],
        flags: ['-nb'],
        // broadcast ID ADDR PORT TEXT, or broadcast ID PORT TEXT to INADDR_BROADCAST.
        textAt: (rest) => (rest[1] !== undefined && isIP(rest[1].value) === 4 ? 3 : 2),
        run: async (c) => {
          const s = this.sock(c.w[0], specs.broadcast.usage);
          if (s.domain !== AF_INET) throw new UsageError(m.notFor('broadcast', 'IPv6'));
          const [hostW, portW] = c.w.length === 3 ? [c.w[1], c.w[2]] : [{ value: '255.255.255.255' } as Word, c.w[1]];
          const to = this.endpoint(hostW, portW, s, specs.broadcast.usage);
          await this.sendTo(s, to, this.needText(c), c.flags.has('-nb'));
        },
      },
      shutdown: {
        usage: 'shutdown ID rd|wr|rdwr',
        args: ['id', 'how'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.shutdown.usage);
          this.noMore(c, 2, specs.shutdown.usage);
          const how = ({ rd: SHUT_RD, wr: SHUT_WR, rdwr: SHUT_RDWR, '0': SHUT_RD, '1': SHUT_WR, '2': SHUT_RDWR } as Record<string, number>)[c.w[1]?.value ?? ''];
          if (how === undefined) throw new UsageError(m.usage(specs.shutdown.usage));
          const r = this.attempt(() => shutdown(s.h, how));
          this.report(calls.shutdown(s.h.fd, how), 'f' in r ? r.f : { rc: 0 }, 'shutdown');
        },
      },
      close: {
        usage: 'close ID',
        args: ['id'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.close.usage);
          this.noMore(c, 1, specs.close.usage);
          const fd = s.h.fd;
          this.socks.delete(s.id); // the descriptor is gone whatever close returns (close(2), NOTES)
          const r = this.attempt(() => close(s.h));
          this.report(calls.close(fd), 'f' in r ? r.f : { rc: 0 }, 'close');
        },
      },
      getsockname: {
        usage: 'getsockname ID',
        args: ['id'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.getsockname.usage);
          this.noMore(c, 1, specs.getsockname.usage);
          this.getsockname(s);
        },
      },
      getpeername: {
        usage: 'getpeername ID',
        args: ['id'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.getpeername.usage);
          this.noMore(c, 1, specs.getpeername.usage);
          const r = this.attempt(() => getpeername(s.h) as Endpoint);
          this.report(calls.getpeername(s.h.fd, 'v' in r ? r.v : null), 'f' in r ? r.f : { rc: 0 }, 'getpeername');
        },
      },
      options: {
        usage: 'options ID [NAME [VALUE]]',
        args: ['id', 'opt', 'value'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.options.usage);
          this.noMore(c, 3, specs.options.usage);
          if (c.w.length === 1) return this.showOptions(s);
          const def = this.option(s, c.w[1].value);
          if (c.w.length === 3) {
            if (def.readOnly) throw new UsageError(m.readOnly(def.name));
            if (!this.setOption(s, def, c.w[2].value)) return;
          }
          this.getOption(s, def, true);
        },
      },
      keepalive: {
        usage: 'keepalive ID [IDLE INTVL CNT]',
        args: ['id', 'secs', 'secs', 'n'],
        run: (c) => {
          const s = this.sock(c.w[0], specs.keepalive.usage);
          if (s.kind !== 'tcp') throw new UsageError(m.notFor('keepalive', s.kind));
          this.noMore(c, 4, specs.keepalive.usage);
          if (c.w.length !== 1 && c.w.length !== 4) throw new UsageError(m.usage(specs.keepalive.usage));
          if (c.w.length === 4) {
            const idle = this.number(c.w[1], 'IDLE', 1, 32767);
            const intvl = this.number(c.w[2], 'INTVL', 1, 32767);
            const cnt = this.number(c.w[3], 'CNT', 1, 127);
            const set: [string, string | number][] = [['SO_KEEPALIVE', 1], ['TCP_KEEPIDLE', idle], ['TCP_KEEPINTVL', intvl], ['TCP_KEEPCNT', cnt]];
            for (const [name, v] of set) if (!this.setOption(s, this.option(s, name), String(v))) return;
          }
          const k = this.attempt(() => getKeepAlive(s.h));
          if ('v' in k) this.out(m.keepalive(k.v.enable, k.v.idle, k.v.interval, k.v.count));
        },
      },
      mjoin: {
        usage: 'mjoin ID GROUP [IFADDR]',
        args: ['id', 'group', 'ifaddr'],
        run: (c) => this.membership(c, true, specs.mjoin.usage),
      },
      mleave: {
        usage: 'mleave ID GROUP [IFADDR]',
        args: ['id', 'group', 'ifaddr'],
        run: (c) => this.membership(c, false, specs.mleave.usage),
      },
      resolve: {
        usage: 'resolve HOST [SERVICE]',
        args: ['host', 'service'],
        run: (c) => {
          if (c.w.length < 1) throw new UsageError(m.usage(specs.resolve.usage));
          this.noMore(c, 2, specs.resolve.usage);
          const host = c.w[0].value;
          const service = c.w[1]?.value ?? null;
          const call = `getaddrinfo("${host}", ${service === null ? 'NULL' : `"${service}"`}, &hints, &res)`;
          let r: S.AddrInfo[];
          try {
            r = getaddrinfo(host, service, { ai_socktype: this.mode === 'udp' ? SOCK_DGRAM : SOCK_STREAM });
          } catch (e) {
            const err = e as SystemError;
            if (!(e instanceof SystemError)) throw e;
            // getaddrinfo returns its EAI_* code (not -1 and errno): gai_strerror() explains it.
            const text = err.code.startsWith('EAI_') ? gai_strerror(err.errno) : S.strerror(err.errno);
            this.out(`${call} = ${err.code} (${text})`);
            this.failure ??= err.code;
            return;
          }
          this.out(`${call} = 0`);
          for (const ai of r) {
            const fam = ai.ai_family === AF_INET6 ? 'AF_INET6' : 'AF_INET ';
            this.out(`  ${fam}  ${endpoint(ai.ai_addr)}`);
          }
          this.out(m.resolved(r.length));
        },
      },
      passive: {
        usage: 'passive [ADDR] [PORT] [-reuseaddr]',
        args: ['addr', 'port'],
        flags: ['-reuseaddr'],
        run: (c) => {
          this.noMore(c, 2, specs.passive.usage);
          let hostW: Word = { value: '*', quote: null, start: 0, end: 0 };
          let portW: Word = { value: '0', quote: null, start: 0, end: 0 };
          if (c.w.length === 2) [hostW, portW] = c.w;
          else if (c.w.length === 1) {
            if (/^\d+$/.test(c.w[0].value) || isIP(c.w[0].value) === 0 && !/[.:]/.test(c.w[0].value) && c.w[0].value !== '*' && c.w[0].value !== 'localhost') portW = c.w[0];
            else hostW = c.w[0];
          }
          const domain = isIP(hostW.value) === 6 ? AF_INET6 : AF_INET;
          const at = this.endpoint(hostW, portW, { domain, kind: this.mode }, specs.passive.usage);
          const s = this.makeSocket(this.mode, domain);
          if (s === undefined) return;
          if (c.flags.has('-reuseaddr') && !this.setOption(s, this.option(s, 'SO_REUSEADDR'), '1')) return;
          if (!this.bindTo(s, at)) return;
          if (this.mode === 'tcp' && !this.listenOn(s, BACKLOG)) return;
          if (at.port === 0) this.getsockname(s);
        },
      },
      '=': {
        usage: '=',
        args: [],
        run: (c) => {
          this.noMore(c, 0, '=');
          this.status();
        },
      },
      trace: {
        usage: 'trace [on|off]',
        args: ['onoff'],
        run: (c) => {
          this.noMore(c, 1, specs.trace.usage);
          const v = c.w[0]?.value;
          if (v !== undefined && v !== 'on' && v !== 'off') throw new UsageError(m.usage(specs.trace.usage));
          if (v !== undefined) this.trace = v === 'on';
          this.out(m.traceIs(this.trace));
        },
      },
      mode: {
        usage: 'mode [tcp|udp]',
        args: ['mode'],
        run: (c) => {
          this.noMore(c, 1, specs.mode.usage);
          const v = c.w[0]?.value;
          if (v !== undefined && v !== 'tcp' && v !== 'udp') throw new UsageError(m.usage(specs.mode.usage));
          if (v !== undefined) this.mode = v;
          this.out(m.modeIs(this.mode));
        },
      },
      sleep: {
        usage: 'sleep SECONDS',
        args: ['secs'],
        run: async (c) => {
          this.noMore(c, 1, specs.sleep.usage);
          const v = c.w[0]?.value ?? '';
          if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(m.badNumber('SECONDS', v));
          const ac = new AbortController();
          this.pending = ac;
          try {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, Number(v) * 1000);
              ac.signal.addEventListener('abort', () => {
                clearTimeout(t);
                resolve();
              }, { once: true });
            });
          } finally {
            this.pending = undefined;
          }
          if (ac.signal.aborted) {
            this.out(`nanosleep({tv_sec=${Math.floor(Number(v))}, tv_nsec=0}) = -1 EINTR (${S.strerror(E.EINTR)})`);
            this.failure ??= 'EINTR';
          }
        },
      },
      echo: {
        usage: 'echo TEXT',
        args: ['text'],
        textAt: 0,
        run: (c) => {
          this.out((c.text ?? Buffer.alloc(0)).toString('utf8'));
        },
      },
      help: {
        usage: 'help [COMMAND]',
        args: ['cmd'],
        run: (c) => this.help(c.w[0]?.value),
      },
    };
    return specs;
  }

  private needText(c: Ctx): Buffer {
    if (c.text === undefined) throw new UsageError(this.m.missingText);
    return c.text;
  }

  private makeSocket(kind: Kind, domain: number): Sock | undefined {
    const type = kind === 'tcp' ? SOCK_STREAM : kind === 'udp' ? SOCK_DGRAM : SOCK_RAW;
    const protocol = kind === 'raw' ? (domain === AF_INET6 ? IPPROTO_ICMPV6 ?? 58 : IPPROTO_ICMP) : 0;
    const r = this.attempt(() => socket(domain, type, protocol));
    if ('f' in r) {
      this.report(calls.socket(domain, type, protocol), r.f, 'socket');
      return undefined;
    }
    const s = this.add(r.v, domain, kind);
    this.report(calls.socket(domain, type, protocol), { rc: s.h.fd }, 'socket');
    this.out(this.m.newSocket(s.id, s.h.fd));
    return s;
  }

  /** getsockname(2); ${port} is then the local port, for the rest of a script. */
  private getsockname(s: Sock): void {
    const r = this.attempt(() => getsockname(s.h) as Endpoint);
    this.report(calls.getsockname(s.h.fd, 'v' in r ? r.v : null), 'f' in r ? r.f : { rc: 0 }, 'getsockname');
    if ('v' in r) this.vars.set('port', String(r.v.port));
  }

  private bindTo(s: Sock, at: Endpoint): boolean {
    const r = this.attempt(() => bind(s.h, at));
    return this.report(calls.bind(s.h.fd, at), 'f' in r ? r.f : { rc: 0 }, 'bind');
  }

  private listenOn(s: Sock, backlog: number): boolean {
    const r = this.attempt(() => listen(s.h, backlog));
    if ('v' in r) s.listening = true;
    return this.report(calls.listen(s.h.fd, backlog), 'f' in r ? r.f : { rc: 0 }, 'listen');
  }

  private async connectTo(s: Sock, to: Endpoint, nb: boolean): Promise<void> {
    const fd = s.h.fd;
    let r: Try<void> & { interrupted?: boolean };
    if (nb) {
      this.nonBlocking(s);
      r = this.attempt(() => S.connect(s.h, to));
    } else {
      r = await this.wait(fd, 'out', 'connect', `connect(${fd})`, (signal) => A.connect(s.h, to, { signal }));
    }
    this.report(calls.connect(fd, to), 'f' in r ? r.f : { rc: 0 }, 'connect', 'f' in r && r.interrupted);
    if ('f' in r && r.interrupted && s.kind === 'tcp') this.out(this.m.inProgress);
  }

  private async sendTo(s: Sock, to: Endpoint, data: Buffer, nb: boolean): Promise<void> {
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
  private afterWrite(line: Line, r: Try<number> & { interrupted?: boolean }, total: number, syscall: string): void {
    if ('f' in r) {
      this.report(line, r.f, syscall, r.interrupted);
      return;
    }
    if (r.interrupted && this.trace) this.out('--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL} ---');
    this.report(line, { rc: r.v }, syscall);
    if (r.v < total) this.out(this.m.partial(r.v, total));
  }

  /** O_NONBLOCK for -nb. The async API sets it too, and socklab never clears it: its waits don't need it cleared. */
  private nonBlocking(s: Sock): void {
    if (!getNonBlocking(s.h)) setNonBlocking(s.h, true);
  }

  // ---------------------------------------------------------------------------------------------
  // Options

  private option(s: Sock, text: string): OptDef {
    return findOption(text, s.kind, s.domain, this.m);
  }

  private getOption(s: Sock, d: OptDef, print: boolean): string | undefined {
    const r = this.attempt(() => readOption(s.h, d));
    if (print || this.trace) {
      const line = calls.getsockopt(s.h.fd, d.level, d.name, 'v' in r ? r.v.shown : null, 'v' in r ? r.v.straced : null, 'v' in r ? r.v.len : 4);
      if (print) this.report(line, 'f' in r ? r.f : { rc: 0 }, 'getsockopt');
      else this.out(render(line, 'f' in r ? r.f : { rc: 0 }, true));
    }
    return 'v' in r ? r.v.shown : undefined;
  }

  /** setsockopt with a value as typed (see optionValue). */
  private setOption(s: Sock, d: OptDef, text: string): boolean {
    const { value, shown, straced, len } = optionValue(d, text, this.m);
    const r = this.attempt(() => setsockopt(s.h, d.level, d.opt as number, value as number));
    return this.report(calls.setsockopt(s.h.fd, d.level, d.name, shown, straced, len), 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
  }

  private showOptions(s: Sock): void {
    const rows: [string, string][] = [];
    for (const d of optionsFor(s.kind, s.domain)) {
      const v = this.getOption(s, d, false);
      rows.push([d.name, v ?? '-']);
    }
    const width = Math.max(...rows.map(([n]) => n.length));
    for (const [n, v] of rows) this.out(`  ${n.padEnd(width)}  ${v}`);
  }

  private membership(c: Ctx, join: boolean, usage: string): void {
    const s = this.sock(c.w[0], usage);
    this.noMore(c, 3, usage);
    const group = c.w[1]?.value;
    if (group === undefined) throw new UsageError(this.m.usage(usage));
    const fd = s.h.fd;
    if (s.domain === AF_INET6) {
      if (isIP(group) !== 6) throw new UsageError(this.m.badHost(group, 'not an IPv6 multicast address'));
      const ifText = c.w[2]?.value ?? '0';
      const index = /^\d+$/.test(ifText) ? Number(ifText) : if_nametoindex(ifText);
      if (!/^\d+$/.test(ifText) && index === 0) throw new UsageError(this.m.badHost(ifText, 'no such interface'));
      const name = join ? 'IPV6_JOIN_GROUP' : 'IPV6_LEAVE_GROUP';
      const ifname = index ? if_indextoname(index) : undefined;
      const shown = `{ipv6mr_multiaddr=${group}, ipv6mr_interface=${index}}`;
      const straced = `{inet_pton(AF_INET6, "${group}", &ipv6mr_multiaddr), ipv6mr_interface=${ifname ? `if_nametoindex("${ifname}")` : index}}`;
      const r = this.attempt(() => setsockopt(s.h, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, { ipv6mr_multiaddr: group, ipv6mr_interface: index }));
      const line = calls.setsockopt(fd, IPPROTO_IPV6, name, shown, straced, 20);
      // strace (after the kernel headers) calls these IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP.
      line.s = line.s.replace(name, join ? 'IPV6_ADD_MEMBERSHIP' : 'IPV6_DROP_MEMBERSHIP');
      this.report(line, 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
      return;
    }
    if (isIP(group) !== 4) throw new UsageError(this.m.badHost(group, 'not an IPv4 multicast address'));
    const iface = c.w[2]?.value ?? '0.0.0.0';
    if (isIP(iface) !== 4) throw new UsageError(this.m.badHost(iface, 'IFADDR is the IPv4 address of a local interface'));
    const name = join ? 'IP_ADD_MEMBERSHIP' : 'IP_DROP_MEMBERSHIP';
    const shown = `{imr_multiaddr=${group}, imr_interface=${iface}}`;
    const straced = `{imr_multiaddr=inet_addr("${group}"), imr_interface=inet_addr("${iface}")}`;
    const r = this.attempt(() => setsockopt(s.h, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, { imr_multiaddr: group, imr_interface: iface }));
    this.report(calls.setsockopt(fd, IPPROTO_IP, name, shown, straced, 8), 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
  }

  // ---------------------------------------------------------------------------------------------
  // The status table and help

  private status(): void {
    const list = [...this.socks.values()];
    if (list.length === 0) {
      this.out(this.m.noSockets);
      return;
    }
    const fds = list.map((s) => s.h.fd);
    // Readiness right now: select() with a zero timeout, each socket in all three sets.
    const ready = select(fds, fds, fds, 0);
    if (this.trace) {
      const count = ready.readable.length + ready.writable.length + ready.exceptional.length;
      const sets = [...fds].sort((a, b) => a - b);
      this.out(calls.select(Math.max(...fds) + 1, [sets, sets, sets], [ready.readable, ready.writable, ready.exceptional].map((a) => [...a].sort((x, y) => x - y)) as number[][], count));
    }
    const rows = list.map((s) => {
      const local = this.attempt(() => getsockname(s.h) as Endpoint);
      const peer = this.attempt(() => getpeername(s.h) as Endpoint);
      const name = 'v' in local ? shortEndpoint(local.v, s.kind) : '-';
      const remote = 'v' in peer ? shortEndpoint(peer.v, s.kind) : '-';
      let state = '-';
      if (s.kind === 'tcp' && TCP_INFO !== undefined) {
        const info = this.attempt(() => getsockopt(s.h, IPPROTO_TCP, TCP_INFO!));
        if ('v' in info) state = info.v.stateName === 'CLOSE' ? 'CLOSED' : info.v.stateName;
      } else if (s.kind === 'tcp') state = s.listening ? 'LISTEN' : 'v' in peer ? 'ESTABLISHED' : '-';
      else if (s.kind === 'udp') state = this.m.udpState('v' in peer ? 'connected' : name === '-' ? 'unbound' : 'bound');
      const flag = (on: boolean, ch: string) => (on ? ch : '.');
      const rwx = `${flag(ready.readable.includes(s.h.fd), 'R')} ${flag(ready.writable.includes(s.h.fd), 'W')} ${flag(ready.exceptional.includes(s.h.fd), 'X')}`;
      const proto = s.domain === AF_INET6 ? `${s.kind}6` : s.kind;
      return [String(s.id), String(s.h.fd), proto, name, remote, state, rwx];
    });
    const head = this.m.columns as string[];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((v, i) => (i < 2 ? v.padStart(widths[i]) : i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
    this.out(fmt(head));
    for (const r of rows) this.out(fmt(r));
  }

  private help(cmd: string | undefined): void {
    const h = this.m.help;
    if (cmd !== undefined) {
      const key = ALIASES[cmd] ?? cmd;
      const spec = this.specs[key];
      if (spec === undefined && cmd !== 'quit' && cmd !== 'exit') throw new UsageError(this.m.unknownCommand(cmd));
      this.out(this.m.usage(spec?.usage ?? 'quit'));
      this.out(`  ${h[cmd === 'exit' ? 'quit' : key]}`);
      if (key === '=') this.out(`  ${this.m.legend}`);
      return;
    }
    this.out(this.m.helpHeader);
    const entries = Object.entries(this.specs).map(([k, s]) => [k, s.usage] as const);
    entries.push(['quit', 'quit']);
    for (const [k, usage] of entries) {
      const u = this.m.words(usage.split('   |   ')[0]);
      this.out(`  ${u.padEnd(36)} ${h[k] ?? ''}`);
    }
    this.out(this.m.helpFooter);
  }

  // ---------------------------------------------------------------------------------------------
  // Tab completion

  /** Command names, for completion. */
  commandNames(): string[] {
    return [...Object.keys(this.specs), 'status', 'quit', 'exit'].sort();
  }

  /** readline's completer: what may come next at the end of `line`. */
  complete(line: string): [string[], string] {
    const stripped = line.replace(/^\s*!([A-Z][A-Z0-9_]*)?\s*/, '');
    const parts = stripped.split(/\s+/);
    const last = parts[parts.length - 1];
    const pick = (all: string[]) => {
      const hits = all.filter((c) => c.startsWith(last));
      return [hits.length ? hits : [], last] as [string[], string];
    };
    if (parts.length <= 1) return pick(this.commandNames());
    const name = ALIASES[parts[0]] ?? parts[0];
    const spec = this.specs[name];
    if (spec === undefined) return [[], last];
    if (last.startsWith('-')) return pick(spec.flags ?? []);
    const position = parts.slice(1, -1).filter((p) => !p.startsWith('-')).length;
    let kind = spec.args[position];
    if (name === 'connect' && position > 0 && !/^\d+$/.test(parts[1])) kind = spec.args[position + 1];
    switch (kind) {
      case 'id': return pick(this.ids().map(String));
      case 'proto': return pick(['tcp', 'udp', 'raw']);
      case 'v6': return pick(['v6']);
      case 'how': return pick(['rd', 'wr', 'rdwr']);
      case 'onoff': return pick(['on', 'off']);
      case 'mode': return pick(['tcp', 'udp']);
      case 'cmd': return pick(this.commandNames());
      case 'host': case 'addr': return pick(['127.0.0.1', '::1', 'localhost', '*']);
      case 'opt': {
        const s = this.socks.get(Number(parts[1]));
        return pick((s ? optionsFor(s.kind, s.domain) : OPTIONS).map((o) => o.name));
      }
      case 'value': return pick(['on', 'off']);
      default: return pick(spec.flags ?? []);
    }
  }
}

const ALIASES: Record<string, string> = { status: '=' };

/** `*:3400` for the wildcard address (as netstat and the course's (*, 22) write it), `-` when unbound. */
function shortEndpoint(a: Endpoint, kind: Kind): string {
  const any = a.address === '0.0.0.0' || a.address === '::';
  if (kind === 'raw') return any ? '*' : a.address;
  if (any && a.port === 0) return '-';
  return any ? `*:${a.port}` : endpoint(a);
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
