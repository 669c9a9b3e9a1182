// Descriptor ownership: a SocketHandle owns one kernel descriptor until close() or release(); after that
// no call may reach the kernel with its old number, which may already belong to another socket.
import { existsSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, F_GETFL, F_SETFL, O_NONBLOCK, SHUT_RDWR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
  SO_TYPE, SocketHandle, SystemError, accept, bind, close, connect, fcntl, fromFd, getCloseOnExec, getNonBlocking,
  getpeername, getsockname, getsockopt, listen, read, readExactly, recv, recvfrom, send, sendto, setCloseOnExec,
  setNonBlocking, setsockopt, shutdown, socket, socketpair, write, writeAll,
} from '../src/index';
import * as path from 'node:path';
import { fdCount, tcpPair, noLeakedFds, trackHandles, jsonReport } from './helpers';

const EBADF = constants.errno.EBADF;

/** Everything a test opened, closed after it whatever happened (close() is idempotent). */
/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const track = trackHandles();

function isOpen(n: number): boolean {
  return existsSync(`/proc/self/fd/${n}`);
}

/** Asserts that `f` throws the EBADF SystemError of `syscall`, and returns it. */
function expectEBADF(f: () => unknown, syscall: string): SystemError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, `${syscall} on a closed handle should throw`).toBeInstanceOf(SystemError);
  const err = caught as SystemError;
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('EBADF');
  expect(err.errno).toBe(-EBADF);
  expect(err.syscall).toBe(syscall);
  expect(err.message).toBe(`${syscall} EBADF`);
  return err;
}

