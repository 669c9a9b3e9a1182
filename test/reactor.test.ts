// The async API's watchers (native/watcher.cc, src/async/reactor.ts): the native side makes a waiting read
// itself when epoll reports readability and reports every ready descriptor once per loop turn. These
// tests check what a caller could see of that: bytes land in the right buffer and order, nothing is
// consumed for a read that was withdrawn, and a buffer taken away while a read waits is never written.
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, MSG_PEEK, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_LINGER, bind, close, getsockname, read as readSync,
  sendto as sendtoSync, setsockopt, socket, socketpair, write as writeSync,
} from '../src/index';
import * as p from '../src/promises';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FdTable } from '../src/async/fd-table';
import { native } from '../src/binding';
import { EBADF } from '../src/constants';
import { canRun, hasCommand, jsonReport, tcpPair, trackHandles, udpSocket } from './helpers';

const track = trackHandles();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pair = () => socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);

describe('reactor: reads made by the watcher', () => {
  it('fills queued reads in their order, each with its own bytes', async () => {
    const [a, b] = pair();
    const bufs = [Buffer.alloc(2), Buffer.alloc(2), Buffer.alloc(2)];
    const reads = bufs.map((buf) => p.read(a, buf));
    await sleep(10); // all three wait (the first one armed in the watcher)
    writeSync(b, 'aabbcc');
    expect(await Promise.all(reads)).toEqual([2, 2, 2]);
    expect(bufs.map(String)).toEqual(['aa', 'bb', 'cc']);
  });

  it('reads into the window asked for, nothing outside it', async () => {
    const [a, b] = pair();
    const buf = Buffer.alloc(10, '.');
    const reading = p.read(a, buf.subarray(3), 4); // C: read(a, buf + 3, 4)
    await sleep(10);
    writeSync(b, 'abcdefgh');
    expect(await reading).toBe(4);
    expect(buf.toString()).toBe('...abcd...');
    const rest = Buffer.alloc(8);
    expect(readSync(a, rest)).toBe(4);
    expect(rest.toString('utf8', 0, 4)).toBe('efgh');
  });

  it('reports 300 descriptors made readable at once, each read with its own data', async () => {
    const pairs = Array.from({ length: 300 }, pair);
    const bufs = pairs.map(() => Buffer.alloc(8));
    const reads = pairs.map(([a], i) => p.read(a, bufs[i]));
    await sleep(10);
    pairs.forEach(([, b], i) => writeSync(b, `n${i}`));
    const counts = await Promise.all(reads);
    expect(counts).toEqual(pairs.map((_, i) => `n${i}`.length));
    expect(bufs.map((buf, i) => buf.toString('utf8', 0, counts[i]))).toEqual(pairs.map((_, i) => `n${i}`));
  });

  it('consumes nothing for an aborted read: the data stays for the next reader', async () => {
    const [a, b] = pair();
    const ac = new AbortController();
    const first = Buffer.alloc(8);
    const aborted = p.read(a, first, undefined, { signal: ac.signal });
    await sleep(10);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    writeSync(b, 'kept');
    await sleep(20); // a turn of the loop with readability and no reader
    expect(first.toString('utf8', 0, 4)).toBe('\0\0\0\0');
    const buf = Buffer.alloc(8);
    expect(await p.read(a, buf)).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('kept');
  });

  it('never writes into a buffer detached while its read waits: the read fails, the data stays', async () => {
    const [a, b] = pair();
    const ab = new ArrayBuffer(16);
    const reading = p.read(a, new Uint8Array(ab));
    await sleep(10);
    structuredClone(ab, { transfer: [ab] }); // detaches: the old memory is gone
    expect(ab.byteLength).toBe(0);
    writeSync(b, 'still here');
    await expect(reading).rejects.toThrow(RangeError);
    const buf = Buffer.alloc(16);
    expect(readSync(a, buf)).toBe(10);
    expect(buf.toString('utf8', 0, 10)).toBe('still here');
  });

  it('makes recv(2) for recv with no flags, and leaves MSG_PEEK to JavaScript', async () => {
    const [a, b] = pair();
    const peekBuf = Buffer.alloc(8);
    const peeking = p.recv(a, peekBuf, 8, MSG_PEEK);
    await sleep(10);
    writeSync(b, 'peek');
    expect(await peeking).toBe(4);
    const buf = Buffer.alloc(8);
    const receiving = p.recv(a, buf);
    expect(await receiving).toBe(4); // the peeked bytes were still there
    expect([peekBuf.toString('utf8', 0, 4), buf.toString('utf8', 0, 4)]).toEqual(['peek', 'peek']);
    const next = p.recv(a, buf);
    await sleep(10);
    writeSync(b, 'next');
    expect(await next).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('next');
  });

  it('fills a readExactly from several arrivals, in place', async () => {
    const [a, b] = pair();
    const buf = Buffer.alloc(6);
    const reading = p.readExactly(a, buf);
    for (const part of ['ab', 'cd', 'ef']) {
      await sleep(10); // each part arrives on its own turn: the window advances between them
      writeSync(b, part);
    }
    expect(await reading).toBe(6);
    expect(buf.toString()).toBe('abcdef');
    // Part of it already there (a new pair: `a` now waits for epoll before reading, as a socket read
    // in turns does): the first read, made at once, counts, and the window goes on after it.
    const [c, d] = pair();
    writeSync(d, 'gh');
    const rest = p.readExactly(c, buf);
    await sleep(10);
    writeSync(d, 'ijkl');
    expect(await rest).toBe(6);
    expect(buf.toString()).toBe('ghijkl');
    const [e, f] = pair();
    writeSync(f, 'mn');
    await expect(p.readExactly(e, buf, 6, { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', bytesRead: 2 });
    expect(buf.toString('utf8', 0, 2)).toBe('mn');
  });

  it('ends a readExactly early at end of file, and times out all of it at once with bytesRead', async () => {
    const [a, b] = pair();
    const buf = Buffer.alloc(8);
    const short = p.readExactly(a, buf);
    await sleep(10);
    writeSync(b, 'abc');
    await sleep(10);
    close(b);
    expect(await short).toBe(3);
    const [c, d] = pair();
    const slow = p.readExactly(c, buf, 8, { timeout: 150 });
    await sleep(10);
    writeSync(d, 'xy');
    await expect(slow).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'read', bytesRead: 2 });
    expect(buf.toString('utf8', 0, 2)).toBe('xy');
  });

  it('receives datagrams with their senders: recvfrom made by the watcher, for several sockets in one turn', async () => {
    const rx = [0, 1, 2].map(() => udpSocket());
    rx.forEach(({ fd }) => track(fd));
    const senders = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((address) => {
      const s = track(socket(AF_INET, SOCK_DGRAM, 0));
      bind(s, { family: AF_INET, address, port: 0 });
      return s;
    });
    const bufs = rx.map(() => Buffer.alloc(32));
    const got = rx.map(({ fd }, i) => p.recvfrom(fd, bufs[i]));
    await sleep(10);
    senders.forEach((s, i) => sendtoSync(s, `dgram ${i}`, { family: AF_INET, address: '127.0.0.1', port: rx[i].port }));
    const results = await Promise.all(got);
    expect(results.map((r) => r.n)).toEqual([7, 7, 7]);
    expect(results.map((r) => r.address)).toEqual(senders.map((s) => getsockname(s)));
    expect(bufs.map((b, i) => b.toString('utf8', 0, results[i].n))).toEqual(['dgram 0', 'dgram 1', 'dgram 2']);
  });

  it('loses and duplicates no byte across 40 streams under random reads, aborts and timeouts', async () => {
    // A seeded mix of read, readExactly, recv and recvfrom, a third of them aborted or timed out while
    // the data keeps coming: what each stream's reader got, in order, must be exactly what was sent.
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const streams = Array.from({ length: 40 }, () => {
      const [a, b] = pair();
      return { a, b, sent: [] as number[], got: [] as number[] };
    });
    let next = 0;
    const deadline = Date.now() + 1500;
    const writer = setInterval(() => {
      for (let k = 0; k < 20; k++) {
        const s = streams[rand(streams.length)];
        const chunk = Buffer.from(Array.from({ length: 1 + rand(40) }, () => next++ & 0xff));
        writeSync(s.b, chunk);
        s.sent.push(...chunk);
      }
    }, 2);
    const reader = async (s: (typeof streams)[number]) => {
      while (Date.now() < deadline) {
        const buf = Buffer.alloc(1 + rand(64));
        const ac = new AbortController();
        const mode = rand(6);
        const options = mode === 0 ? { signal: ac.signal } : mode === 1 ? { timeout: rand(3) } : undefined;
        if (mode === 0) setTimeout(() => ac.abort(), rand(3));
        const op = rand(4);
        try {
          let n: number;
          if (op === 0) n = await p.read(s.a, buf, undefined, options);
          else if (op === 1) n = await p.recv(s.a, buf, undefined, 0, options);
          else if (op === 2) n = (await p.recvfrom(s.a, buf, undefined, 0, options)).n;
          else n = await p.readExactly(s.a, buf, Math.min(buf.length, 8), options);
          s.got.push(...buf.subarray(0, n));
        } catch (e) {
          const err = e as { name?: string; code?: string; bytesRead?: number };
          expect(err.name === 'AbortError' || err.code === 'ETIMEDOUT').toBe(true);
          s.got.push(...buf.subarray(0, err.bytesRead ?? 0)); // a partial readExactly keeps what it read
        }
      }
    };
    try {
      await Promise.all(streams.map(reader));
    } finally {
      clearInterval(writer);
    }
    for (const s of streams) {
      const rest = Buffer.alloc(65536);
      for (let n; (n = await p.read(s.a, rest, undefined, { timeout: 50 }).catch(() => 0)) > 0;) {
        s.got.push(...rest.subarray(0, n));
      }
      expect(s.got.length).toBe(s.sent.length);
      expect(Buffer.from(s.got).equals(Buffer.from(s.sent))).toBe(true);
    }
    expect(streams.reduce((t, s) => t + s.sent.length, 0)).toBeGreaterThan(1000);
  });

  it('reports end of file as 0 and a reset as ECONNRESET', async () => {
    const [a, b] = pair();
    const eof = p.read(a, Buffer.alloc(4));
    await sleep(10);
    close(b);
    expect(await eof).toBe(0);
    const { cli, conn } = tcpPair();
    [cli, conn].forEach(track);
    const reset = p.read(cli, Buffer.alloc(4));
    await sleep(10);
    setsockopt(conn, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 });
    close(conn);
    await expect(reset).rejects.toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
  });

  it('fails a read whose socket is closed while it waits, and reports nothing for it later', async () => {
    const [a, b] = pair();
    const reading = p.read(a, Buffer.alloc(4));
    await sleep(10);
    writeSync(b, 'late');
    close(a); // before the loop turn that would report it
    await expect(reading).rejects.toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    // The number is free again: a new socket may take it, and must see only its own data.
    const [c, d] = pair();
    const buf = Buffer.alloc(8);
    const fresh = p.read(c, buf);
    await sleep(10);
    writeSync(d, 'mine');
    expect(await fresh).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('mine');
  });

  it('gives the event loop back during a chain of calls that all succeed at once', async () => {
    // Data is always there: each read resolves at once and the loop below makes the next one in the
    // same microtask checkpoint. Unbounded, the chain would run to its end before any timer,
    // setImmediate or other socket got a turn; the reactor's budget of immediate calls ends it.
    const [a, b] = pair();
    const reads = 4000;
    writeSync(a, Buffer.alloc(reads, 0x61));
    const one = Buffer.alloc(1);
    let done = 0;
    let doneWhenLoopRan = -1;
    setImmediate(() => (doneWhenLoopRan = done));
    const writes = (async () => {
      // Writes chained the same way are left alone: the kernel takes each at once, while epoll would
      // not call this AF_UNIX socket writable past a quarter of its buffer (nobody reads `a` yet; 100
      // one-byte writes fill about a third of it).
      for (let i = 0; i < 100; i++) await (i % 2 ? p.write(b, 'x') : p.writeAll(b, 'y'));
    })();
    for (; done < reads; done++) {
      expect(await p.read(b, one)).toBe(1);
      expect(one[0]).toBe(0x61);
    }
    await writes;
    expect(doneWhenLoopRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenLoopRan).toBeLessThan(reads / 2);
    // Nothing was lost or reordered on the way: the 100 bytes written arrive in order.
    const got = Buffer.alloc(100);
    expect(await p.readExactly(a, got)).toBe(100);
    expect(got.toString('latin1')).toBe('yx'.repeat(50));
  });
});

