// epoll(7) from TypeScript with its C names, against the real kernel: socketpairs and loopback TCP,
// level- and edge-triggered, EPOLLONESHOT and its rearm, EPOLL_CTL_DEL, the data word, EPOLLRDHUP,
// timeouts, a handled signal during epoll_wait, the kernel's errors and the argument checks, and the
// reusable events array that allocates nothing per call.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_UNIX, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLPRI, EPOLLRDHUP,
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_MAX_EVENTS, EpollEvents, SHUT_WR, SOCK_STREAM,
  type SocketHandle, close, epoll_create1, epoll_ctl, epoll_wait, fromFd, getCloseOnExec, read, shutdown, socketpair,
  trace, write,
} from '../src/index';
import { noLeakedFds, systemError, tcpPair, thrown } from './helpers';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const linux = process.platform === 'linux';

noLeakedFds();
const opened: SocketHandle[] = [];
const track = <T extends SocketHandle>(h: T): T => {
  opened.push(h);
  return h;
};
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
});
const pair = () => socketpair(AF_UNIX, SOCK_STREAM, 0).map(track) as [SocketHandle, SocketHandle];
const epoll = () => track(epoll_create1());

describe.skipIf(!linux)('epoll_create1', () => {
  it('returns a handle that owns a close-on-exec descriptor, closed once', () => {
    const ep = epoll_create1();
    expect(ep.fd).toBeGreaterThanOrEqual(0);
    expect(getCloseOnExec(ep)).toBe(true);
    // One owner: the number cannot be adopted a second time while the handle has it.
    expect(thrown(() => fromFd(ep.fd))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    const n = ep.fd;
    ep.close();
    ep.close();
    expect(ep.closed).toBe(true);
    // A closed handle never reaches the kernel again: its number may belong to another file by now.
    expect(systemError(() => epoll_wait(ep, 1, 0))).toMatchObject({ code: 'EBADF', syscall: 'epoll_wait' });
    expect(systemError(() => epoll_wait(n, 1, 0))).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'epoll_wait' });
  });

  it('is close-on-exec whatever the flags, and a child process does not inherit it', () => {
    const ep = track(epoll_create1(EPOLL_CLOEXEC));
    const plain = epoll();
    expect(getCloseOnExec(plain)).toBe(true);
    // /proc/self/fd of an exec'd child lists what it inherited.
    const r = spawnSync('sh', ['-c', 'ls /proc/$$/fd'], { encoding: 'utf8' });
    const inherited = r.stdout.split('\n').filter(Boolean).map(Number);
    expect(inherited).not.toContain(ep.fd);
    expect(inherited).not.toContain(plain.fd);
  });

  it('refuses flags the kernel does not know with EINVAL', () => {
    expect(systemError(() => epoll_create1(0x1234))).toMatchObject({ code: 'EINVAL', syscall: 'epoll_create1' });
  });
});

