// The native code under valgrind memcheck: a focused run of the sync API (sockets, addresses, I/O,
// options, the resolver, descriptor passing, select/poll) with no invalid access and nothing
// definitely lost by the addon. Needs valgrind: required in CI, skipped with a reason elsewhere.
//
// Node itself may lose a few bytes at start-up (Node 24's OpenSSL init loses 24 bytes in
// ossl_load_builtin_compressions), so a lost block counts only when the addon is in its stack.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';

describe.runIf(canRun('memcheck needs valgrind', hasCommand('valgrind')))('valgrind memcheck', () => {
  it('finds no invalid read or write and no definitely-lost block over 100 rounds of the sync API', async () => {
    const workload = path.join(__dirname, 'fixtures', 'sync-workload.cjs');
    const child = spawn('valgrind', ['--error-exitcode=9', '--errors-for-leak-kinds=none', '--leak-check=full',
      '--show-leak-kinds=definite', '--num-callers=40', process.execPath, workload], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    // Each leak record is a paragraph of "==pid== " lines; one with a frame in the addon is ours.
    const records = out.split(/^==\d+== $/m).filter((r) => /definitely lost in loss record/.test(r));
    const ours = records.filter((r) => /berkeley_sockets/.test(r));
    expect(ours, ours.join('\n')).toEqual([]);
    expect(out).toMatch(/LEAK SUMMARY|All heap blocks were freed/); // the leak check ran
  }, 180_000);
});
