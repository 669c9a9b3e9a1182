// The bench suite (bench/run.mjs) as a program that must keep working: --quick runs every workload's
// programs once with small N and checks every byte they exchange. Only that is asserted here —
// whether each program ran and verified its data — never a timing.
import { execFile, spawnSync } from 'node:child_process';
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
  many: ['c', 'net', 'async'],
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