describe.skipIf(!linux)('epoll_ctl and epoll_wait', () => {
  it('level-triggered: reports a readable socket on every call until it is read', () => {
    const ep = epoll();
    const [a, b] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN });
    expect(epoll_wait(ep, 8, 0)).toEqual([]);
    write(b, 'hello');
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: a.fd }]);
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: a.fd }]);
    expect(read(a, Buffer.alloc(16))).toBe(5);
    expect(epoll_wait(ep, 8, 0)).toEqual([]);
  });

  it('edge-triggered (EPOLLET): reports new data once, and again only when more arrives', () => {
    const ep = epoll();
    const [a, b] = pair();
    // EPOLLIN | EPOLLET is negative in JavaScript (bit 31): the same 32 bits, accepted.
    expect(EPOLLIN | EPOLLET).toBeLessThan(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN | EPOLLET });
    write(b, 'one');
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: a.fd }]);
    expect(epoll_wait(ep, 8, 0)).toEqual([]); // still unread, but no new edge
    write(b, 'two');
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: a.fd }]);
    expect(read(a, Buffer.alloc(16))).toBe(6);
  });

  it('EPOLLONESHOT: reports once, then nothing until EPOLL_CTL_MOD rearms it', () => {
    const ep = epoll();
    const [a, b] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN | EPOLLONESHOT, data: 7 });
    write(b, 'x');
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: 7 }]);
    expect(epoll_wait(ep, 8, 0)).toEqual([]); // disarmed, though the byte is still there
    epoll_ctl(ep, EPOLL_CTL_MOD, a, { events: EPOLLIN | EPOLLONESHOT, data: 8 });
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: 8 }]);
    expect(epoll_wait(ep, 8, 0)).toEqual([]);
  });

  it('EPOLL_CTL_DEL stops the reports, with or without an event (C passes NULL)', () => {
    const ep = epoll();
    const [a, b] = pair();
    const [c, d] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN });
    epoll_ctl(ep, EPOLL_CTL_ADD, c, { events: EPOLLIN });
    write(b, 'x');
    write(d, 'y');
    expect(epoll_wait(ep, 8, 0)).toHaveLength(2);
    epoll_ctl(ep, EPOLL_CTL_DEL, a);
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLIN, data: c.fd }]);
    epoll_ctl(ep, EPOLL_CTL_DEL, c, { events: EPOLLIN });
    expect(epoll_wait(ep, 8, 0)).toEqual([]);
  });

  it('data defaults to the descriptor and round-trips any integer up to 2^53 - 1, past 32 bits included', () => {
    const ep = epoll();
    const values = [0, 1, 0xffffffff, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    const ends = values.map(() => pair());
    for (let i = 0; i < values.length; i++) {
      epoll_ctl(ep, EPOLL_CTL_ADD, ends[i][0], { events: EPOLLOUT, data: values[i] });
    }
    const [a] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a.fd, { events: EPOLLOUT }); // a bare number, not the handle
    const got = epoll_wait(ep, 16, 0);
    expect(got.map((e) => e.data).sort((x, y) => x - y)).toEqual([...values, a.fd].sort((x, y) => x - y));
    for (const e of got) expect(e.events).toBe(EPOLLOUT);
  });

  it('reports at most maxevents, the rest on the next call', () => {
    const ep = epoll();
    const ends = [pair(), pair(), pair()];
    for (const [a] of ends) epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLOUT });
    const first = epoll_wait(ep, 2, 0);
    expect(first).toHaveLength(2);
    expect(epoll_wait(ep, 8, 0)).toHaveLength(3); // level-triggered: all three again
  });

  it('EPOLLRDHUP when the peer shuts down its side of a TCP connection, EPOLLOUT while it can be written', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli);
    track(conn);
    track(srv);
    const ep = epoll();
    epoll_ctl(ep, EPOLL_CTL_ADD, conn, { events: EPOLLIN | EPOLLRDHUP | EPOLLPRI });
    epoll_ctl(ep, EPOLL_CTL_ADD, cli, { events: EPOLLOUT });
    expect(epoll_wait(ep, 8, 0)).toEqual([{ events: EPOLLOUT, data: cli.fd }]);
    shutdown(cli, SHUT_WR);
    const got = epoll_wait(ep, 8, 1000).find((e) => e.data === conn.fd);
    expect(got?.events).toBe(EPOLLIN | EPOLLRDHUP);
    expect(read(conn, Buffer.alloc(4))).toBe(0); // the end of file it announced
  });

  it('EPOLLHUP and EPOLLERR are reported without being asked for', () => {
    const ep = epoll();
    const [a, b] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: 0 });
    b.close();
    const [e] = epoll_wait(ep, 8, 0);
    expect(e.data).toBe(a.fd);
    expect(e.events & EPOLLHUP).toBe(EPOLLHUP);
    expect(e.events & EPOLLERR).toBe(0);
  });

  it('EPOLLEXCLUSIVE is taken by EPOLL_CTL_ADD and refused by EPOLL_CTL_MOD (EINVAL)', () => {
    const ep = epoll();
    const [a] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN | EPOLLEXCLUSIVE });
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_MOD, a, { events: EPOLLIN | EPOLLEXCLUSIVE }))).toMatchObject({
      code: 'EINVAL', syscall: 'epoll_ctl',
    });
  });

  it('timeout 0 returns 0 at once; a timeout elapses before 0 is returned', () => {
    const ep = epoll();
    const [a] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN });
    let t0 = process.hrtime.bigint();
    expect(epoll_wait(ep, 8, 0)).toEqual([]);
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(50);
    t0 = process.hrtime.bigint();
    expect(epoll_wait(ep, 8, 150)).toEqual([]);
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeGreaterThanOrEqual(145);
  });

  it('an epoll set can watch another epoll descriptor, which is readable when its own set has an event', () => {
    const outer = epoll();
    const inner = epoll();
    const [a, b] = pair();
    epoll_ctl(inner, EPOLL_CTL_ADD, a, { events: EPOLLIN });
    epoll_ctl(outer, EPOLL_CTL_ADD, inner, { events: EPOLLIN, data: 99 });
    expect(epoll_wait(outer, 4, 0)).toEqual([]);
    write(b, 'x');
    expect(epoll_wait(outer, 4, 0)).toEqual([{ events: EPOLLIN, data: 99 }]);
  });
});

