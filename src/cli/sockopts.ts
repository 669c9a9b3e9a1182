// The socket options socklab's `options`, `keepalive` and `-reuseaddr` show and set: which exist for
// which socket, how a value typed at the prompt becomes the C value, and how each reads back, for
// people and in strace's notation. The system calls themselves are the session's (session.ts).
import { isIP } from 'node:net';
import { endianness } from 'node:os';
import {
  AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_TCP, IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, IP_TTL, SOL_SOCKET,
  SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF,
  SO_SNDTIMEO, type SocketHandle, TCP_KEEPALIVE, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY, getsockopt,
  inet_ntop, inet_pton,
} from '../index';
import type { Messages } from './i18n';
import { UsageError } from './parse';
import { intArg, quote } from './strace';

/** The kinds of socket socklab makes. */
export type Kind = 'tcp' | 'udp' | 'raw';

/** An option `options` shows and sets: its level and number, and how its value reads. */
export interface OptDef {
  name: string;
  level: number;
  opt: number | undefined;
  kind: 'int' | 'bool' | 'timeval' | 'linger' | 'in_addr';
  only?: Kind;
  v4?: boolean;
  readOnly?: boolean;
}

export const OPTIONS: OptDef[] = [
  { name: 'SO_BROADCAST', level: SOL_SOCKET, opt: SO_BROADCAST, kind: 'bool' },
  { name: 'SO_KEEPALIVE', level: SOL_SOCKET, opt: SO_KEEPALIVE, kind: 'bool' },
  { name: 'SO_REUSEADDR', level: SOL_SOCKET, opt: SO_REUSEADDR, kind: 'bool' },
  { name: 'SO_REUSEPORT', level: SOL_SOCKET, opt: SO_REUSEPORT, kind: 'bool' },
  { name: 'SO_RCVBUF', level: SOL_SOCKET, opt: SO_RCVBUF, kind: 'int' },
  { name: 'SO_SNDBUF', level: SOL_SOCKET, opt: SO_SNDBUF, kind: 'int' },
  { name: 'SO_RCVTIMEO', level: SOL_SOCKET, opt: SO_RCVTIMEO, kind: 'timeval' },
  { name: 'SO_SNDTIMEO', level: SOL_SOCKET, opt: SO_SNDTIMEO, kind: 'timeval' },
  { name: 'SO_LINGER', level: SOL_SOCKET, opt: SO_LINGER, kind: 'linger' },
  { name: 'SO_ERROR', level: SOL_SOCKET, opt: SO_ERROR, kind: 'int', readOnly: true },
  { name: 'TCP_NODELAY', level: IPPROTO_TCP, opt: TCP_NODELAY, kind: 'bool', only: 'tcp' },
  // macOS calls the idle time TCP_KEEPALIVE; socklab shows the Linux name everywhere.
  { name: 'TCP_KEEPIDLE', level: IPPROTO_TCP, opt: TCP_KEEPIDLE ?? TCP_KEEPALIVE, kind: 'int', only: 'tcp' },
  { name: 'TCP_KEEPINTVL', level: IPPROTO_TCP, opt: TCP_KEEPINTVL, kind: 'int', only: 'tcp' },
  { name: 'TCP_KEEPCNT', level: IPPROTO_TCP, opt: TCP_KEEPCNT, kind: 'int', only: 'tcp' },
  { name: 'IP_TTL', level: IPPROTO_IP, opt: IP_TTL, kind: 'int', v4: true },
  { name: 'IP_MULTICAST_IF', level: IPPROTO_IP, opt: IP_MULTICAST_IF, kind: 'in_addr', only: 'udp', v4: true },
  { name: 'IP_MULTICAST_TTL', level: IPPROTO_IP, opt: IP_MULTICAST_TTL, kind: 'int', only: 'udp', v4: true },
  { name: 'IP_MULTICAST_LOOP', level: IPPROTO_IP, opt: IP_MULTICAST_LOOP, kind: 'bool', only: 'udp', v4: true },
].filter((o) => o.opt !== undefined) as OptDef[];

/** The options that exist for a socket of this kind and family (the IP_ ones are IPv4's). */
export function optionsFor(kind: Kind, domain: number): OptDef[] {
  return OPTIONS.filter((o) => (o.only === undefined || o.only === kind) && !(o.v4 && domain !== AF_INET));
}

