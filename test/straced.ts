// Running a program under strace -f -ff (one file per process and thread) while driving it with a peer,
// and reading what strace saw: the program's processes in fork order (Node's threads set aside), and
// what BSOCK_TRACE printed in the same run. Used by test/course-twins.test.ts (a C program against its
// TypeScript twin) and test/trace.test.ts (the trace against strace).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let work = '';
/** The scratch directory of the calling test file (made before, removed after it). */
export const workDir = (): string => work;
const children: ChildProcess[] = [];
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'bs-twins-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

export { freePort } from './helpers';

/** A Python peer: the script runs with PORT set; its stdout is returned. Bounded by `timeout`. */
export function python(script: string, port: number, timeout = 10_000): { done: Promise<string>; child: ChildProcess } {
  const child = spawn('python3', ['-c', script], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const done = once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    if (code !== 0) throw new Error(`python peer failed (${code}): ${err}`);
    return out;
  });
  return { done, child };
}

/** Python: connect to PORT, retrying while the server is not listening yet (a refused SYN leaves no trace in the server). */
export const CONNECT = `
import os, socket, time
def connect():
    deadline = time.time() + 8
    while True:
        try:
            return socket.create_connection(('127.0.0.1', int(os.environ['PORT'])))
        except ConnectionRefusedError:
            if time.time() > deadline: raise
            time.sleep(0.05)
`;

/** What a driver gets: `seen(text)` resolves once strace has shown `text` in some process of the run
 * (bounded: 8 s); `stdin` is the program's standard input when asked for. */
export interface Ctl {
  seen(text: string): Promise<void>;
  stdin: NodeJS.WritableStream | null;
}

export interface Run {
  /** strace's per-process files. */
  dir: string;
  /** The process tree as normalized lines, a header per process. */
  tree: string[];
  /** The program's standard output, and its standard error (where BSOCK_TRACE=1 prints). */
  stdout: string;
  stderr: string;
}

export interface TraceOptions {
  /** SIGTERM to the program (not to strace) once `drive` is done. */
  stop?: boolean;
  env?: Record<string, string>;
  /** Give the program a pipe as standard input (ctl.stdin); otherwise /dev/null. */
  stdin?: boolean;
}

/**
 * Runs `cmd args` under strace -ff (a file per process and thread) with `-e trace=CLASSES`, lets `drive`
 * talk to it, then stops it if asked, and waits (bounded) for every traced process to end.
 */
export async function traced(
  cmd: string, args: string[], drive: (ctl: Ctl) => Promise<unknown>, options: TraceOptions = {},
  classes = 'network,process',
): Promise<Run> {
  const dir = mkdtempSync(path.join(work, 'run-'));
  // Output to files, not pipes: Node asks what a pipe is (getsockname, SO_TYPE on fds 1 and 2: a Node
  // parent's pipes are UNIX sockets), which is the runtime's business, not the program's.
  const outFile = `${dir}.out`;
  const errFile = `${dir}.err`;
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const st = spawn('strace', ['-f', '-ff', '-o', path.join(dir, 't'), '-e', `trace=${classes}`, cmd, ...args], {
    stdio: [options.stdin ? 'pipe' : 'ignore', out, err],
    env: { ...process.env, ...options.env },
  });
  closeSync(out);
  closeSync(err);
  children.push(st);
  const exited = once(st, 'exit');
  try {
    await drive({
      async seen(text) {
        for (const deadline = Date.now() + 8000; Date.now() < deadline; await sleep(20)) {
          if (readdirSync(dir).some((f) => readFileSync(path.join(dir, f), 'utf8').includes(text))) return;
        }
        throw new Error(`strace never showed ${text}`);
      },
      stdin: st.stdin,
    });
    if (options.stop) {
      await sleep(100); // the server back in accept (or pause)
      process.kill(findRoot(dir), 'SIGTERM');
    }
    await Promise.race([exited, sleep(10_000).then(() => { throw new Error(`${cmd} did not end`); })]);
  } finally {
    if (st.exitCode === null) st.kill('SIGKILL');
  }
  return { dir, tree: processTree(dir), stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
}

/** The pid of the traced program: the one file that starts with its execve. */
export function findRoot(dir: string): number {
  for (const f of readdirSync(dir)) {
    if (readFileSync(path.join(dir, f), 'utf8').startsWith('execve(')) return Number(f.split('.')[1]);
  }
  throw new Error('no traced program yet');
}

const CLONE = /^clone3?\((.*)\) = (\d+)$/;

/** Reads strace's per-pid files into the program's processes (threads dropped), normalized, in fork order. */
export function processTree(dir: string): string[] {
  const files = new Map<number, string[]>();
  for (const f of readdirSync(dir)) {
    files.set(Number(f.split('.')[1]), readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)
      .map((l) => l.replace(/\s+= /, ' = ')));
  }
  const rootPid = findRoot(dir);
  const order: number[] = [rootPid];
  const names = new Map<number, string>([[rootPid, 'process 0']]);
  const out: string[] = [];
  const n = new Normalizer();
  for (let i = 0; i < order.length; i++) {
    const pid = order[i];
    out.push(`${names.get(pid)}:`);
    for (const line of files.get(pid) ?? []) {
      const clone = CLONE.exec(line);
      if (clone) {
        if (clone[1].includes('CLONE_THREAD')) continue; // one of Node's threads
        const child = Number(clone[2]);
        names.set(child, `process ${names.size}`);
        order.push(child);
        out.push(`  fork() = ${names.get(child)}`);
        continue;
      }
      const l = n.line(line, pid);
      if (l !== undefined) out.push(`  ${l}`);
    }
  }
  return out;
}

/** Numbers descriptors, ports and pointers in order of appearance, and drops what may differ (top of file). */
class Normalizer {
  private fds = new Map<string, string>();
  private ports = new Map<string, string>();

  line(raw: string, pid: number): string | undefined {
    let l = raw;
    if (l.startsWith('execve(') || l.startsWith('--- ') || / = \? ERESTART| = -1 EINTR /.test(l)) return undefined;
    const reraise = /^tgkill\((\d+), (\d+), (SIG\w+)\) = 0$/.exec(l);
    if (reraise && Number(reraise[1]) === pid && Number(reraise[2]) === pid) return undefined;
    l = l.replace(/^accept4\((.*), SOCK_CLOEXEC\)/, 'accept($1)');
    l = l.replace(/\|SOCK_CLOEXEC/g, '');
    l = l.replace(/\|MSG_NOSIGNAL|MSG_NOSIGNAL\|/g, '').replace(/\bMSG_NOSIGNAL\b/g, '0');
    l = l.replace(/0x[0-9a-f]+/g, '0x…');
    l = l.replace(/htons\((\d+)\)/g, (_, p: string) => (p === '0' ? 'htons(0)' : `htons(${this.map(this.ports, p, 'PORT')})`));
    // The descriptor a network call acts on, and the one socket/accept return.
    l = l.replace(/^(\w+)\((\d+)/, (m, call: string, fd: string) => (call === 'exit_group' ? m : `${call}(${this.map(this.fds, fd, 'fd')}`));
    l = l.replace(/^((?:socket|accept)\(.*) = (\d+)$/, (_, head: string, fd: string) => `${head} = ${this.map(this.fds, fd, 'fd')}`);
    return l;
  }

  private map(m: Map<string, string>, key: string, prefix: string): string {
    if (!m.has(key)) m.set(key, `${prefix}${m.size + 1}`);
    return m.get(key)!;
  }
}