describe.skipIf(!linux)('EpollEvents: the reusable struct epoll_event array', () => {
  it('is filled by the kernel in place, read with events(i) and data(i), the same bytes on every call', () => {
    const ep = epoll();
    const [a, b] = pair();
    const [c, d] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN, data: 2 ** 40 + 1 });
    epoll_ctl(ep, EPOLL_CTL_ADD, c, { events: EPOLLIN });
    const events = new EpollEvents(4);
    const bytes = events.bytes;
    expect(events.length).toBe(4);
    expect(events.count).toBe(0);
    expect(epoll_wait(ep, events, 4, 0)).toBe(0);
    write(b, 'x');
    write(d, 'y');
    expect(epoll_wait(ep, events, 4, 1000)).toBe(2);
    expect(events.count).toBe(2);
    expect(events.bytes).toBe(bytes); // the same array, written by the kernel
    expect(bytes.some((x) => x !== 0)).toBe(true);
    const seen = [0, 1].map((i) => [events.events(i), events.data(i)]).sort((x, y) => x[1] - y[1]);
    expect(seen).toEqual([[EPOLLIN, c.fd], [EPOLLIN, 2 ** 40 + 1]].sort((x, y) => x[1] - y[1]));
    // maxevents below the array's length: C's call with a smaller count.
    expect(epoll_wait(ep, events, 1, 0)).toBe(1);
    expect(events.count).toBe(1);
    expect(() => events.data(1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('allocates nothing per call: 300,000 calls make no young-generation collection (the list form does)', () => {
    const program = `
      const b = require(${JSON.stringify(dist)});
      const { writeSync } = require('fs');
      const ep = b.epoll_create1();
      const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);
      b.epoll_ctl(ep, b.EPOLL_CTL_ADD, x, { events: b.EPOLLOUT });
      const events = new b.EpollEvents(4);
      const form = process.argv[1];
      let sum = 0;
      const once = form === 'events'
        ? () => { const n = b.epoll_wait(ep, events, 4, 0); for (let j = 0; j < n; j++) sum += events.events(j) + events.data(j); }
        : () => { for (const e of b.epoll_wait(ep, 4, 0)) sum += e.events + e.data; };
      for (let i = 0; i < 20000; i++) once(); // warm up: compiled code is allocated here, not below
      writeSync(1, 'BEGIN\\n');
      for (let i = 0; i < 300000; i++) once();
      writeSync(1, 'END ' + sum + '\\n');
      b.close(x); b.close(y); b.close(ep);`;
    const scavenges = (form: string) => {
      // A 1 MiB young generation: 4 bytes per call would fill it at least once.
      const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--trace-gc', '-e', program, form], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const during = r.stdout.slice(r.stdout.indexOf('BEGIN'), r.stdout.indexOf('END'));
      expect(r.stdout).toMatch(/END \d+/); // it ran to the end
      return (during.match(/Scavenge/g) ?? []).length;
    };
    expect(scavenges('events')).toBeLessThanOrEqual(1);
    expect(scavenges('list')).toBeGreaterThanOrEqual(5); // the measure sees allocation when there is some
  });
});

describe.skipIf(!linux)('the kernel\'s errors', () => {
  it('EEXIST, ENOENT, EBADF, EINVAL, EPERM and ELOOP are SystemErrors with code, errno and syscall', () => {
    const ep = epoll();
    const [a] = pair();
    epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN });
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN }))).toMatchObject({
      code: 'EEXIST', errno: -17, syscall: 'epoll_ctl', message: 'epoll_ctl EEXIST',
    });
    const [c] = pair();
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_MOD, c, { events: EPOLLIN }))).toMatchObject({ code: 'ENOENT', syscall: 'epoll_ctl' });
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_DEL, c))).toMatchObject({ code: 'ENOENT', syscall: 'epoll_ctl' });
    // A number no file has (the closed handle's was forgotten; this one was never open).
    const closed = socketpair(AF_UNIX, SOCK_STREAM, 0);
    const gone = closed[0].fd;
    closed[0].close();
    closed[1].close();
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_ADD, gone, { events: EPOLLIN }))).toMatchObject({ code: 'EBADF', syscall: 'epoll_ctl' });
    expect(systemError(() => epoll_wait(gone, 4, 0))).toMatchObject({ code: 'EBADF', syscall: 'epoll_wait' });
    // A socket is not an epoll descriptor; an unknown op; epoll cannot watch itself.
    expect(systemError(() => epoll_wait(a, 4, 0))).toMatchObject({ code: 'EINVAL', syscall: 'epoll_wait' });
    expect(systemError(() => epoll_ctl(a, EPOLL_CTL_ADD, c, { events: EPOLLIN }))).toMatchObject({ code: 'EINVAL' });
    expect(systemError(() => epoll_ctl(ep, 99, c, { events: EPOLLIN }))).toMatchObject({ code: 'EINVAL' });
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_ADD, ep, { events: EPOLLIN }))).toMatchObject({ code: 'EINVAL' });
    // A regular file is always ready: epoll refuses it.
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-epoll-'));
    const file = openSync(path.join(dir, 'f'), 'w');
    try {
      expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_ADD, file, { events: EPOLLIN }))).toMatchObject({ code: 'EPERM', syscall: 'epoll_ctl' });
    } finally {
      closeSync(file);
      rmSync(dir, { recursive: true, force: true });
    }
    // Two epoll sets watching each other would be a loop.
    const other = epoll();
    epoll_ctl(other, EPOLL_CTL_ADD, ep, { events: EPOLLIN });
    expect(systemError(() => epoll_ctl(ep, EPOLL_CTL_ADD, other, { events: EPOLLIN }))).toMatchObject({ code: 'ELOOP' });
  });
});

