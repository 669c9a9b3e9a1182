// Junk in, errors out: every export called with generated junk, in a child process, must end with
// no crash, no hang and no descriptor leaked. Deterministic (seeded), bounded in calls and time.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = path.join(__dirname, '..', 'dist');

const fuzzer = `
const b = require(${JSON.stringify(path.join(dist, 'index.js'))});
const p = require(${JSON.stringify(path.join(dist, 'promises.js'))});
const fs = require('node:fs');
let seed = Number(process.argv[1]) || 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (a) => a[Math.floor(rand() * a.length)];
const closed = b.socket(b.AF_INET, b.SOCK_DGRAM, 0); closed.close();
var opened;
// Descriptor-like numbers avoid 1..2 (this child's stdout and stderr, which junk flags would break)
// and the small numbers that are libuv's own; real sockets come from the calls themselves.
const junk = () => rand() < 0.15 && opened.length ? pick(opened) : pick([
  undefined, null, 0, 9999, -1, -(2 ** 31), 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1.5, NaN, Infinity, -Infinity, -0,
  '', '127.0.0.1', '::1', 'x'.repeat(300), '\\0abc', {}, [], [1, 2], () => 1, Symbol('s'), 10n,
  Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(3), Buffer.alloc(16, 0xff), Buffer.alloc(200, 7), new Uint16Array(3),
  new DataView(new ArrayBuffer(8)), new Float64Array(2), closed,
  { family: b.AF_INET, port: 0 }, { family: b.AF_INET, address: '::1', port: 80 }, { family: b.AF_INET6, address: '127.0.0.1', port: -1 },
  { family: b.AF_UNIX, path: 'y'.repeat(200) }, { family: 99, port: 1 }, { sin_family: b.AF_INET, sin_port: 70000, sin_addr: {} },
  { fd: 'x', events: 'y' }, [{ fd: 0, events: 1 }], { idle: -1 }, { l_onoff: 1, l_linger: 'z' },
]);
const fns = Object.entries(b).filter(([k, v]) => typeof v === 'function' && !/^[A-Z]/.test(k) && !['trace', 'toNetServer', 'toNetSocket'].includes(k));
const asyncFns = Object.entries(p).filter(([k, v]) => typeof v === 'function' && !['connections', 'chunks', 'datagrams', 'waitpid'].includes(k));
opened = [];
const before = fs.readdirSync('/proc/self/fd').length;
let calls = 0, threw = 0;
const N = Number(process.argv[2]) || 20000;
(async () => {
  for (let i = 0; i < N; i++) {
    const [name, f] = pick(rand() < 0.85 ? fns : asyncFns);
    // Left out: calls that block by design on a descriptor with nothing to read (junk numbers such as 3
    // name this process's own pipes and eventfds), and ones that exit or close numbers it does not own.
    const blocking = /^(read|recv|recvfrom|readExactly|accept|recvmsg|recvFds|select|poll|epoll_wait)$/;
    if (/^(close|fork|_exit|kill)$/.test(name) || (f.length !== undefined && fns.some(([n]) => n === name) && blocking.test(name))) continue;
    const args = Array.from({ length: Math.floor(rand() * 6) }, junk);
    calls++;
    try {
      const r = f(...args);
      if (r instanceof Promise) {
        // A junk call could wait forever on a real socket: give it a moment, then move on.
        await Promise.race([r.catch(() => threw++), new Promise((res) => setTimeout(res, 1))]);
      } else if (r instanceof b.SocketHandle) opened.push(r);
      else if (Array.isArray(r)) for (const h of r) if (h instanceof b.SocketHandle) opened.push(h);
      else if (r && r.fd instanceof b.SocketHandle) opened.push(r.fd);
    } catch (e) {
      threw++;
      if (!(e instanceof Error)) throw new Error('non-Error thrown by ' + name);
      if (!(e instanceof b.SystemError) && !(e instanceof TypeError) && !(e instanceof RangeError) && !e.code) {
        throw new Error(name + ' threw an error with no code: ' + e.message);
      }
    }
  }
  // fromFd(0) adopts stdin: give it back rather than close it.
  for (const h of opened) if (h.fd === 0) h.release(); else h.close();
  const after = fs.readdirSync('/proc/self/fd').length;
  process.stdout.write(JSON.stringify({ calls, threw, leaked: after - before }));
  process.exit(0);
})();
`;

describe('fuzz: every export with junk arguments', () => {
  it.each([1, 2, 3])('seed %i: no crash, no hang, no leaked descriptor', async (seed) => {
    // Asynchronously: a spawnSync would block this test worker for the whole run.
    const child = spawn(process.execPath, ['-e', fuzzer, String(seed), '15000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [status, signal] = (await new Promise((resolve) => child.on('exit', (...a) => resolve(a)))) as [number | null, string | null];
    clearTimeout(killer);
    const r = { status, signal, stderr, stdout: /\{"calls".*\}/.exec(stdout)?.[0] ?? '' };
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.calls).toBeGreaterThan(10_000);
    expect(out.threw).toBeGreaterThan(out.calls / 2); // junk is mostly refused
    expect(out.leaked).toBe(0);
  }, 90_000);
});