// A socket read in request/response turns (each read asked for before its data comes) waits for epoll
// without trying first, as net does, but for a rarer and rarer probe (src/async/at-once.ts); data that
// piles up while it waits is read at once again as soon as a read fills its window.
describe('reactor: reads in turns wait for epoll without trying first', () => {
  const dist = (file: string) => path.join(__dirname, '..', 'dist', file);
  it.runIf(canRun('counting the reads that fail needs strace', hasCommand('strace')))('makes few read(2) calls that fail with EAGAIN over 400 round trips of a ping-pong', async () => {
    if (!existsSync(dist('promises.js'))) throw new Error('dist/promises.js missing: run `npm run build:ts` (npm test does)');
    const rounds = 400;
    const script = `
      const { socketpair, AF_UNIX, SOCK_STREAM } = require(${JSON.stringify(dist('index.js'))});
      const p = require(${JSON.stringify(dist('promises.js'))});
      const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
      (async () => {
        const server = (async () => {
          const buf = Buffer.alloc(4096);
          for (let n; (n = await p.read(b, buf)) > 0; ) await p.writeAll(b, buf.subarray(0, n));
        })();
        const out = Buffer.alloc(64, 7), back = Buffer.alloc(64);
        for (let i = 0; i < ${rounds}; i++) { await p.writeAll(a, out); await p.readExactly(a, back); }
        const fds = [a.fd, b.fd];
        a.close();
        await server;
        b.close();
        console.log(JSON.stringify({ fds }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-reactor-'));
    try {
      const log = path.join(dir, 'strace.log');
      const { fds } = await jsonReport<{ fds: number[] }>('strace', ['-f', '-qq', '-e', 'trace=read', '-o', log, process.execPath, '-e', script], 30_000);
      const reads = readFileSync(log, 'latin1').split('\n').filter((l) => fds.some((fd) => l.includes(` read(${fd}, `)));
      const failed = reads.filter((l) => / = -1 EAGAIN/.test(l)).length;
      // Each side reads 400 times (the watcher makes most of them once epoll says so). Probing every
      // 8th read, as before, failed about 100 times; every 8th, 16th… up to every 64th: about 20.
      expect(reads.length).toBeGreaterThanOrEqual(2 * rounds);
      expect(failed).toBeLessThanOrEqual(30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads data that piled up during the turns at once again, not a loop turn per read', async () => {
    const [a, b] = pair();
    const buf = Buffer.alloc(64);
    for (let i = 0; i < 41; i++) { // turns: each read waits for its 16 bytes, and the probes fail
      const reading = p.read(a, buf);
      await sleep(0);
      writeSync(b, Buffer.alloc(16, i));
      expect(await reading).toBe(16);
    }
    writeSync(b, Buffer.alloc(64 * 60, 0x62)); // now 60 windows' worth waits
    let turns = 0;
    let counting = true;
    const tick = () => { if (counting) { turns++; setImmediate(tick); } };
    setImmediate(tick);
    for (let i = 0; i < 60; i++) expect(await p.read(a, buf)).toBe(64);
    counting = false;
    // The first read waits for epoll (a turn); the watcher's read fills its window, so the rest are
    // made at once. Waiting for a probe instead cost a turn per read until one came (the 48th read
    // deferred, here: 7 turns; up to 64 once the probes have grown rare).
    expect(turns).toBeLessThanOrEqual(2);
  });
});

// The reactor brings a native watcher in line through native.pollerSet(id, serial, …), which finds the
// Poller by number (native/watcher.cc's PollerTable). A number outlives its Poller and is given to the
// next one: the serial must keep a stale caller from driving that one.
describe('reactor: native watchers by number', () => {
  it('answers EBADF for a closed watcher\'s number, and for its number once another watcher has it', () => {
    const [a, b] = pair();
    const reactor = new native.Reactor(() => {});
    const first = new native.Poller(reactor, a.fd, 1001);
    const id = first.setup()[4];
    expect(id).toBeGreaterThanOrEqual(0);
    expect(native.pollerSet(id, 1001, 0)).toBe(0);
    expect(native.pollerSet(id, 1002, 0)).toBe(-EBADF); // the right number, another watcher's serial
    first.close();
    expect(native.pollerSet(id, 1001, 0)).toBe(-EBADF);
    const second = new native.Poller(reactor, b.fd, 1003);
    expect(second.setup()[4]).toBe(id); // the freed number, given again
    // The stale caller asks for readability and an armed read: the second watcher must not take them.
    expect(native.pollerSet(id, 1001, native.uv.UV_READABLE | native.uv.SET_HOLD, Buffer.alloc(4), 0, 4)).toBe(-EBADF);
    writeSync(a, 'ab');
    expect(readSync(b, Buffer.alloc(4))).toBe(2); // still there for the caller's own read
    expect(native.pollerSet(id, 1003, 0)).toBe(0);
    expect(native.pollerSet(-1, 1003, 0)).toBe(-EBADF);
    expect(native.pollerSet(1 << 30, 1003, 0)).toBe(-EBADF);
    second.close();
  });
});

// The reactor keeps its watchers in an array indexed by descriptor number, and in a Map from 65,536 on
// (src/async/fd-table.ts): here with a limit of 4, both sides; then real descriptors near RLIMIT_NOFILE.
describe('reactor: watchers by descriptor number', () => {
  it('finds each by its number on both sides of the array\'s limit, forgets a deleted one, lists the rest', () => {
    const t = new FdTable<string>(4);
    for (const fd of [3, 0, 4, 1_000_000, 7]) t.set(fd, `w${fd}`);
    expect([0, 1, 2, 3, 4, 5, 7, 1_000_000, 1_000_001].map((fd) => t.get(fd))).toEqual(['w0', undefined, undefined, 'w3', 'w4', undefined, 'w7', 'w1000000', undefined]);
    t.delete(3);
    t.delete(1_000_000);
    t.delete(2); // never set
    t.delete(99); // past both
    expect([t.get(3), t.get(1_000_000)]).toEqual([undefined, undefined]);
    expect([...t.values()]).toEqual(['w0', 'w4', 'w7']);
    t.set(3, 'again');
    expect(t.get(3)).toBe('again');
  });

  const dist = (file: string) => path.join(__dirname, '..', 'dist', file);
  it.runIf(canRun('descriptors numbered near RLIMIT_NOFILE need python3 to place them', hasCommand('python3')))('waits, reads and writes asynchronously on descriptors numbered near RLIMIT_NOFILE, and on low ones beside them', async () => {
    if (!existsSync(dist('promises.js'))) throw new Error('dist/promises.js missing: run `npm run build:ts` (npm test does)');
    // python raises the soft limit to the hard one, puts two socketpairs' ends at its top (dup2), and
    // execs Node with them inherited; Node's own descriptors stay low.
    const script = `
      const { fromFd, socketpair, AF_UNIX, SOCK_STREAM, write } = require(${JSON.stringify(dist('index.js'))});
      const p = require(${JSON.stringify(dist('promises.js'))});
      const [lowA, lowB] = socketpair(AF_UNIX, SOCK_STREAM, 0);
      const high = process.argv.slice(1).map(Number);
      const pairs = [[fromFd(high[0]), fromFd(high[1])], [fromFd(high[2]), fromFd(high[3])], [lowA, lowB]];
      (async () => {
        const bufs = pairs.map(() => Buffer.alloc(16));
        const reads = pairs.map(([a], i) => p.read(a, bufs[i])); // all three wait in the reactor
        await new Promise((r) => setTimeout(r, 20));
        pairs.forEach(([, b], i) => write(b, 'pair ' + i));
        const n = await Promise.all(reads);
        const echoed = await Promise.all(pairs.map(async ([a, b], i) => {
          await p.writeAll(a, 'back ' + i);
          const got = Buffer.alloc(16);
          return got.toString('latin1', 0, await p.read(b, got));
        }));
        const fds = pairs.map(([a]) => a.fd);
        for (const [a, b] of pairs) { a.close(); b.close(); }
        console.log(JSON.stringify({ fds, got: bufs.map((b, i) => b.toString('latin1', 0, n[i])), echoed }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const py = `
import os, resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
top = min(hard, 1 << 20)
resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
fds = [top - 1, top - 2, top // 2, top // 2 + 1]
for i in (0, 2):
    a, b = socket.socketpair()
    os.dup2(a.fileno(), fds[i], inheritable=True)
    os.dup2(b.fileno(), fds[i + 1], inheritable=True)
    a.close(); b.close()
os.execv(sys.argv[1], [sys.argv[1], '-e', sys.argv[2], *map(str, fds)])`;
    const r = await jsonReport<{ fds: number[]; got: string[]; echoed: string[] }>('python3', ['-c', py, process.execPath, script], 20_000);
    // The top of the limit, its middle, and Node's own low numbers.
    expect(r.fds[0]).toBeGreaterThan(r.fds[1]);
    expect(r.fds[1]).toBeGreaterThan(r.fds[2]);
    expect(r.got).toEqual(['pair 0', 'pair 1', 'pair 2']);
    expect(r.echoed).toEqual(['back 0', 'back 1', 'back 2']);
  });
});
