// Signals during blocking calls. Each case runs test/fixtures/signal-child.cjs in a
// child process, waits until it sleeps in its blocking call, and sends real signals with kill(2).
// What the library promises (README "Guarantees"): a signal without a listener keeps its default action,
// so Ctrl-C ends a process blocked in accept; a signal with a listener runs that listener at once, during
// the call, and the call goes on (poll/select with the time left, never reporting a timeout early); a
// listener that throws ends the call with its exception.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const fixture = path.join(__dirname, 'fixtures', 'signal-child.cjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

type Line = Record<string, unknown>;

/** Starts the child in `mode`; `next()` resolves with its next JSON line, `exit` with how it ended. */
function start(mode: string) {
  const child = spawn(process.execPath, [fixture, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: Line[] = [];
  const waiters: ((l: Line) => void)[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, i)) as Line;
      buffered = buffered.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const next = (): Promise<Line> => {
    const l = lines.shift();
    if (l) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${mode}: no output within 5 s`)), 5000);
      waiters.push((line) => {
        clearTimeout(t);
        resolve(line);
      });
    });
  };
  return { child, next, exit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (at most 2 s) until the child's main thread sleeps in the kernel: it is in its blocking call. */
async function blocked(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    // /proc/PID/stat: "pid (comm) state …"; the main thread is the thread-group leader.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'S') {
      await sleep(30);
      return;
    }
    await sleep(10);
  }
  throw new Error('the child never blocked');
}

function connectTo(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.end();
      resolve();
    });
    c.on('error', reject);
  });
}

describe.skipIf(process.platform !== 'linux')('signals during blocking calls', () => {
  it('Ctrl-C (SIGINT without a listener) ends a process blocked in accept', async () => {
    const c = start('accept-default');
    expect(await c.next()).toMatchObject({ ready: true });
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGINT' });
  });

  it('a SIGINT listener runs during accept, once per signal, and accept goes on to return the client', async () => {
    const c = start('accept-listener');
    const { port } = (await c.next()) as { port: number };
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    await blocked(c.child.pid!); // back in accept after running the listener twice
    await connectTo(port);
    const r = await c.next();
    // Both signals were handled during the call (Node alone would run neither before accept returned),
    // with Node's arguments, and the loop turning afterwards does not run them a second time.
    expect(r).toEqual({
      accepted: '127.0.0.1', callsDuringAccept: 2, callsAfterLoop: 2, names: [['SIGINT', 2], ['SIGINT', 2]],
    });
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('a listener that throws ends writeAll blocked after a partial write, as it ends write', async () => {
    const c = start('writeall-throw');
    expect(await c.next()).toMatchObject({ ready: true });
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    expect(await c.next()).toMatchObject({ message: 'stop writing', callsDuring: 1 });
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('fails a read with EBADF when a listener closed its handle and a new socket took the number', async () => {
    const c = start('read-closed');
    expect(await c.next()).toMatchObject({ ready: true });
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    // Retried on the number, the read would return 'for x only': another socket's data.
    expect(await c.next()).toMatchObject({ code: 'EBADF', syscall: 'read', reused: true, xGot: 'for x only' });
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('fails an accept with EBADF when a listener closed the listening handle and a new listener took the number', async () => {
    const c = start('accept-closed');
    expect(await c.next()).toMatchObject({ ready: true });
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    expect(await c.next()).toMatchObject({ code: 'EBADF', syscall: 'accept', reused: true, otherAccepted: true });
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('a listener that throws ends the blocking call with its exception; the socket still works', async () => {
    const c = start('accept-throw');
    const { port } = (await c.next()) as { port: number };
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    expect(await c.next()).toEqual({ caught: 'interrupted by SIGINT', ready2: true });
    await blocked(c.child.pid!);
    await connectTo(port);
    expect(await c.next()).toEqual({ acceptedAfterwards: true });
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  for (const mode of ['poll', 'select']) {
    it(`${mode} with an 800 ms timeout is not cut short by handled signals: it waits the time left`, async () => {
      const c = start(mode);
      await c.next();
      await blocked(c.child.pid!);
      for (let i = 0; i < 3; i++) {
        c.child.kill('SIGUSR2');
        await sleep(100);
      }
      const r = (await c.next()) as { rc: number; elapsed: number; callsDuringWait: number; callsAfterLoop: number };
      expect(r.rc).toBe(0); // a timeout, reported once the whole 800 ms have passed
      expect(r.elapsed).toBeGreaterThanOrEqual(795);
      expect(r.callsDuringWait).toBe(3);
      expect(r.callsAfterLoop).toBe(3);
      expect(await c.exit).toEqual({ code: 0, signal: null });
    });
  }

  it('a storm of signals during recvfrom loses neither the call nor the datagram', async () => {
    const c = start('recv-storm');
    const { port } = (await c.next()) as { port: number };
    await blocked(c.child.pid!);
    for (let i = 0; i < 50; i++) {
      c.child.kill('SIGUSR2');
      if (i % 10 === 9) await sleep(5);
    }
    await sleep(50);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) =>
      sock.send('after the storm', port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    sock.close();
    const r = (await c.next()) as { received: string; callsDuringRecv: number; callsAfterLoop: number };
    expect(r.received).toBe('after the storm');
    // Standard signals do not queue: several kills may merge into one delivery. Each delivery runs the
    // listener once, whether during the call or (if it came as the call returned) on the loop after it.
    expect(r.callsDuringRecv).toBeGreaterThanOrEqual(1);
    expect(r.callsDuringRecv).toBeLessThanOrEqual(50);
    expect(r.callsAfterLoop).toBeGreaterThanOrEqual(r.callsDuringRecv);
    expect(r.callsAfterLoop).toBeLessThanOrEqual(50);
    expect(await c.exit).toEqual({ code: 0, signal: null });
  });

  it('process.once: the first SIGINT runs the listener, the second has the default action again', async () => {
    const c = start('once');
    await c.next();
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    await blocked(c.child.pid!);
    c.child.kill('SIGINT');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGINT' });
  });
});
