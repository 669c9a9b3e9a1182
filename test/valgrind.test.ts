// The native code under valgrind memcheck: a focused run of the sync API (sockets, addresses, I/O,
// options, the resolver, descriptor passing, select/poll) with no invalid access and nothing
// definitely lost. Needs valgrind: required in CI, skipped with a reason elsewhere.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';

describe.runIf(canRun('memcheck needs valgrind', hasCommand('valgrind')))('valgrind memcheck', () => {
  it('finds no invalid read or write and no definitely-lost block over 100 rounds of the sync API', async () => {
    const workload = path.join(__dirname, 'fixtures', 'sync-workload.cjs');
    const child = spawn('valgrind', ['--error-exitcode=9', '--errors-for-leak-kinds=definite', '--leak-check=full',
      '--show-leak-kinds=definite', process.execPath, workload], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    const [code] = (await new Promise((resolve) => child.on('exit', (...a) => resolve(a)))) as [number | null];
    clearTimeout(killer);
    expect(out).toContain('ok'); // the workload ran to its end
    expect(out).toMatch(/ERROR SUMMARY: 0 errors/);
    expect(out).not.toMatch(/Invalid (read|write)/);
    expect(code, out.slice(-3000)).toBe(0);
  }, 180_000);
});
