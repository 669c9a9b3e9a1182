// A leak check: 1,000,000 sync calls and 100,000 async operations keep RSS, the JS heap and
// the descriptor count flat. In a child process (fixtures/leak.cjs, on the built dist/), so that RSS is
// its own and not vitest's, with --expose-gc to measure after full collections.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonReport } from './helpers';

const fixture = path.join(__dirname, 'fixtures', 'leak.cjs');
const MiB = 1024 * 1024;

interface Memory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
interface Report {
  crashed?: string;
  calls: number;
  ops: number;
  warmupMs: number;
  syncMs: number;
  asyncMs: number;
  before: Memory;
  afterSync: Memory;
  after: Memory;
  fdsBefore: string;
  fdsAfter: string;
}

function runChild(): Promise<Report> {
  // The young generation is pinned at 4 MiB per semi-space: V8 otherwise grows it (to 8 MiB here) in
  // the promise-heavy async phase, and keeps those pages, which shows in RSS as +8 MiB that is no leak.
  const args = ['--expose-gc', '--min-semi-space-size=4', '--max-semi-space-size=4', fixture];
  return jsonReport(process.execPath, args, 110_000);
}

describe('leak check', () => {
  it('1,000,000 sync calls and 100,000 async operations leave RSS, heap and descriptors flat', async () => {
    const r = await runChild();
    expect(r.crashed, r.crashed).toBeUndefined();
    const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;
    const summary =
      `sync ${r.syncMs} ms, async ${r.asyncMs} ms (warm-up ${r.warmupMs} ms); growth after both: ` +
      `rss ${mib(r.after.rss - r.before.rss)}, heapUsed ${mib(r.after.heapUsed - r.before.heapUsed)}, ` +
      `external ${mib(r.after.external - r.before.external)}`;
    console.log(`[leak] ${summary}`);
    expect(r.calls).toBeGreaterThanOrEqual(1_000_000);
    expect(r.ops).toBe(100_000);

    // Descriptors: exactly the same numbers open before and after.
    expect(r.fdsAfter).toBe(r.fdsBefore);

    // JS heap after full collections. Measured here (several runs): +0.1 to +0.4 MiB over both phases —
    // compiled code and inline caches, not data. The bound, 1 MiB, is 1 byte per sync call or 10 bytes
    // per async operation; the leak it was written against (a closed socket's watcher kept alive by
    // a reference cycle through the addon: ~350 bytes per descriptor used with the async API) showed
    // +1.9 to +2.2 MiB here.
    expect(r.after.heapUsed - r.before.heapUsed, summary).toBeLessThan(1 * MiB);
    expect(r.after.external - r.before.external, summary).toBeLessThan(1 * MiB);

    // RSS: measured +0.2 to +2.5 MiB (allocator and V8 page noise; the young generation is pinned, see
    // runChild). The bound, 16 MiB, is far above that noise on a busy CI machine, and still below what
    // any native allocation leaked per sync call would cost: malloc's smallest chunk is 32 bytes, so
    // 1,000,000 calls would add 30 MiB or more.
    expect(r.afterSync.rss - r.before.rss, summary).toBeLessThan(16 * MiB);
    expect(r.after.rss - r.before.rss, summary).toBeLessThan(16 * MiB);
  }, 120_000);
});
