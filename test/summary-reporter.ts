// Prints one plain closing line, `Tests: N passed, N failed, N skipped`, that any CI log reader can
// parse without knowing vitest's colourful summary.
import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest';

function count(tasks: RunnerTask[], acc = { passed: 0, failed: 0, skipped: 0 }) {
  for (const t of tasks) {
    if (t.type === 'suite') count(t.tasks, acc);
    else if (t.mode === 'skip' || t.mode === 'todo' || t.result?.state === 'skip') acc.skipped++;
    else if (t.result?.state === 'pass') acc.passed++;
    else acc.failed++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const c = count(files);
    // A file that failed to load has no tests to count, but it failed.
    const broken = files.filter((f) => f.result?.state === 'fail' && f.tasks.length === 0).length + errors.length;
    process.stdout.write(`\nTests: ${c.passed} passed, ${c.failed + broken} failed, ${c.skipped} skipped\n`);
  }
}