describe('socket()', () => {
  it('returns an open SocketHandle with the kernel descriptor number', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(s).toBeInstanceOf(SocketHandle);
    expect(typeof s.fd).toBe('number');
    expect(Number.isInteger(s.fd)).toBe(true);
    expect(s.fd).toBeGreaterThan(2);
    expect(s.closed).toBe(false);
    expect(readlinkSync(`/proc/self/fd/${s.fd}`)).toMatch(/^socket:\[\d+\]$/);
    expect(getsockopt(s, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
  });

  it('shows its number in inspect() and JSON, and says closed once it is', () => {
    const s = track(socket(AF_INET, SOCK_DGRAM, 0));
    const n = s.fd;
    expect(inspect(s)).toBe(`SocketHandle { fd: ${n} }`);
    expect(JSON.stringify(s)).toBe(`{"fd":${n}}`);
    s.close();
    expect(inspect(s)).toBe('SocketHandle { closed }');
    expect(JSON.stringify(s)).toBe('{"fd":-1}');
  });
});

describe('close()', () => {
  it('closes the descriptor, sets fd to -1, and is idempotent', () => {
    const before = fdCount();
    const s = socket(AF_INET, SOCK_STREAM, 0);
    const n = s.fd;
    expect(fdCount()).toBe(before + 1);
    expect(isOpen(n)).toBe(true);
    s.close();
    expect(s.closed).toBe(true);
    expect(s.fd).toBe(-1);
    expect(isOpen(n)).toBe(false);
    expect(() => s.close()).not.toThrow();
    expect(() => close(s)).not.toThrow();
    expect(s.fd).toBe(-1);
    expect(fdCount()).toBe(before);
  });

  it('closes a raw number once; a second close(number) is the kernel\'s EBADF', () => {
    const n = socket(AF_INET, SOCK_STREAM, 0).release();
    expect(isOpen(n)).toBe(true);
    close(n);
    expect(isOpen(n)).toBe(false);
    const err = expectEBADF(() => close(n), 'close');
    expect(err.message).toBe('close EBADF');
  });
});

describe('a closed handle', () => {
  it('throws EBADF from every call, naming the call', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    const h = track(socket(AF_INET, SOCK_STREAM, 0));
    h.close();
    const buf = Buffer.alloc(16);
    const to = { family: AF_INET, address: '127.0.0.1', port: 9 };
    const cases: Array<[string, () => unknown]> = [
      ['bind', () => bind(h, { family: AF_INET, address: '127.0.0.1', port: 0 })],
      ['listen', () => listen(h)],
      ['accept', () => accept(h)],
      ['connect', () => connect(h, to)],
      ['read', () => read(h, buf)],
      ['write', () => write(h, 'x')],
      ['recv', () => recv(h, buf)],
      ['send', () => send(h, 'x')],
      ['recvfrom', () => recvfrom(h, buf)],
      ['sendto', () => sendto(h, 'x', to)],
      ['getsockname', () => getsockname(h)],
      ['getpeername', () => getpeername(h)],
      ['setsockopt', () => setsockopt(h, SOL_SOCKET, SO_REUSEADDR, 1)],
      ['getsockopt', () => getsockopt(h, SOL_SOCKET, SO_TYPE)],
      ['shutdown', () => shutdown(h, SHUT_RDWR)],
      ['fcntl', () => fcntl(h, F_GETFL)],
      ['fcntl', () => setNonBlocking(h, true)],
      ['fcntl', () => getNonBlocking(h)],
      ['fcntl', () => setCloseOnExec(h, false)],
      ['fcntl', () => getCloseOnExec(h)],
      ['write', () => writeAll(h, 'x')],
      ['read', () => readExactly(h, buf)],
      ['release', () => h.release()],
    ];
    for (const [syscall, call] of cases) expectEBADF(call, syscall);
    // The live sockets around it were not touched.
    expect(write(cli, 'ok')).toBe(2);
    expect(readExactly(conn, buf, 2)).toBe(2);
    expect(buf.toString('utf8', 0, 2)).toBe('ok');
  });

  it('never reaches the descriptor that now has its old number', () => {
    const a = track(socket(AF_INET, SOCK_STREAM, 0));
    const n = a.fd;
    a.close();
    // The kernel hands out the lowest free number: B gets A's old one.
    const b = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(b.fd).toBe(n);
    bind(b, { family: AF_INET, address: '127.0.0.1', port: 0 });
    listen(b, 4);
    const name = getsockname(b);
    const flags = fcntl(b, F_GETFL);

    // Each of these would change or consume B if it reached the kernel with number n.
    expectEBADF(() => getsockname(a), 'getsockname');
    expectEBADF(() => write(a, 'x'), 'write');
    expectEBADF(() => setsockopt(a, SOL_SOCKET, SO_REUSEADDR, 1), 'setsockopt');
    expectEBADF(() => fcntl(a, F_SETFL, flags | O_NONBLOCK), 'fcntl');
    expectEBADF(() => setNonBlocking(a, true), 'fcntl');
    expectEBADF(() => shutdown(a, SHUT_RDWR), 'shutdown');
    expectEBADF(() => listen(a, 1), 'listen');
    a.close(); // idempotent: must not close B
    close(a);

    expect(b.closed).toBe(false);
    expect(isOpen(n)).toBe(true);
    expect(getsockname(b)).toEqual(name);
    expect(getsockopt(b, SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    expect(getNonBlocking(b)).toBe(false);
    expect(fcntl(b, F_GETFL)).toBe(flags);
    // Still listening (shutdown did not reach it): a client connects and is accepted.
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: '127.0.0.1', port: name.port });
    const { fd: conn, address } = accept(b);
    track(conn);
    expect(address).toEqual(getsockname(cli));
  });
});

describe('using', () => {
  it('closes the socket at the end of the block', () => {
    let n = -1;
    let inner: SocketHandle | undefined;
    {
      using s = socket(AF_INET, SOCK_STREAM, 0);
      n = s.fd;
      inner = s;
      expect(isOpen(n)).toBe(true);
      bind(s, { family: AF_INET, address: '127.0.0.1', port: 0 });
    }
    expect(isOpen(n)).toBe(false);
    expect(inner?.closed).toBe(true);
    expect(inner?.fd).toBe(-1);
  });

  it('closes the socket when the block throws', () => {
    let n = -1;
    expect(() => {
      using s = socket(AF_INET, SOCK_STREAM, 0);
      n = s.fd;
      throw new Error('boom');
    }).toThrow('boom');
    expect(n).toBeGreaterThan(2);
    expect(isOpen(n)).toBe(false);
  });

  it('does nothing at block end for a handle closed or released inside it', () => {
    let released = -1;
    {
      using s = socket(AF_INET, SOCK_STREAM, 0);
      released = s.release();
    }
    try {
      expect(isOpen(released)).toBe(true);
    } finally {
      close(released);
    }
    {
      using s = socket(AF_INET, SOCK_STREAM, 0);
      s.close();
    }
  });

  it('is Symbol.dispose on the handle', () => {
    const s = socket(AF_INET, SOCK_STREAM, 0);
    const n = s.fd;
    s[Symbol.dispose]();
    expect(s.closed).toBe(true);
    expect(isOpen(n)).toBe(false);
  });
});

