// TCP keepalive in one call: SO_KEEPALIVE plus the three timers of tcp(7), and TCP_USER_TIMEOUT.
// The timers' names differ by platform (TCP_KEEPIDLE on Linux is TCP_KEEPALIVE on macOS): this is the
// one place that knows.
import { IPPROTO_TCP, SOL_SOCKET, SO_KEEPALIVE, TCP_KEEPALIVE, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_USER_TIMEOUT } from './constants';
import { invalidArgType, invalidArgValue } from './errors';
import type { Fd } from './handle';
import { getsockopt, setsockopt } from './options';
import { checkInt } from './validate';

/** Keepalive settings, socket2's TcpKeepalive shape. Times in seconds, except userTimeout (ms). */
export interface KeepAlive {
  /** SO_KEEPALIVE (default true when setting). */
  enable?: boolean;
  /** TCP_KEEPIDLE: seconds of silence before the first probe. */
  idle?: number;
  /** TCP_KEEPINTVL: seconds between unanswered probes. */
  interval?: number;
  /** TCP_KEEPCNT: unanswered probes before the connection is declared dead (ETIMEDOUT). */
  count?: number;
  /**
   * TCP_USER_TIMEOUT (Linux): milliseconds that sent data may stay unacknowledged before the connection
   * is dropped with ETIMEDOUT; 0 restores the default. Once set, it also bounds keepalive detection.
   */
  userTimeout?: number;
}

/** The idle option of this platform: TCP_KEEPIDLE (Linux, BSD) or TCP_KEEPALIVE (macOS). */
const IDLE = TCP_KEEPIDLE ?? TCP_KEEPALIVE;

function need(name: string, value: number | undefined): number {
  if (value === undefined) throw invalidArgValue('keepalive', name, 'is not supported on this platform');
  return value;
}

/**
 * Turns keepalive on (or off, with `enable: false`) and sets its timers with setsockopt(2): a dead peer
 * is then detected after about `idle + interval × count` seconds of silence, and the next read fails
 * with ETIMEDOUT. Options left out keep their current values (the system defaults:
 * net.ipv4.tcp_keepalive_time/intvl/probes).
 */
export function setKeepAlive(fd: Fd, options: KeepAlive): void {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { enable = true, idle, interval, count, userTimeout } = options;
  if (typeof enable !== 'boolean') throw invalidArgType('options.enable', 'of type boolean', enable);
  // Check everything before changing anything, so a bad value leaves the socket as it was.
  if (idle !== undefined) checkInt(idle, 'options.idle', 1, 32767);
  if (interval !== undefined) checkInt(interval, 'options.interval', 1, 32767);
  if (count !== undefined) checkInt(count, 'options.count', 1, 127);
  if (userTimeout !== undefined) checkInt(userTimeout, 'options.userTimeout', 0, 2 ** 31 - 1);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, enable);
  if (idle !== undefined) setsockopt(fd, IPPROTO_TCP, need('idle', IDLE), idle);
  if (interval !== undefined) setsockopt(fd, IPPROTO_TCP, need('interval', TCP_KEEPINTVL), interval);
  if (count !== undefined) setsockopt(fd, IPPROTO_TCP, need('count', TCP_KEEPCNT), count);
  if (userTimeout !== undefined) setsockopt(fd, IPPROTO_TCP, need('userTimeout', TCP_USER_TIMEOUT), userTimeout);
}

/** What the kernel applied, read back with getsockopt(2) (userTimeout where the platform has it). */
export function getKeepAlive(fd: Fd): Required<Omit<KeepAlive, 'userTimeout'>> & { userTimeout?: number } {
  const result: Required<Omit<KeepAlive, 'userTimeout'>> & { userTimeout?: number } = {
    enable: getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE) !== 0,
    idle: getsockopt(fd, IPPROTO_TCP, need('idle', IDLE)),
    interval: getsockopt(fd, IPPROTO_TCP, need('interval', TCP_KEEPINTVL)),
    count: getsockopt(fd, IPPROTO_TCP, need('count', TCP_KEEPCNT)),
  };
  if (TCP_USER_TIMEOUT !== undefined) result.userTimeout = getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT);
  return result;
}
