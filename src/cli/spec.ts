// socklab's command table: what a command is (Spec), what it is called with (Ctx), the sockets the
// session keeps (Sock), and the constants the commands share. The commands are in commands/*.ts, a
// module per group; the session (session.ts) keeps state, waits and reports.
import { constants as osConstants } from 'node:os';
import type { SocketHandle } from '../index';
import type { Lang } from './i18n';
import type { Word } from './parse';
import type { Kind } from './sockopts';

export type Fail = { code: string; errno: number };
export type Try<T> = { v: T } | { f: Fail };

export interface Sock {
  /**
   * The descriptor socket() or accept() returned: the socket's only identifier, as in the course's
   * socklab ("Identificateur : 3"). Kept here because the handle forgets its number once closed.
   */
  fd: number;
  h: SocketHandle;
  domain: number;
  kind: Kind;
  listening: boolean;
  /** The peer it was last seen connected to: a closed connection no longer has one to ask for. */
  peer?: { address: string; port: number };
}

export const E = osConstants.errno;
export const SIGINT = Symbol('SIGINT');
export const TIMEOUT = Symbol('timeout');
export const READ_SIZE = 1024;
export const MAX_READ = 1 << 20;
export const BACKLOG = 5;

/** What each command takes, for parsing, `help` and Tab completion. */
export type Arg = 'id' | 'proto' | 'v6' | 'host' | 'port' | 'n' | 'text' | 'how' | 'opt' | 'value' | 'onoff' | 'mode' | 'cmd' | 'group' | 'ifaddr' | 'ifname' | 'secs' | 'service' | 'addr';
export interface Spec {
  usage: string;
  /** What `help` says of it, in each language socklab speaks. */
  help: Record<Lang, string>;
  /** Argument kinds in order, for completion. */
  args: Arg[];
  flags?: string[];
  /** Index among the positional words where the free text starts (write, send, sendto, echo). */
  textAt?: number | ((rest: Word[]) => number);
  run(c: Ctx): void | Promise<void>;
}
export interface Ctx {
  line: string;
  /** Positional words (flags taken out). */
  w: Word[];
  flags: Set<string>;
  /** The text argument, when the command has one. */
  text?: Buffer;
}
