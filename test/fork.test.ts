// fork(), _exit(), getpid(), getppid(), waitpid() and the async waitpid, against the real kernel.
//
// fork() needs a process started with `node --single-threaded`, which vitest's workers are not: every
// test that forks writes a small script, runs it in its own `node --single-threaded` process (in a
// process group of its own) and checks what it printed. Each run is bounded in time: a hang is a
// failure with the script's output, and the whole group — forked children included — is killed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fork, getpid, getppid, waitpid } from '../src/index';
import { waitpid as waitpidAsync } from '../src/promises';
import { reverseOrderClients, underAsan } from './helpers';

const root = path.join(__dirname, '..');
const dist = (file: string) => path.join(root, 'dist', file);
const runFile = promisify(execFile);
let dir: string;
let scripts = 0;

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); running vitest alone needs `npm run build:ts`.
  if (!existsSync(dist('fork.js'))) throw new Error('dist/fork.js missing: run `npm run build:ts` (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'bs-fork-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const groups = new Set<number>();
/** SIGKILL to a script's whole process group: the script and any child it forked. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group
  }
}
afterEach(() => {
  for (const g of groups) killGroup(g);
  groups.clear();
});

interface Run {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last stdout line, parsed as JSON (the scripts' report). */
  report: any;
}

/** Writes `body` (with `bs`, `bsp` = the library's root and promises modules) to a script file. */
function script(body: string): string {
  const file = path.join(dir, `script-${++scripts}.js`);
  writeFileSync(file, `'use strict';
const bs = require(${JSON.stringify(dist('index.js'))});
const bsp = require(${JSON.stringify(dist('promises.js'))});
const report = (value) => console.log(JSON.stringify(value));
${body}
`);
  return file;
}

interface Started {
  child: ChildProcess;
  /** Resolves with the outcome; rejects if the script outlives `timeout` (then its group is killed). */
  done: Promise<Run>;
  /** Resolves with the first stdout line matching `pattern`'s capture group. */
  line(pattern: RegExp): Promise<string>;
}

