import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// At least two test files at a time, even on two cores (vitest's default there is one): many tests
// wait on timers, peers and child processes, and the suite takes a third less (217 s -> ~150 s here).
const workers = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file runs in its own child process: descriptor counts in /proc/self/fd are per file.
    pool: 'forks',
    minWorkers: 1,
    maxWorkers: workers,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