describe('bad arguments never reach the kernel', () => {
  const lines: string[] = [];
  const untraced = (f: () => unknown) => {
    lines.length = 0;
    trace((l) => lines.push(l));
    try {
      return thrown(f);
    } finally {
      trace(false);
      expect(lines).toEqual([]);
    }
  };

  it.skipIf(!linux)('TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE, naming the argument', () => {
    const ep = epoll();
    const [a] = pair();
    const events = new EpollEvents(4);
    const bad: [() => unknown, string, string, string][] = [
      [() => epoll_create1('0' as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'flags'],
      [() => epoll_create1(1.5), 'RangeError', 'ERR_OUT_OF_RANGE', 'flags'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'event'],
      [() => epoll_ctl(ep, EPOLL_CTL_MOD, a, null), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'event'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'event'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: 'in' as never }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'event.events'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: 2 ** 32 }), 'RangeError', 'ERR_OUT_OF_RANGE', 'event.events'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN, data: -1 }), 'RangeError', 'ERR_OUT_OF_RANGE', 'event.data'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN, data: 2 ** 53 }), 'RangeError', 'ERR_OUT_OF_RANGE', 'event.data'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN, data: 1.5 }), 'RangeError', 'ERR_OUT_OF_RANGE', 'event.data'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN, data: 1n as never }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'event.data'],
      [() => epoll_ctl(ep, 'add' as never, a, { events: EPOLLIN }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'op'],
      [() => epoll_ctl('3' as never, EPOLL_CTL_ADD, a, { events: EPOLLIN }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'epfd'],
      [() => epoll_ctl(-1, EPOLL_CTL_ADD, a, { events: EPOLLIN }), 'RangeError', 'ERR_OUT_OF_RANGE', 'epfd'],
      [() => epoll_ctl(ep, EPOLL_CTL_ADD, -1, { events: EPOLLIN }), 'RangeError', 'ERR_OUT_OF_RANGE', 'fd'],
      [() => epoll_wait(ep, 0), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      [() => epoll_wait(ep, EPOLL_MAX_EVENTS + 1), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      [() => epoll_wait(ep, 8, -2), 'RangeError', 'ERR_OUT_OF_RANGE', 'timeout'],
      [() => epoll_wait(ep, 8, 0.5), 'RangeError', 'ERR_OUT_OF_RANGE', 'timeout'],
      [() => epoll_wait(ep, 8, '10' as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'timeout'],
      [() => epoll_wait(ep, [] as never, 8), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'events'],
      [() => epoll_wait(ep, events, 5, 0), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      [() => epoll_wait(ep, events, 0, 0), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      // C's four arguments: with three, 100 could be meant as the count or as the timeout.
      [() => (epoll_wait as (...a: unknown[]) => unknown)(ep, events, 4), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'timeout'],
      [() => new EpollEvents(0), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      [() => new EpollEvents(EPOLL_MAX_EVENTS + 1), 'RangeError', 'ERR_OUT_OF_RANGE', 'maxevents'],
      [() => events.events(0), 'RangeError', 'ERR_OUT_OF_RANGE', 'i'], // nothing filled yet
      [() => events.data(-1), 'RangeError', 'ERR_OUT_OF_RANGE', 'i'],
      [() => events.data('0' as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'i'],
    ];
    for (const [f, type, code, name] of bad) {
      const e = untraced(f);
      expect(e.constructor.name, String(f)).toBe(type);
      expect(e.code, String(f)).toBe(code);
      expect(e.message, String(f)).toContain(`"${name}"`);
    }
  });
});

describe.skipIf(!linux)('the trace', () => {
  it('prints the calls as strace does', () => {
    const lines: string[] = [];
    const ep = epoll();
    const [a, b] = pair();
    trace((l) => lines.push(l));
    try {
      epoll_ctl(ep, EPOLL_CTL_ADD, a, { events: EPOLLIN | EPOLLRDHUP | EPOLLET, data: 2 ** 32 + 5 });
      write(b, 'x');
      epoll_wait(ep, 4, -1);
      epoll_ctl(ep, EPOLL_CTL_DEL, a);
      epoll_ctl(ep, EPOLL_CTL_MOD, a, { events: 0x400000 });
    } catch {
      // ENOENT: printed too
    } finally {
      trace(false);
    }
    const e = ep.fd;
    const x = a.fd;
    // glibc's epoll_wait is the epoll_pwait system call where the kernel has no epoll_wait (arm64…).
    const pwait = ['arm64', 'riscv64', 'loong64'].includes(process.arch);
    const waited = `[{events=EPOLLIN, data={u32=5, u64=4294967301}}], 4, -1`;
    expect(lines.map((l) => l.replace(/\s+= /, ' = '))).toEqual([
      `epoll_ctl(${e}, EPOLL_CTL_ADD, ${x}, {events=EPOLLIN|EPOLLRDHUP|EPOLLET, data={u32=5, u64=4294967301}}) = 0`,
      `write(${b.fd}, "x", 1) = 1`,
      pwait ? `epoll_pwait(${e}, ${waited}, NULL, 8) = 1` : `epoll_wait(${e}, ${waited}) = 1`,
      `epoll_ctl(${e}, EPOLL_CTL_DEL, ${x}, NULL) = 0`,
      `epoll_ctl(${e}, EPOLL_CTL_MOD, ${x}, {events=0x400000 /* EPOLL??? */, data={u32=${x}, u64=${x}}}) = -1 ENOENT (No such file or directory)`,
    ]);
  });
});

// ── a signal during epoll_wait ─────────────────────────────────────────────────────────────────────

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (at most 2 s) until the child's main thread sleeps in the kernel: it is in epoll_wait. */
async function blocked(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'S') {
      await sleep(30);
      return;
    }
    await sleep(10);
  }
  throw new Error('the child never blocked');
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe.skipIf(!linux)('signals during epoll_wait', () => {
  for (const form of ['list', 'events']) {
    it(`a handled signal runs its listener during the call, and epoll_wait (${form} form) waits the time left of its 800 ms`, async () => {
      const program = `
        const b = require(${JSON.stringify(dist)});
        let calls = 0;
        process.on('SIGUSR2', () => calls++);
        const ep = b.epoll_create1();
        const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);
        b.epoll_ctl(ep, b.EPOLL_CTL_ADD, x, { events: b.EPOLLIN });
        process.stdout.write('ready\\n');
        const t0 = process.hrtime.bigint();
        const rc = ${form === 'list' ? 'b.epoll_wait(ep, 4, 800).length' : 'b.epoll_wait(ep, new b.EpollEvents(4), 4, 800)'};
        const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
        const during = calls;
        b.close(x); b.close(y); b.close(ep);
        setTimeout(() => { process.stdout.write(JSON.stringify({ rc, elapsed, during, after: calls }) + '\\n'); }, 100);`;
      const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 200 && !out.includes('ready'); i++) await sleep(10);
      await blocked(child.pid!);
      for (let i = 0; i < 3; i++) {
        child.kill('SIGUSR2');
        await sleep(100);
      }
      expect(await exit).toBe(0);
      const r = JSON.parse(out.split('\n')[1]) as { rc: number; elapsed: number; during: number; after: number };
      expect(r.rc).toBe(0); // a timeout, reported once the whole 800 ms have passed
      expect(r.elapsed).toBeGreaterThanOrEqual(795);
      // Restarted with the whole 800 ms after each signal, it would end near 1,100 ms.
      expect(r.elapsed).toBeLessThan(1080);
      expect(r.during).toBe(3);
      expect(r.after).toBe(3);
    });
  }
});