/** Starts a script in `node --single-threaded` (or with `flags`), in a process group of its own. */
function start(body: string, { args = [] as string[], flags = ['--single-threaded'], timeout = 20_000, command = process.execPath } = {}): Started {
  const file = script(body);
  const child = spawn(command, [...flags, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.add(child.pid!);
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child.pid!);
      reject(new Error(`the script did not finish within ${timeout} ms (a hang); stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeout);
    void closed.then(([code, signal]) => {
      clearTimeout(timer);
      killGroup(child.pid!); // a forked child it left behind
      const last = stdout.trim().split('\n').pop() ?? '';
      let report: unknown;
      try {
        report = JSON.parse(last);
      } catch {
        report = undefined;
      }
      resolve({ pid: child.pid!, code, signal, stdout, stderr, report });
    });
  });
  const line = (pattern: RegExp) => new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(stdout);
      if (m) resolve(m[1]);
    };
    watchers.push(check);
    check();
    void done.then(() => reject(new Error(`the script ended without printing ${pattern}:\n${stdout}\n${stderr}`)), reject);
  });
  return { child, done, line };
}

/** Runs a script to its end and checks it exited with 0. */
async function run(body: string, options?: Parameters<typeof start>[1]): Promise<Run> {
  const r = await start(body, options).done;
  if (r.code !== 0) throw new Error(`the script exited with ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('fork() refuses when it cannot be safe', () => {
  it('throws ERR_FORK_NOT_SINGLE_THREADED in a process not started with --single-threaded', () => {
    // This vitest worker is such a process: the check comes before anything reaches the kernel.
    expect(process.execArgv).not.toContain('--single-threaded');
    let err: (Error & { code?: string }) | undefined;
    try {
      fork();
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('ERR_FORK_NOT_SINGLE_THREADED');
    expect(err?.message).toContain('--single-threaded');
    expect(err?.message).toContain('npx berkeley-sockets-run');
  });

  it('throws ERR_FORK_IN_WORKER inside a Worker', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const bs = require(${JSON.stringify(dist('index.js'))});
      try { bs.fork(); parentPort.postMessage({ forked: true }); }
      catch (e) { parentPort.postMessage({ code: e.code, message: e.message }); }`;
    const w = new Worker(code, { eval: true });
    const [msg] = (await once(w, 'message')) as [{ code: string; message: string }];
    await w.terminate();
    expect(msg.code).toBe('ERR_FORK_IN_WORKER');
    expect(msg.message).toContain('main thread');
  });

  it('throws ERR_FORK_WORKERS_RUNNING while a Worker runs, and forks once it has ended', async () => {
    const { report } = await run(`
      const { Worker } = require('node:worker_threads');
      (async () => {
        const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
        await require('node:events').once(w, 'online');
        let code;
        try { bs.fork(); } catch (e) { code = e.code; }
        await w.terminate();
        const pid = bs.fork();
        if (pid === 0) bs._exit(3);
        report({ code, status: (await bsp.waitpid(pid, { timeout: 10000 })).code });
      })();`);
    expect(report).toEqual({ code: 'ERR_FORK_WORKERS_RUNNING', status: 3 });
  });

  it('throws ERR_FORK_REQUESTS_IN_FLIGHT while fs work is pending, and forks once it is done', async () => {
    const { report } = await run(`
      (async () => {
        const reading = require('node:fs').promises.readFile(__filename);
        // Node 26 no longer lists fs requests among its active resources: the message names them when it can.
        const listed = process.getActiveResourcesInfo().some((r) => /^FSReq/.test(r));
        let err;
        try { bs.fork(); } catch (e) { err = e; }
        await reading;
        const pid = bs.fork();
        if (pid === 0) bs._exit(4);
        report({ code: err.code, message: err.message, listed, status: (await bsp.waitpid(pid, { timeout: 10000 })).code });
      })();`);
    expect(report.code).toBe('ERR_FORK_REQUESTS_IN_FLIGHT');
    expect(report.message).toMatch(/^fork\(\) with 1 request\(s\) in flight/);
    if (report.listed) expect(report.message).toMatch(/FSReq/);
    expect(report.status).toBe(4);
  });

  it('berkeley-sockets-run starts a script with --single-threaded, in the same process (exec)', async () => {
    const s = start(`
      const pid = bs.fork();
      if (pid === 0) bs._exit(5);
      report({ execArgv: process.execArgv, pid: bs.getpid(), status: bs.waitpid(pid).code });`,
    { command: path.join(root, 'bin', 'berkeley-sockets-run'), flags: [] });
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.report).toEqual({ execArgv: ['--single-threaded'], pid: s.child.pid, status: 5 });
  });
});

describe('fork() and the child', () => {
  it('returns the child pid in the parent and 0 in the child; getpid, getppid and process.pid agree', async () => {
    const { report, pid: parentPid } = await run(`
      const parent = bs.getpid();
      const [a, b] = bs.socketpair(bs.AF_UNIX, bs.SOCK_STREAM, 0);
      const pid = bs.fork();
      if (pid === 0) {
        bs.writeAll(a, JSON.stringify({ ret: pid, getpid: bs.getpid(), getppid: bs.getppid(), pid: process.pid, ppid: process.ppid }));
        bs._exit(0);
      }
      bs.close(a);
      const buf = Buffer.alloc(1000);
      const child = JSON.parse(buf.toString('utf8', 0, bs.readExactly(b, buf)));
      report({ parent, ret: pid, status: bs.waitpid(pid), child, pidNow: process.pid });`);
    expect(report.parent).toBe(parentPid);
    expect(report.pidNow).toBe(parentPid);
    expect(report.ret).toBeGreaterThan(0);
    expect(report.child).toEqual({ ret: 0, getpid: report.ret, getppid: parentPid, pid: report.ret, ppid: parentPid });
    expect(report.status).toMatchObject({ pid: report.ret, exited: true, code: 0, signaled: false, signal: null });
  });

  it('a child that lets its event loop drain exits normally, after beforeExit and exit, with process.exitCode', async () => {
    const { stdout, report } = await run(`
      const pid = bs.fork();
      if (pid === 0) {
        let rounds = 0;
        process.on('beforeExit', (code) => {
          console.log('child beforeExit ' + code);
          if (rounds++ < 2) setTimeout(() => console.log('child timer after beforeExit'), 5); // more work
        });
        process.on('exit', (code) => console.log('child exit ' + code));
        setTimeout(() => { process.exitCode = 7; }, 10);
      } else {
        bsp.waitpid(pid, { timeout: 10000 }).then((st) => report(st));
      }`);
    expect(stdout.match(/child timer after beforeExit/g)).toHaveLength(2);
    expect(stdout.match(/child beforeExit 7/g)).toHaveLength(3);
    expect(stdout).toContain('child exit 7');
    expect(report).toMatchObject({ exited: true, code: 7 });
  });

  it('process.exit(), _exit() and an uncaught exception end the child with the status Node would give', async () => {
    const { stdout, stderr, report } = await run(`
      const children = {
        exit: () => { process.on('exit', (c) => console.log('exit listener ran ' + c)); process.exit(11); },
        _exit: () => { process.on('exit', () => console.log('NOT PRINTED: _exit runs no listener')); bs._exit(12); },
        throws: () => setTimeout(() => { throw new Error('boom in the child'); }, 1),
        rejects: () => { Promise.reject(new Error('rejected in the child')); },
        exitInExit: () => { process.on('exit', () => process.exit(13)); },
      };
      (async () => {
        const out = {};
        for (const [name, body] of Object.entries(children)) {
          const pid = bs.fork();
          if (pid === 0) { body(); return; }
          const st = await bsp.waitpid(pid, { timeout: 10000 });
          out[name] = st.code;
        }
        report(out);
      })();`);
    expect(report).toEqual({ exit: 11, _exit: 12, throws: 1, rejects: 1, exitInExit: 13 });
    expect(stdout).toContain('exit listener ran 11');
    expect(stdout).not.toContain('NOT PRINTED');
    expect(stderr).toContain('Error: boom in the child');
    expect(stderr).toContain('Error: rejected in the child');
  });

  it("a child uses timers, fs.promises and this library's promises API", async () => {
    const { report } = await run(`
      const fs = require('node:fs');
      const srv = bs.socket(bs.AF_INET, bs.SOCK_STREAM, 0);
      bs.bind(srv, { family: bs.AF_INET, address: '127.0.0.1', port: 0 });
      bs.listen(srv, 4);
      const port = bs.getsockname(srv).port;
      const [mine, theirs] = bs.socketpair(bs.AF_UNIX, bs.SOCK_STREAM, 0);
      const pid = bs.fork();
      if (pid === 0) {
        bs.close(srv);
        bs.close(mine);
        (async () => {
          const t0 = Date.now();
          await new Promise((r) => setTimeout(r, 30));
          await new Promise((r) => setImmediate(r));
          const waited = Date.now() - t0;
          const text = await fs.promises.readFile(__filename, 'utf8');
          const s = bs.socket(bs.AF_INET, bs.SOCK_STREAM, 0);
          await bsp.connect(s, { family: bs.AF_INET, address: '127.0.0.1', port }, { timeout: 5000 });
          await bsp.writeAll(s, 'hello from the child');
          const buf = Buffer.alloc(64);
          const n = await bsp.read(s, buf, 64, { timeout: 5000 });
          bs.close(s);
          await bsp.writeAll(theirs, JSON.stringify({ waited, read: text.includes('hello from the child'), answer: buf.toString('utf8', 0, n) }));
          bs.close(theirs);
          process.exitCode = 42;
        })();
      } else {
        bs.close(theirs);
        (async () => {
          const { fd: conn } = await bsp.accept(srv, { timeout: 10000 });
          const buf = Buffer.alloc(64);
          const n = await bsp.read(conn, buf, 64, { timeout: 10000 });
          await bsp.writeAll(conn, 'the parent got: ' + buf.toString('utf8', 0, n));
          bs.close(conn);
          const chunks = [];
          for await (const c of bsp.chunks(mine, 4096, { timeout: 10000 })) chunks.push(c);
          bs.close(mine);
          bs.close(srv);
          const st = await bsp.waitpid(pid, { timeout: 10000 });
          report({ child: JSON.parse(Buffer.concat(chunks).toString()), code: st.code });
        })();
      }`);
    expect(report.code).toBe(42);
    expect(report.child.waited).toBeGreaterThanOrEqual(25);
    expect(report.child.read).toBe(true);
    expect(report.child.answer).toBe('the parent got: hello from the child');
  });

  it("a child uses Node's net, dns and child_process; Math.random continues the parent's sequence", async () => {
    const { report } = await run(`
      const net = require('node:net');
      const [mine, theirs] = bs.socketpair(bs.AF_UNIX, bs.SOCK_STREAM, 0);
      const pid = bs.fork();
      if (pid === 0) {
        bs.close(mine);
        (async () => {
          const random = Math.random();
          const viaNet = await new Promise((resolve, reject) => {
            const srv = net.createServer((c) => c.end('served by net in the child'));
            srv.listen(0, '127.0.0.1', () => {
              const c = net.connect(srv.address().port, '127.0.0.1');
              let got = '';
              c.on('data', (d) => (got += d)).on('end', () => { srv.close(); resolve(got); }).on('error', reject);
            });
          });
          const { address } = await require('node:dns').promises.lookup('localhost', { family: 4 });
          const spawned = await new Promise((resolve, reject) => require('node:child_process')
            .execFile(process.execPath, ['-e', 'console.log(6 * 7)'], (e, out) => (e ? reject(e) : resolve(out.trim()))));
          bs.writeAll(theirs, JSON.stringify({ random, viaNet, address, spawned }));
          bs.close(theirs);
        })();
        return;
      }
      bs.close(theirs);
      const random = Math.random();
      (async () => {
        const chunks = [];
        for await (const c of bsp.chunks(mine, 4096, { timeout: 15000 })) chunks.push(c);
        bs.close(mine);
        const st = await bsp.waitpid(pid, { timeout: 15000 });
        report({ child: JSON.parse(Buffer.concat(chunks).toString()), random, code: st.code });
      })();`);
    expect(report.code).toBe(0);
    expect(report.child).toMatchObject({ viaNet: 'served by net in the child', address: '127.0.0.1', spawned: '42' });
    expect(report.child.random).toBe(report.random);
  });

  it('a child forks in turn: four generations, each allocating, each reaping its own child', async () => {
    const { stdout, report } = await run(`
      (async () => {
        for (let depth = 0; depth < 4; depth++) {
          const pid = bs.fork();
          if (pid === 0) { // the child goes one level deeper
            const a = [];
            for (let i = 0; i < 100000; i++) a.push({ depth, i });
            gc();
            continue;
          }
          const st = await bsp.waitpid(pid, { timeout: 15000 });
          console.log('generation ' + depth + ' reaped ' + pid + ' with ' + st.code);
          if (depth > 0) { process.exitCode = st.code + 1; return; }
          report({ code: st.code });
          return;
        }
        process.exitCode = 1; // the youngest
      })();`, { flags: ['--single-threaded', '--expose-gc'] });
    expect(stdout.match(/generation \d reaped/g)).toHaveLength(4);
    expect(report).toEqual({ code: 4 });
  });

  it('waitpid: null with WNOHANG while the child runs, the signal that killed it, then ECHILD', async () => {
    const { report } = await run(`
      const pid = bs.fork();
      if (pid === 0) { setTimeout(() => {}, 60000); return; }
      (async () => {
        const running = bs.waitpid(pid, bs.WNOHANG);
        let timedOut;
        try { await bsp.waitpid(pid, { timeout: 50 }); } catch (e) { timedOut = e.code + ' ' + e.syscall; }
        process.kill(pid, 'SIGTERM');
        const st = await bsp.waitpid(pid, { timeout: 10000 });
        let again;
        try { bs.waitpid(pid); } catch (e) { again = e.code; }
        report({ running, timedOut, st, again });
      })();`);
    expect(report.running).toBeNull();
    expect(report.timedOut).toBe('ETIMEDOUT waitpid');
    expect(report.st).toMatchObject({ exited: false, code: null, signaled: true, signal: osConstants.signals.SIGTERM, signalName: 'SIGTERM' });
    expect(report.again).toBe('ECHILD');
  });

  it('getpid, getppid and waitpid work in any process; waitpid(-1, WNOHANG) without children is ECHILD', async () => {
    expect(getpid()).toBe(process.pid);
    expect(getppid()).toBe(process.ppid);
    expect(() => waitpid(-1, 1)).toThrow(expect.objectContaining({ code: 'ECHILD', syscall: 'waitpid' }));
    await expect(waitpidAsync(0x7ffffff0)).rejects.toMatchObject({ code: 'ECHILD' });
    expect(() => waitpid(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('descriptors after fork(): the kernel counts references', () => {
  const server = `
    const srv = bs.socket(bs.AF_INET, bs.SOCK_STREAM, 0);
    bs.bind(srv, { family: bs.AF_INET, address: '127.0.0.1', port: 0 });
    bs.listen(srv, 4);
    const port = bs.getsockname(srv).port;
    const connectPair = () => {
      const cli = bs.socket(bs.AF_INET, bs.SOCK_STREAM, 0);
      bs.connect(cli, { family: bs.AF_INET, address: '127.0.0.1', port });
      return { cli, conn: bs.accept(srv).fd };
    };
    const buf = Buffer.alloc(256);`;

  it("the parent's close(conn) does not end the child's connection", async () => {
    const { report } = await run(`${server}
      const { cli, conn } = connectPair();
      const pid = bs.fork();
      if (pid === 0) {
        bs.close(srv);
        bs.close(cli);
        setTimeout(() => { bs.writeAll(conn, 'still served by the child'); bs.close(conn); }, 100);
      } else {
        bs.close(conn); // before the child has written anything
        const n = bs.read(cli, buf);
        const eof = bs.read(cli, buf);
        report({ got: buf.toString('utf8', 0, n), eof, code: bs.waitpid(pid).code });
      }`);
    expect(report).toEqual({ got: 'still served by the child', eof: 0, code: 0 });
  });

  it("the child's close(listening) does not stop the parent accepting", async () => {
    const { report } = await run(`${server}
      const pid = bs.fork();
      if (pid === 0) { bs.close(srv); bs._exit(srv.closed ? 0 : 1); }
      const st = bs.waitpid(pid);
      const { cli, conn } = connectPair(); // accept() on the parent's copy
      bs.writeAll(cli, 'after the child closed its copy');
      const n = bs.read(conn, buf);
      report({ childCode: st.code, accepting: bs.getsockopt(srv, bs.SOL_SOCKET, bs.SO_ACCEPTCONN), got: buf.toString('utf8', 0, n) });`);
    expect(report).toEqual({ childCode: 0, accepting: 1, got: 'after the child closed its copy' });
  });

  it("closing a handle in the child does not mark the parent's closed", async () => {
    const { report } = await run(`
      const h = bs.socket(bs.AF_INET, bs.SOCK_DGRAM, 0);
      const number = h.fd;
      const pid = bs.fork();
      if (pid === 0) {
        h.close();
        let childSees;
        try { bs.fcntl(number, bs.F_GETFD); } catch (e) { childSees = e.code; }
        bs._exit(h.closed && childSees === 'EBADF' ? 0 : 1);
      }
      const st = bs.waitpid(pid);
      bs.bind(h, { family: bs.AF_INET, address: '127.0.0.1', port: 0 });
      report({ childCode: st.code, closed: h.closed, fd: h.fd === number, bound: bs.getsockname(h).port > 0 });`);
    expect(report).toEqual({ childCode: 0, closed: false, fd: true, bound: true });
  });

  it('a connection is released only when both processes have closed it', async () => {
    const { report } = await run(`${server}
      const { cli, conn } = connectPair();
      const pid = bs.fork();
      if (pid === 0) { bs.close(srv); bs.close(cli); bs.close(conn); return; } // closes its copies, exits
      const st = bs.waitpid(pid);
      const eof = (ms) => (bs.poll([{ fd: cli, events: bs.POLLIN }], ms) === 1 ? bs.read(cli, buf) : 'nothing yet');
      const whileParentHolds = eof(200);
      bs.close(conn);
      report({ childCode: st.code, whileParentHolds, afterBoth: eof(5000) });`);
    expect(report).toEqual({ childCode: 0, whileParentHolds: 'nothing yet', afterBoth: 0 });
  });

  it('close-on-exec does not matter to fork: the child uses a SOCK_CLOEXEC descriptor', async () => {
    const { report } = await run(`
      const [a, b] = bs.socketpair(bs.AF_UNIX, bs.SOCK_STREAM, 0);
      const pid = bs.fork();
      if (pid === 0) { bs.writeAll(a, 'close-on-exec: ' + bs.getCloseOnExec(a)); bs._exit(0); }
      bs.close(a);
      const buf = Buffer.alloc(64);
      const n = bs.read(b, buf);
      report({ got: buf.toString('utf8', 0, n), code: bs.waitpid(pid).code });`);
    expect(report).toEqual({ got: 'close-on-exec: true', code: 0 });
  });
});

/** A client not written with this library: sends `data`, shuts down its side, resolves with the echo. */
function netEcho(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(30_000, () => s.destroy(new Error('echo client timed out')));
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.end(data);
  });
}

describe('the concurrent server: a process per client', () => {
  it('serves 100 clients, 10 at a time, each from its own child; every byte echoed, fds back to baseline, no zombie', async () => {
    const N = 100;
    const server = start(`
      const fs = require('node:fs');
      const fds = () => fs.readdirSync('/proc/self/fd').map(Number).sort((a, b) => a - b);
      const srv = bs.socket(bs.AF_INET, bs.SOCK_STREAM, 0);
      bs.bind(srv, { family: bs.AF_INET, address: '127.0.0.1', port: 0 });
      bs.listen(srv, 128);
      console.log('listening on port ' + bs.getsockname(srv).port);
      const baseline = fds(); // after the first console.log: libuv opens /dev/null then (its EMFILE reserve)
      (async () => {
        const pids = [];
        const statuses = [];
        for (let i = 0; i < ${N}; i++) {
          const { fd: conn } = await bsp.accept(srv, { timeout: 30000 });
          const pid = bs.fork();
          if (pid === 0) {
            bs.close(srv);
            const buf = Buffer.alloc(16384);
            let n;
            while ((n = bs.read(conn, buf)) > 0) bs.writeAll(conn, buf.subarray(0, n));
            bs.close(conn);
            return; // the child's loop drains: it exits normally
          }
          bs.close(conn);
          pids.push(pid);
          statuses.push(bsp.waitpid(pid, { timeout: 30000 }));
        }
        const codes = (await Promise.all(statuses)).map((st) => st.code);
        const final = fds();
        let zombies = 'some';
        try { bs.waitpid(-1, bs.WNOHANG); } catch (e) { if (e.code === 'ECHILD') zombies = 'none'; }
        bs.close(srv);
        report({ pids, codes, baseline, final, zombies });
      })();`, { timeout: 120_000 });
    const port = Number(await server.line(/listening on port (\d+)/));

    const sent: Buffer[] = [];
    const echoed: Buffer[] = [];
    for (let wave = 0; wave < N / 10; wave++) {
      const batch = Array.from({ length: 10 }, (_, i) => {
        const k = wave * 10 + i;
        const data = Buffer.alloc(8192 + 997 * k);
        for (let j = 0; j < data.length; j++) data[j] = (j * 31 + k) & 0xff;
        sent[k] = data;
        return netEcho(port, data).then((b) => (echoed[k] = b));
      });
      await Promise.all(batch);
    }
    const r = await server.done;
    expect(r.code, r.stderr).toBe(0);
    for (let k = 0; k < N; k++) expect(echoed[k].equals(sent[k]), `client ${k}`).toBe(true);
    expect(new Set(r.report.pids).size).toBe(N);
    expect(r.report.pids).not.toContain(r.pid);
    expect(r.report.codes).toEqual(Array(N).fill(0));
    expect(r.report.final).toEqual(r.report.baseline);
    expect(r.report.zombies).toBe('none');
  }, 150_000);

  // 50 under AddressSanitizer (npm run test:asan), where each fork copies ASan's shadow memory too: the
  // same paths at a quarter of the count keep the CI run short; npm test forks 200.
  const HEAVY = underAsan ? 50 : 200;
  it(`survives ${HEAVY} forks while parent and children allocate heavily; waitpid reports each distinct exit code`, async () => {
    const N = HEAVY;
    const r = await start(`
      (async () => {
        const t0 = Date.now();
        let keep = [];
        const codes = [];
        const paths = ['drain', 'exit', '_exit'];
        for (let k = 0; k < ${N}; k++) {
          // The parent: keeps some, drops the rest (scavenges), a full GC now and then.
          for (let i = 0; i < 10000; i++) keep.push({ k, i, s: 'parent ' + i });
          if (keep.length > 100000) keep = [];
          if (k % 25 === 0) gc();
          const pid = bs.fork();
          if (pid === 0) {
            // The child: young and old objects, a minor GC, a full GC every other child, 2 MiB of Buffers.
            const mine = [];
            for (let i = 0; i < 20000; i++) mine.push({ i, s: 'child ' + i, a: [i, k] });
            gc({ type: 'minor' });
            if (k % 2 === 0) gc();
            for (let i = 0; i < 2; i++) mine.push(Buffer.alloc(1 << 20, k));
            const how = paths[k % 3];
            if (how === 'exit') process.exit(k);
            if (how === '_exit') bs._exit(k);
            setTimeout(() => { process.exitCode = k; }, 1); // and the loop drains
            return;
          }
          try {
            codes.push((await bsp.waitpid(pid, { timeout: 20000 })).code);
          } catch (e) {
            process.kill(pid, 'SIGKILL');
            await bsp.waitpid(pid);
            codes.push('child ' + k + ' hung (' + paths[k % 3] + ')');
          }
        }
        report({ codes, ms: Date.now() - t0 });
      })();`, { flags: ['--single-threaded', '--expose-gc'], timeout: 240_000 }).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.codes).toEqual(Array.from({ length: N }, (_, k) => k));
    console.log(`${N} forks with allocation in parent and children: ${r.report.ms} ms`);
  }, 250_000);
});

describe('examples/echo-fork-reap', () => {
  it('serves 4 Python clients at once, each from its own child, then exits', async () => {
    const child = spawn(path.join(root, 'bin', 'berkeley-sockets-run'),
      [dist('examples/echo-fork-reap.js'), '0', '--bind', '127.0.0.1', '--count', '4'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    groups.add(child.pid!);
    const exited = once(child, 'exit');
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    for (let i = 0; i < 400 && !/listening on port \d+/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    const port = /listening on port (\d+)/.exec(out)?.[1];
    expect(port, err).toBeDefined();
    // Four clients at once, answered in reverse order while all stay connected: one server process,
    // busy with client 0 until its end of file, could not answer client 3 first.
    const py = reverseOrderClients(port as string);
    const r = await runFile('python3', ['-c', py], { timeout: 30_000 });
    expect(r.stdout.trim()).toBe('client 3|client 2|client 1|client 0');
    const [code] = await exited;
    expect(code, err).toBe(0);
    const servedBy = [...err.matchAll(/child (\d+) serves 127\.0\.0\.1:\d+/g)].map((m) => Number(m[1]));
    expect(new Set(servedBy).size).toBe(4);
    expect(servedBy).not.toContain(child.pid);
    expect(err.match(/child \d+ exited with 0/g)).toHaveLength(4);
    expect(err).toContain('all clients served');
  });
});
