// socklab commands — The session itself: = (the socket table), trace, mode, sleep, echo, help.
// Each command is one system call (or a short C idiom), made through the session (../session.ts).
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { AF_INET, AF_INET6, IPPROTO_TCP, TCP_INFO, getpeername, getsockname, getsockopt, inet_pton, select } from '../../index';
import * as S from '../../index';
import { UsageError } from '../parse';
import { captureCommands } from './capture';
import type { Session } from '../session';
import type { Kind } from '../sockopts';
import { E, type Spec } from '../spec';
import { type Endpoint, calls, endpoint } from '../strace';

const LE = endianness() === 'LE';

export function statusCommands(lab: Session): Record<string, Spec> {
  const m = lab.m;
  const specs: Record<string, Spec> = {
    '=': {
      usage: '=',
      help: {
        en: 'status: every socket with its addresses, state, and R/W/X readiness from select() right now',
        fr: "état : toutes les sockets, leurs adresses, leur état et R/W/X (prêtes d'après select() à l'instant)",
      },
      args: [],
      run: (c) => {
        lab.noMore(c, 0, '=');
        status(lab);
      },
    },
    trace: {
      usage: 'trace [on|off]',
      help: {
        en: 'trace on: print each system call as strace(1) shows it; trace off: the short form',
        fr: "trace on : chaque appel système comme strace(1) l'affiche ; trace off : la forme courte",
      },
      args: ['onoff'],
      run: (c) => {
        lab.noMore(c, 1, specs.trace.usage);
        const v = c.w[0]?.value;
        if (v !== undefined && v !== 'on' && v !== 'off') throw new UsageError(m.usage(specs.trace.usage));
        if (v !== undefined) lab.trace = v === 'on';
        lab.out(m.traceIs(lab.trace));
      },
    },
    ...captureCommands(lab),
    mode: {
      usage: 'mode [tcp|udp]',
      help: {
        en: 'tcp or udp: the protocol of the shortcuts (passive, connect HOST PORT)',
        fr: 'tcp ou udp : le protocole des raccourcis (passive, connect HÔTE PORT)',
      },
      args: ['mode'],
      run: (c) => {
        lab.noMore(c, 1, specs.mode.usage);
        const v = c.w[0]?.value;
        if (v !== undefined && v !== 'tcp' && v !== 'udp') throw new UsageError(m.usage(specs.mode.usage));
        if (v !== undefined) lab.mode = v;
        lab.out(m.modeIs(lab.mode));
      },
    },
    sleep: {
      usage: 'sleep SECONDS',
      help: {
        en: 'wait SECONDS (a script waiting for its peer); Ctrl-C interrupts',
        fr: "attend SECONDES (un script qui attend l'autre côté) ; Ctrl-C interrompt",
      },
      args: ['secs'],
      run: async (c) => {
        lab.noMore(c, 1, specs.sleep.usage);
        const v = c.w[0]?.value ?? '';
        if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(m.badNumber('SECONDS', v));
        const ac = new AbortController();
        lab.pending = ac;
        try {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Number(v) * 1000);
            ac.signal.addEventListener('abort', () => {
              clearTimeout(t);
              resolve();
            }, { once: true });
          });
        } finally {
          lab.pending = undefined;
        }
        if (ac.signal.aborted) {
          lab.out(`nanosleep({tv_sec=${Math.floor(Number(v))}, tv_nsec=0}) = -1 EINTR (${S.strerror(E.EINTR)})`);
          lab.failure ??= 'EINTR';
        }
      },
    },
    echo: {
      usage: 'echo [TEXT]',
      help: {
        en: 'print TEXT (in scripts)',
        fr: 'affiche TEXTE (dans les scripts)',
      },
      args: ['text'],
      textAt: 0,
      run: (c) => {
        lab.out((c.text ?? Buffer.alloc(0)).toString('utf8'));
      },
    },
    help: {
      usage: 'help [COMMAND]',
      help: {
        en: 'this list, or the usage of one command',
        fr: "cette liste, ou l'usage d'une commande",
      },
      args: ['cmd'],
      run: (c) => lab.help(c.w[0]?.value),
    },
  };
  return specs;
}

/**
 * The = table: every socket by its identifier (its descriptor, in order), its addresses, its TCP state,
 * and its readiness (select with a zero timeout).
 */
