// Issue #9, edge 2: writing to a connection whose peer is gone is an EPIPE/ECONNRESET error and never a
// SIGPIPE — even when the program has a SIGPIPE handler. Node ignores SIGPIPE only until someone listens
// for it: process.on('SIGPIPE') installs a real handler, and removing the last listener makes libuv
// restore SIG_DFL, whose action is to kill the process. In child processes (fixtures/sigpipe.cjs, on the
// built dist/), one per mode.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChildReport, runJsonChild } from './helpers';

const fixture = path.join(__dirname, 'fixtures', 'sigpipe.cjs');

interface Report {
  crashed?: string;
  mode: string;
  results: Record<string, { codes: string[]; sigpipes: number }>;
  sigpipes: number;
}

function runChild(mode: 'handler' | 'removed'): Promise<ChildReport<Report>> {
  return runJsonChild<Report>(process.execPath, [fixture, mode], 20_000);
}

const CALLS = ['write', 'writeAll', 'send', 'sendmsg', 'promises.write', 'promises.writeAll', 'promises.send'];

/** Each call failed with the kernel's error for a gone peer, and no SIGPIPE was raised by any. */
function expectNoSigpipe(report: Report): void {
  expect(Object.keys(report.results).sort()).toEqual(CALLS.flatMap((c) => [`${c} (fin)`, `${c} (rst)`]).sort());
  for (const [name, { codes }] of Object.entries(report.results)) {
    // After a reset: ECONNRESET, then EPIPE. After a normal close the first write is still accepted
    // (and answered with a reset), then EPIPE.
    if (name.endsWith('(rst)')) expect(codes, name).toEqual(['ECONNRESET', 'EPIPE', 'EPIPE', 'EPIPE']);
    else expect(codes, name).toEqual(['ok', 'EPIPE', 'EPIPE', 'EPIPE']);
  }
  const raised = Object.entries(report.results).filter(([, r]) => r.sigpipes > 0).map(([name, r]) => `${name}: ${r.sigpipes}`);
  expect(raised, 'calls that raised SIGPIPE').toEqual([]);
  expect(report.sigpipes).toBe(0);
}

describe('EPIPE and ECONNRESET, never SIGPIPE', () => {
  it('with a SIGPIPE handler installed, no write or send call raises the signal', async () => {
    const { status, signal, report, stderr } = await runChild('handler');
    expect(signal, stderr).toBeNull();
    expect(status, stderr).toBe(0);
    expect(report?.crashed, report?.crashed).toBeUndefined();
    expectNoSigpipe(report!);
  });

  it('with the handler removed again (SIGPIPE back to its default: death), the process survives every call', async () => {
    const { status, signal, report, stderr } = await runChild('removed');
    expect({ status, signal }, `the child must not be killed by SIGPIPE (exit 141); stderr: ${stderr}`).toEqual({ status: 0, signal: null });
    expect(report?.crashed, report?.crashed).toBeUndefined();
    expectNoSigpipe(report!);
  });
});
