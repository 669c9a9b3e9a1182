// The bench suite (bench/run.mjs) as a program that must keep working: --quick runs every workload's
// programs once with small N and checks every byte they exchange. Only that is asserted here —
// whether each program ran and verified its data — never a timing.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Trial {
  verified: boolean;
  error?: string;
  client?: { verified: boolean };
}

// CPython's programs (bench/*/py.py) run where python3 is, as on every machine this project builds on.
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.log('bench --quick: no python3 on PATH, so no CPython rows to check');
const py = hasPython ? ['py'] : [];
const expected: Record<string, string[]> = {
  'tcp-pingpong': ['c', ...py, 'net', 'sync', 'async'],
  'udp-pingpong': ['c', ...py, 'net', 'sync', 'async'],
  'tcp-bulk': ['c', ...py, 'net', 'sync', 'async'],
  accept: ['c', ...py, 'net', 'sync', 'async'],
  many: ['c', 'epoll', 'net', 'async'],
  scale: ['1t', '2t'],
  getsockopt: ['c', ...py, 'sync'],
  alloc: ['sync', 'async'],
};

describe('bench --quick', () => {
  it('runs every workload with every contender, and each verifies its data', async () => {
    const json = path.join(dir, 'quick.json');
    // Needs dist/ (npm test builds it first) and a C compiler (cc), as the addon itself does.
    const { stdout } = await run(process.execPath, [path.join(root, 'bench', 'run.mjs'), '--quick', '--json', json,
      '--build', path.join(dir, 'build')], { cwd: root, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, Record<string, Trial[]>> };
    for (const [workload, contenders] of Object.entries(expected)) {
      expect(Object.keys(report.results[workload] ?? {}), workload).toEqual(contenders);
      for (const c of contenders) {
        const trials = report.results[workload][c];
        expect(trials.length, `${workload}/${c}`).toBeGreaterThan(0);
        for (const t of trials) {
          expect(t.error, `${workload}/${c}`).toBeUndefined();
          expect(t.verified, `${workload}/${c} verified its data`).toBe(true);
        }
      }
    }
    // The table names the machine it ran on.
    expect(stdout).toMatch(/\d+ cores .*Node v\d+/);
  }, 120_000);
});

// run.mjs starts each client as soon as its server prints `PORT n`; a server that prints it before
// listen() loses the race now and then (CI once saw "many/c: connect: Connection refused"). The C
// servers share bench/common.h's tcp_listener, where the order is decided; strace says in which order
// listen() and the PORT line really came. (The Python and Node servers print from their listening
// callbacks, after listen() by construction.)
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0;
describe.skipIf(!hasStrace || !hasCc)('bench C servers', () => {
  if (!hasStrace || !hasCc) console.log('bench C servers: no strace or cc on PATH, so the listen-before-PORT order is not checked');
  it.each(['tcp-pingpong', 'tcp-bulk', 'accept', 'many'])('%s/c announces its port after listen()', async (workload) => {
    const exe = path.join(dir, `${workload}-c`);
    await run('cc', ['-O2', '-o', exe, path.join(root, 'bench', workload, 'c.c')]);
    const log = path.join(dir, `${workload}-c.strace`);
    // The server then waits for a client that never comes: strace's -o file holds both calls once PORT
    // is out, so the whole process group (strace and its tracee) is killed as soon as the line is read.
    const child = spawn('strace', ['-f', '-qq', '-e', 'trace=listen,write', '-s', '64', '-o', log,
      exe, 'server', '--conns', '1', '--quick'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const closed = new Promise((r) => child.on('close', r));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`${workload}/c: no PORT line in 10 s`)), 10_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/^PORT \d+$/m.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('close', () => {
          clearTimeout(timer);
          reject(new Error(`${workload}/c: exited before PORT`));
        });
      });
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
      await closed;
    }
    const lines = readFileSync(log, 'utf8').split('\n');
    const listened = lines.findIndex((l) => /\blisten\(\d+, \d+\) += 0/.test(l));
    const announced = lines.findIndex((l) => /\bwrite\(1, "PORT /.test(l));
    expect(announced, 'PORT written').toBeGreaterThanOrEqual(0);
    expect(listened, 'listen() called').toBeGreaterThanOrEqual(0);
    expect(listened, 'listen() before the PORT line').toBeLessThan(announced);
  }, 30_000);
});