function status(lab: Session): void {
  const list = [...lab.socks.values()].sort((a, b) => a.fd - b.fd);
  if (list.length === 0) {
    lab.out(lab.m.noSockets);
    return;
  }
  const fds = list.map((s) => s.h.fd);
  // Readiness right now: select() with a zero timeout, each socket in all three sets.
  const ready = select(fds, fds, fds, 0);
  if (lab.trace) {
    const count = ready.readable.length + ready.writable.length + ready.exceptional.length;
    const sets = [...fds].sort((a, b) => a - b);
    lab.out(calls.select([sets, sets, sets], [ready.readable, ready.writable, ready.exceptional].map((a) => [...a].sort((x, y) => x - y)) as number[][], count));
  }
  const rows = list.map((s) => {
    const local = lab.attempt(() => getsockname(s.h) as Endpoint);
    const peer = lab.attempt(() => getpeername(s.h) as Endpoint);
    const name = 'v' in local ? shortEndpoint(local.v, s.kind) : '-';
    const remote = 'v' in peer ? shortEndpoint(peer.v, s.kind) : '-';
    if ('v' in peer) s.peer = { address: peer.v.address, port: peer.v.port };
    let state = '-';
    if (s.kind === 'tcp' && TCP_INFO !== undefined) {
      const info = lab.attempt(() => getsockopt(s.h, IPPROTO_TCP, TCP_INFO!));
      if ('v' in info) state = info.v.stateName === 'CLOSE' ? 'CLOSED' : info.v.stateName;
      // The active closer's socket is CLOSE once the peer's FIN came: the kernel moved the connection
      // to a TIME_WAIT entry of its own (tcp_time_wait), which only /proc/net/tcp still shows.
      if (state === 'CLOSED' && s.peer !== undefined && 'v' in local && timeWait(local.v, s.peer)) state = 'TIME_WAIT';
    } else if (s.kind === 'tcp') state = s.listening ? 'LISTEN' : 'v' in peer ? 'ESTABLISHED' : '-';
    else if (s.kind === 'udp') state = lab.m.udpState('v' in peer ? 'connected' : name === '-' ? 'unbound' : 'bound');
    const flag = (on: boolean, ch: string) => (on ? ch : '.');
    const rwx = `${flag(ready.readable.includes(s.h.fd), 'R')} ${flag(ready.writable.includes(s.h.fd), 'W')} ${flag(ready.exceptional.includes(s.h.fd), 'X')}`;
    const proto = s.domain === AF_INET6 ? `${s.kind}6` : s.kind;
    return [String(s.fd), proto, name, remote, state, rwx];
  });
  const head = lab.m.columns as string[];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((v, i) => (i === 0 ? v.padStart(widths[i]) : i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  lab.out(fmt(head));
  for (const r of rows) lab.out(fmt(r));
}

/** An address as the = table shows it: * for the wildcard, - for none. */
function shortEndpoint(a: Endpoint, kind: Kind): string {
  const any = a.address === '0.0.0.0' || a.address === '::';
  if (kind === 'raw') return any ? '*' : a.address;
  if (any && a.port === 0) return '-';
  return any ? `*:${a.port}` : endpoint(a);
}

/**
 * Whether the kernel holds the connection local -> peer in TIME_WAIT (state 06 in /proc/net/tcp or
 * tcp6, where addresses are the kernel's bytes in hex, 32-bit words in host order). Linux only.
 */
function timeWait(local: Endpoint, peer: { address: string; port: number }): boolean {
  const v6 = local.address.includes(':');
  let table: string;
  try {
    table = readFileSync(v6 ? '/proc/net/tcp6' : '/proc/net/tcp', 'utf8');
  } catch {
    return false;
  }
  const hex = (address: string, port: number) => {
    const bytes = inet_pton(v6 ? AF_INET6 : AF_INET, address);
    let words = '';
    for (let i = 0; i < bytes.length; i += 4) {
      const w = LE ? [bytes[i + 3], bytes[i + 2], bytes[i + 1], bytes[i]] : [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]];
      words += w.map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    return `${words.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  };
  const want = `${hex(local.address, local.port)} ${hex(peer.address, peer.port)} 06`;
  return table.split('\n').some((line) => line.trim().split(/\s+/).slice(1, 4).join(' ') === want);
}
