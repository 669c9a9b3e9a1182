// Shared test helpers: descriptor counting, loopback pairs, and the skip policy for tests that need
// root or tools (they must run in CI, where CI=true, and skip with a printed reason elsewhere).
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import {
  AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, type SocketHandle, SystemError, accept, bind, close, connect, getsockname, listen,
  socket,
} from '../src/index';

/** A loopback port nobody uses right now (the kernel's choice, released at once). */
export function freePort(): number {
  const s = socket(AF_INET, SOCK_STREAM, 0);
  try {
    bind(s, { family: AF_INET, address: '127.0.0.1', port: 0 });
    return getsockname(s).port;
  } finally {
    close(s);
  }
}

/** Open descriptors of this process, from /proc/self/fd (excluding the one readdir itself uses). */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length - 1;
}

/** Numbers of the open descriptors of this process. */
export function openFds(): Set<number> {
  return new Set(readdirSync('/proc/self/fd').map(Number));
}

/** In `npm run test:asan`: the AddressSanitizer runtime is preloaded into this process. */
export const underAsan = (process.env.LD_PRELOAD ?? '').includes('libasan');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Whether a test that needs `what` can run. In CI a missing capability is a failure (the test runs and
 * fails); elsewhere the test is skipped and the reason printed once.
 */
export function canRun(what: string, available: boolean): boolean {
  if (available || inCI) return true;
  console.warn(`[skip] ${what}: not available on this machine (runs in CI)`);
  return false;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A listening TCP socket on 127.0.0.1 and its port. */
export function tcpListener(backlog = 16): { srv: SocketHandle<typeof AF_INET>; port: number } {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, backlog);
  return { srv, port: getsockname(srv).port };
}

/** A connected TCP pair over loopback: client, server-side connection, and the listener. */
export function tcpPair(): { cli: SocketHandle<typeof AF_INET>; conn: SocketHandle<typeof AF_INET>; srv: SocketHandle<typeof AF_INET>; port: number } {
  const { srv, port } = tcpListener();
  const cli = socket(AF_INET, SOCK_STREAM, 0);
  connect(cli, { family: AF_INET, address: '127.0.0.1', port });
  const { fd: conn } = accept(srv);
  return { cli, conn, srv, port };
}

/** A UDP socket bound to 127.0.0.1 on a kernel-chosen port. */
export function udpSocket(): { fd: SocketHandle<typeof AF_INET>; port: number } {
  const fd = socket(AF_INET, SOCK_DGRAM, 0);
  bind(fd, { family: AF_INET, address: '127.0.0.1', port: 0 });
  return { fd, port: getsockname(fd).port };
}

/** Checks, at the end of the calling test file, that every descriptor it opened is closed again. */
export function noLeakedFds(): void {
  let atStart = new Set<number>();
  beforeAll(() => {
    atStart = openFds();
  });
  afterAll(() => {
    expect(openFds()).toEqual(atStart);
  });
}

/** Returns `track(handle)`: every tracked handle is closed after each test of the calling file. */
export function trackHandles(): <T extends SocketHandle>(h: T) => T {
  const opened: SocketHandle[] = [];
  afterEach(() => {
    for (const h of opened.splice(0)) h.close();
  });
  return (h) => {
    opened.push(h);
    return h;
  };
}

/**
 * A Python client program: four connections to `port` at once, each sends "client i", and the answers
 * are read in reverse order while all stay connected; prints them joined by "|". Only a concurrent
 * server (threads, processes, an event loop) answers client 3 before client 0 has finished.
 */
export function reverseOrderClients(port: number | string): string {
  return `
import socket
socks = [socket.create_connection(("127.0.0.1", ${port}), timeout=20) for _ in range(4)]
for i, s in enumerate(socks):
    s.sendall(b"client %d" % i)
out = []
for s in reversed(socks):
    want = len(b"client 0")
    data = b""
    while len(data) < want:
        data += s.recv(want - len(data))
    out.append(data.decode())
for s in socks:
    s.shutdown(socket.SHUT_WR)
    assert s.recv(10) == b""
print("|".join(out))
`;
}

/** What `f` threw (it must throw): any error, with the fields Node's errors may carry. */
export function thrown(f: () => unknown): Error & { code?: string; errno?: number; syscall?: string; hostname?: string; address?: string; path?: string } {
  try {
    f();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

/** The SystemError `f` threw (it must throw one). */
export function systemError(f: () => unknown): SystemError {
  const e = thrown(f);
  expect(e).toBeInstanceOf(SystemError);
  return e as SystemError;
}

/** Whether ::1 is configured here (containers often run without IPv6): a bind attempt says. */
export function hasIPv6Loopback(): boolean {
  let s: SocketHandle | undefined;
  try {
    s = socket(AF_INET6, SOCK_DGRAM, 0);
    bind(s, { family: AF_INET6, address: '::1', port: 0 });
    return true;
  } catch {
    return false;
  } finally {
    s?.close();
  }
}

/** How a child process that reports in JSON ended: `report` is its stdout parsed, if it parses. */
export interface ChildReport<T> {
  status: number | null;
  signal: NodeJS.Signals | null;
  report?: T;
  stdout: string;
  /** The last 4,000 characters. */
  stderr: string;
}

/** Runs `cmd args` to its end (SIGKILL after `timeoutMs`) and parses what it printed as JSON. */
export function runJsonChild<T>(cmd: string, args: string[], timeoutMs: number): Promise<ChildReport<T>> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(killer);
      let report: T | undefined;
      try {
        report = JSON.parse(stdout) as T;
      } catch {
        report = undefined;
      }
      resolve({ status, signal, report, stdout, stderr });
    });
  });
}

/** runJsonChild's report, or a rejection that shows how the child ended and what it printed. */
export async function jsonReport<T>(cmd: string, args: string[], timeoutMs: number): Promise<T> {
  const r = await runJsonChild<T>(cmd, args, timeoutMs);
  if (r.report === undefined) {
    throw new Error(`child ended (status ${r.status}, signal ${r.signal}) without a report: ${r.stdout}\n${r.stderr}`);
  }
  return r.report;
}