/** The option named `text` (any case; SO_/TCP_/IP_ may be left out), or a UsageError. */
export function findOption(text: string, kind: Kind, domain: number, m: Messages): OptDef {
  const want = text.toUpperCase();
  const names = optionsFor(kind, domain).map((o) => o.name);
  const def = OPTIONS.find((o) => o.name === want || o.name.replace(/^(SO|TCP|IP)_/, '') === want);
  if (def === undefined) throw new UsageError(m.badOption(text, names));
  if (!names.includes(def.name)) throw new UsageError(m.notFor(def.name, domain === AF_INET6 && def.v4 ? 'IPv6' : kind));
  return def;
}

/** A value as people read it (`shown`), as strace prints optval (`straced`), and optlen. */
export interface OptionText {
  shown: string;
  straced: string;
  len: number;
}

/** getsockopt(2) of one option, as text; throws the call's SystemError. */
export function readOption(h: SocketHandle, d: OptDef): OptionText {
  switch (d.kind) {
    case 'timeval': {
      const tv = getsockopt(h, d.level, d.opt as typeof SO_RCVTIMEO);
      return { shown: `{tv_sec=${tv.tv_sec}, tv_usec=${tv.tv_usec}}`, straced: quote(timevalBytes(tv.tv_sec, tv.tv_usec)), len: 16 };
    }
    case 'linger': {
      const l = getsockopt(h, d.level, d.opt as typeof SO_LINGER);
      const t = `{l_onoff=${l.l_onoff}, l_linger=${l.l_linger}}`;
      return { shown: t, straced: t, len: 8 };
    }
    case 'in_addr': {
      const b = getsockopt(h, d.level, d.opt as number, 4);
      return { shown: inet_ntop(AF_INET, b), straced: intArg(hostU32(b)), len: 4 };
    }
    default: {
      const v = getsockopt(h, d.level, d.opt as number);
      return { shown: String(v), straced: intArg(v), len: 4 };
    }
  }
}

/**
 * The value to hand setsockopt for `text` as typed: 1/0/on/off (and yes/no, true/false), an integer,
 * milliseconds or 1.5s for the timeouts, off or seconds for SO_LINGER, an IPv4 address for
 * IP_MULTICAST_IF; a UsageError for anything else.
 */
export function optionValue(d: OptDef, text: string, m: Messages): OptionText & { value: number | boolean | { l_onoff: number; l_linger: number } | Buffer } {
  const bad = () => new UsageError(m.badValue(d.name, text));
  const lower = text.toLowerCase();
  switch (d.kind) {
    case 'bool':
    case 'int': {
      const named: Record<string, number> = { on: 1, off: 0, yes: 1, no: 0, true: 1, false: 0 };
      const v = lower in named ? named[lower] : /^-?\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) throw bad();
      return { value: v, shown: String(v), straced: intArg(v), len: 4 };
    }
    case 'timeval': {
      const mt = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(lower);
      if (!mt) throw bad();
      const ms = Number(mt[1]) * (mt[2] === 's' ? 1000 : 1);
      const us = Math.round(ms * 1000);
      const [sec, usec] = [Math.floor(us / 1e6), us % 1e6];
      return { value: ms, shown: `{tv_sec=${sec}, tv_usec=${usec}}`, straced: quote(timevalBytes(sec, usec)), len: 16 };
    }
    case 'linger': {
      if (lower !== 'off' && !/^\d+$/.test(text)) throw bad();
      const l = lower === 'off' ? { l_onoff: 0, l_linger: 0 } : { l_onoff: 1, l_linger: Number(text) };
      const shown = `{l_onoff=${l.l_onoff}, l_linger=${l.l_linger}}`;
      return { value: l, shown, straced: shown, len: 8 };
    }
    case 'in_addr': {
      if (isIP(text) !== 4) throw bad();
      const b = inet_pton(AF_INET, text);
      return { value: b, shown: text, straced: intArg(hostU32(b)), len: 4 };
    }
  }
}

const LE = endianness() === 'LE';
/** A C unsigned int read as the host stores it (what strace prints for an in_addr given as an int). */
const hostU32 = (b: Buffer) => (LE ? b.readUInt32LE(0) : b.readUInt32BE(0));

/** The 16 bytes of a 64-bit struct timeval, which strace shows quoted for SO_RCVTIMEO_OLD. */
function timevalBytes(sec: number, usec: number): Buffer {
  const b = Buffer.alloc(16);
  if (LE) {
    b.writeBigInt64LE(BigInt(sec), 0);
    b.writeBigInt64LE(BigInt(usec), 8);
  } else {
    b.writeBigInt64BE(BigInt(sec), 0);
    b.writeBigInt64BE(BigInt(usec), 8);
  }
  return b;
}