describe('release()', () => {
  it('returns the number, leaves the handle closed, and keeps the descriptor open', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    const before = fdCount();
    const expected = s.fd;
    const n = s.release();
    try {
      expect(n).toBe(expected);
      expect(s.closed).toBe(true);
      expect(s.fd).toBe(-1);
      expect(isOpen(n)).toBe(true);
      expect(fdCount()).toBe(before);
      // The handle no longer owns it: closing the handle leaves the descriptor alone.
      s.close();
      expect(isOpen(n)).toBe(true);
      expectEBADF(() => s.release(), 'release');
      // The number still works as a socket.
      expect(getsockopt(n, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    } finally {
      close(n);
    }
    expect(isOpen(n)).toBe(false);
    expect(fdCount()).toBe(before - 1);
  });
});

describe('fromFd()', () => {
  it('adopts an open descriptor number', () => {
    const n = socket(AF_UNIX, SOCK_DGRAM, 0).release();
    const h = track(fromFd(n));
    expect(h).toBeInstanceOf(SocketHandle);
    expect(h.fd).toBe(n);
    expect(h.closed).toBe(false);
    expect(getsockopt(h, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
    h.close();
    expect(isOpen(n)).toBe(false);
  });

  it('adopts one end of a socketpair that still talks to the other', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    track(a); track(b);
    const h = track(fromFd(b.release()));
    expect(write(a, 'adopted')).toBe(7);
    const buf = Buffer.alloc(16);
    expect(read(h, buf)).toBe(7);
    expect(buf.toString('utf8', 0, 7)).toBe('adopted');
  });

  it('fails with EBADF for a number that is not open', () => {
    const s = socket(AF_INET, SOCK_STREAM, 0);
    const n = s.fd;
    s.close();
    expect(isOpen(n)).toBe(false);
    const err = expectEBADF(() => fromFd(n), 'fcntl');
    expect(err.message).toBe('fcntl EBADF');
  });

  it('refuses a number a live handle owns, beyond the first 1,024 descriptors too, and adopts it once released', () => {
    // Ownership is a byte per descriptor number, grown on demand: check past its first size.
    const many = Array.from({ length: 1100 }, () => track(socket(AF_UNIX, SOCK_DGRAM, 0)));
    try {
      const last = many[many.length - 1];
      expect(last.fd).toBeGreaterThanOrEqual(1024);
      for (const h of [many[0], last]) {
        expect(() => fromFd(h.fd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      }
      const adopted = track(fromFd(last.release()));
      expect(() => fromFd(adopted.fd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    } finally {
      for (const h of many) h.close();
    }
  });

  it('rejects negative, fractional and non-number arguments before the kernel', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => fromFd(bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => fromFd('3' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('raw descriptor numbers', () => {
  it('are accepted by every call, which does not take ownership of them', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    const c = cli.fd;
    const k = conn.fd;
    expect(getsockname(c)).toEqual(getsockname(cli));
    expect(getpeername(c)).toEqual(getsockname(k));
    expect(write(c, 'raw')).toBe(3);
    expect(send(c, 'data')).toBe(4);
    const buf = Buffer.alloc(16);
    expect(readExactly(k, buf, 7)).toBe(7);
    expect(buf.toString('utf8', 0, 7)).toBe('rawdata');
    setNonBlocking(k, true);
    expect(getNonBlocking(conn)).toBe(true);
    expect(() => recv(k, buf)).toThrow(expect.objectContaining({ code: 'EAGAIN', syscall: 'recv' }));
    // Nothing took ownership: the handles are still open and own the numbers.
    expect(cli.fd).toBe(c);
    expect(conn.closed).toBe(false);
    expect(isOpen(c)).toBe(true);
  });

  it('reject negative and fractional numbers with RangeError ERR_OUT_OF_RANGE', () => {
    const buf = Buffer.alloc(4);
    const calls: Array<(fd: number) => unknown> = [
      (fd) => getsockname(fd),
      (fd) => read(fd, buf),
      (fd) => write(fd, 'x'),
      (fd) => close(fd),
      (fd) => bind(fd, { family: AF_INET, port: 0 }),
      (fd) => setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1),
      (fd) => fcntl(fd, F_GETFL),
    ];
    for (const call of calls) {
      for (const bad of [-1, -0.5, 3.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
        let err: unknown;
        try {
          call(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RangeError);
        expect((err as { code: string }).code).toBe('ERR_OUT_OF_RANGE');
        expect((err as Error).message).toMatch(/^The value of "fd" is out of range\./);
      }
    }
  });

  it('reject strings and other non-numbers with TypeError ERR_INVALID_ARG_TYPE', () => {
    const buf = Buffer.alloc(4);
    for (const bad of ['3', null, undefined, {}, 3n, true]) {
      for (const call of [() => getsockname(bad as never), () => read(bad as never, buf), () => close(bad as never)]) {
        let err: unknown;
        try {
          call();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TypeError);
        expect((err as { code: string }).code).toBe('ERR_INVALID_ARG_TYPE');
        expect((err as Error).message).toMatch(/^The "fd" argument must be a SocketHandle or a descriptor number\./);
      }
    }
    expect(() => getsockname('3' as never)).toThrow("Received type string ('3')");
  });

  it('are checked by the kernel: a number that is not open is EBADF', () => {
    const n = socket(AF_INET, SOCK_STREAM, 0).release();
    close(n);
    expectEBADF(() => getsockname(n), 'getsockname');
    expectEBADF(() => write(n, 'x'), 'write');
  });
});

describe('new SocketHandle(n)', () => {
  it('refuses what is not a descriptor number instead of truncating it to one', async () => {
    const { SocketHandle } = await import('../src/index');
    expect(() => new SocketHandle(3.5)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new SocketHandle(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new SocketHandle('3' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('one owner per descriptor', () => {
  it('fromFd refuses a number a live handle owns, and a handle itself', async () => {
    const { socket: mk, fromFd: adopt, AF_INET: INET, SOCK_DGRAM: DGRAM } = await import('../src/index');
    const s = mk(INET, DGRAM, 0);
    try {
      expect(() => adopt(s.fd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => adopt(s as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      const n = s.release(); // released: now it can be adopted, once
      const again = adopt(n);
      expect(again.fd).toBe(n);
      again.close();
    } finally {
      s.close();
    }
  });
});

describe('a handle collected while open', () => {
  // In a child with --expose-gc, on the built dist/: one handle dropped open, one kept, one closed.
  const program = `
    const b = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
    const { readdirSync } = require('node:fs');
    const warnings = [];
    process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
    let dropped;
    (() => { dropped = b.socket(b.AF_INET, b.SOCK_DGRAM, 0).fd; })();
    const kept = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
    b.socket(b.AF_INET, b.SOCK_DGRAM, 0).close();
    (async () => {
      for (let i = 0; i < 20 && warnings.length === 0; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      const stillOpen = readdirSync('/proc/self/fd').includes(String(dropped));
      const again = b.fromFd(dropped);
      const readopted = again.fd === dropped;
      again.close();
      kept.close();
      process.stdout.write(JSON.stringify({ dropped, warnings, stillOpen, readopted }));
    })();`;

  it.runIf(process.platform === 'linux')('is reported once as a ResourceWarning, keeps its descriptor open, and frees the number for fromFd', async () => {
    const r = await jsonReport<{ dropped: number; warnings: { name: string; code: string; message: string }[]; stillOpen: boolean; readopted: boolean }>(
      process.execPath, ['--expose-gc', '-e', program], 20_000);
    expect(r.warnings).toEqual([{
      name: 'ResourceWarning', code: 'BERKELEY_SOCKETS_UNCLOSED',
      message: expect.stringContaining(`descriptor ${r.dropped} was never closed`),
    }]);
    expect(r.stillOpen).toBe(true); // never closed behind the program's back
    expect(r.readopted).toBe(true);
  });
});
