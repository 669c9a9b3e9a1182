// Running out of descriptors (EMFILE), in a child process whose RLIMIT_NOFILE is 64 (soft and hard:
// Node raises the soft limit to the hard one at startup, so both are lowered). The child
// (fixtures/exhaustion.cjs, on the built dist/) fills its descriptor table with sockets, checks how
// socket, accept (sync and async) and socketpair fail, frees everything, and reports in JSON.
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonReport } from './helpers';

const fixture = path.join(__dirname, 'fixtures', 'exhaustion.cjs');
const LIMIT = 64;

interface ErrorShape {
  isSystemError: boolean;
  name: string;
  code: string;
  errno: number;
  syscall: string;
  message: string;
}

/** Runs the fixture under `ulimit -n LIMIT`; resolves with its JSON report. */
function runChild(): Promise<Record<string, any>> {
  return jsonReport('sh', ['-c', `ulimit -n ${LIMIT} && exec "$0" "$1"`, process.execPath, fixture], 20_000);
}

const emfile = (syscall: string): ErrorShape => ({
  isSystemError: true, name: 'SystemError', code: 'EMFILE', errno: -24, syscall, message: `${syscall} EMFILE`,
});

describe('EMFILE: a process out of descriptors (RLIMIT_NOFILE 64, in a child)', () => {
  let report: Record<string, any>;
  const steps = () => report.steps as Record<string, any>;
  beforeAll(async () => {
    report = await runChild();
  }, 30_000);

  it('runs under the lowered limit and opens sockets until socket() fails with EMFILE', () => {
    expect(report.crashed, report.crashed).toBeUndefined();
    expect(report.limits).toMatch(new RegExp(`^Max open files\\s+${LIMIT}\\s+${LIMIT}\\s`));
    const { opened, error } = steps().socket;
    expect(opened).toBeGreaterThan(10);
    expect(opened).toBeLessThan(LIMIT);
    expect(error).toEqual(emfile('socket'));
    // Every kind of socket fails the same way while the table is full.
    expect(steps().socketAgain).toEqual(['EMFILE', 'EMFILE', 'EMFILE']);
  });

  it('accept() fails with EMFILE and the connection stays in the queue; after a close, accept succeeds', () => {
    const full = steps().acceptFull;
    expect(full.queuedBefore).toBe(2);
    expect(full.result).toEqual({ ok: false, error: emfile('accept') });
    expect(full.queuedAfter).toBe(2);
    expect(full.stillReadable).toBe(true);
    // One descriptor freed: the first queued client is accepted, the second still waits.
    expect(steps().acceptAfterClose).toEqual({ ok: true, peerIsFirstClient: true, queuedAfter: 1 });
  });

  it('socketpair() fails with EMFILE with no descriptor free, and with only one free, without taking it', () => {
    expect(steps().socketpairNone).toEqual({ ok: false, error: emfile('socketpair') });
    expect(steps().socketpairOne).toEqual({ ok: false, error: emfile('socketpair') });
    // The one free descriptor was still free afterwards: a socket took it, and then the table was full.
    expect(steps().oneFreeAfterSocketpair).toBe(true);
    expect(steps().fullAgain).toBe(true);
  });

  it('the async accept rejects with EMFILE (not left pending), and accepts once a descriptor is free', () => {
    expect(steps().asyncAcceptFull).toEqual({ result: { ok: false, error: emfile('accept') }, queuedAfter: 2 });
    expect(steps().asyncAcceptAfterClose).toEqual({ ok: true, peerIsSecondClient: true, queuedAfter: 0 });
    expect(steps().connectionsWork).toBe(true);
  });

  it('leaks nothing: after closing everything the descriptors are exactly those at the start', () => {
    expect(report.after).toBe(report.before);
    expect(report.sameDescriptors).toBe(true);
  });

  it('recovers: sockets, a TCP exchange and a socketpair work again, as many descriptors as before', () => {
    expect(report.recovered).toEqual({ tcp: 'recovered', socketpair: 'dgram' });
    // The first fill held the listener and two clients (3); the second, the recovery's 5 sockets.
    expect(report.openedAgain + 5).toBe(steps().socket.opened + 3);
    expect(report.afterRecovery).toBe(true);
  });
});
