// AF_UNIX: filesystem paths, Linux abstract names, autobind, socketpair of each type, and the addresses
// each side reports (an unnamed socket's is the empty path).
import { existsSync, lstatSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, MSG_DONTWAIT, MSG_TRUNC, SHUT_WR, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_TYPE,
  SystemError, type SocketHandle, accept, bind, connect, getpeername, getsockname, getsockopt, listen, read,
  readExactly, recv, recvfrom, send, sendto, shutdown, socket, socketpair, sockaddr_un, write,
} from '../src/index';
import { noLeakedFds, systemError } from './helpers';

const E = constants.errno;
const isLinux = process.platform === 'linux';

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const opened: SocketHandle[] = [];
function track<T extends SocketHandle>(h: T): T {
  opened.push(h);
  return h;
}
function trackPair<T extends SocketHandle>(p: [T, T]): [T, T] {
  track(p[0]);
  track(p[1]);
  return p;
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-unix-'));
});
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An abstract name unique to this process and test. */
let counter = 0;
function abstractName(): string {
  counter += 1;
  return `\0berkeley-sockets-test-${process.pid}-${counter}-${Math.random().toString(36).slice(2)}`;
}


describe('AF_UNIX names that are not UTF-8', () => {
  const cases: [string, () => Buffer][] = [
    ['a filesystem path', () => Buffer.concat([Buffer.from(join(dir, 'n')), Buffer.from([0xff, 0xfe, 0x41])])],
    ...(isLinux ? [['an abstract name', () => Buffer.concat([Buffer.from(abstractName()), Buffer.from([0xc3, 0x28, 0x80])])] as [string, () => Buffer]] : []),
  ];
  for (const [what, make] of cases) {
    it(`returns ${what} byte for byte, and connect(getsockname(srv)) reaches the server`, () => {
      const name = make();
      const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
      bind(srv, { family: AF_UNIX, path: name });
      listen(srv, 1);
      const got = getsockname(srv);
      expect(Buffer.isBuffer(got.path)).toBe(true);
      expect(Buffer.compare(got.path as Buffer, name)).toBe(0);
      const c = track(socket(AF_UNIX, SOCK_STREAM, 0));
      connect(c, got);
      const { fd, address } = accept(srv);
      track(fd);
      expect(Buffer.compare(getpeername(c).path as Buffer, name)).toBe(0);
      expect(address).toEqual({ family: AF_UNIX, path: '' });
    });
  }

  it('keeps a valid UTF-8 name a string, U+FFFD included', () => {
    const name = join(dir, 'caf\u00e9-\ufffd');
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: name });
    expect(getsockname(srv).path).toBe(name);
  });
});

describe('AF_UNIX stream sockets on a filesystem path', () => {
  it('binds to a path, creates the socket file, and connects a client', () => {
    const path = join(dir, 'server.sock');
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(existsSync(path)).toBe(false);
    bind(srv, { family: AF_UNIX, path });
    expect(lstatSync(path).isSocket()).toBe(true);
    listen(srv);
    expect(getsockname(srv)).toEqual({ family: AF_UNIX, path });

    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, { family: AF_UNIX, path });
    const { fd: conn, address } = accept(srv);
    track(conn);
    // The client never bound: it is unnamed, on both sides' account.
    expect(address).toEqual({ family: AF_UNIX, path: '' });
    expect(getsockname(cli)).toEqual({ family: AF_UNIX, path: '' });
    expect(getpeername(conn)).toEqual({ family: AF_UNIX, path: '' });
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path });
    expect(getsockname(conn)).toEqual({ family: AF_UNIX, path });

    expect(write(cli, 'over a path')).toBe(11);
    const buf = Buffer.alloc(32);
    expect(readExactly(conn, buf, 11)).toBe(11);
    expect(buf.toString('utf8', 0, 11)).toBe('over a path');
    shutdown(cli, SHUT_WR);
    expect(read(conn, buf)).toBe(0);
  });

  it('reports a bound client\'s path to the server', () => {
    const spath = join(dir, 's.sock');
    const cpath = join(dir, 'c.sock');
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: spath });
    listen(srv);
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(cli, { family: AF_UNIX, path: cpath });
    connect(cli, { family: AF_UNIX, path: spath });
    const { fd, address } = accept(srv);
    track(fd);
    expect(address).toEqual({ family: AF_UNIX, path: cpath });
    expect(getpeername(fd)).toEqual({ family: AF_UNIX, path: cpath });
  });

  it('leaves the socket file behind after close; unlinking it frees the path', () => {
    const path = join(dir, 'stale.sock');
    const a = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(a, { family: AF_UNIX, path });
    a.close();
    expect(existsSync(path)).toBe(true);
    const b = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = systemError(() => bind(b, { family: AF_UNIX, path }));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.errno).toBe(-E.EADDRINUSE);
    expect(err.path).toBe(path);
    expect(err.address).toBeUndefined();
    expect(err.port).toBeUndefined();
    expect(err.message).toBe(`bind EADDRINUSE ${path}`);
    // Nobody listens on the stale file.
    const c = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(systemError(() => connect(c, { family: AF_UNIX, path })).code).toBe('ECONNREFUSED');
    unlinkSync(path);
    bind(b, { family: AF_UNIX, path });
    expect(getsockname(b)).toEqual({ family: AF_UNIX, path });
  });

  it('fails with ENOENT when connecting to a path that does not exist', () => {
    const path = join(dir, 'missing.sock');
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = systemError(() => connect(cli, { family: AF_UNIX, path }));
    expect(err.code).toBe('ENOENT');
    expect(err.errno).toBe(-E.ENOENT);
    expect(err.syscall).toBe('connect');
    expect(err.path).toBe(path);
    expect(err.message).toBe(`connect ENOENT ${path}`);
  });

  it('fails with ECONNREFUSED when connecting to a file that is not a socket', () => {
    const path = join(dir, 'plain-file');
    writeFileSync(path, 'not a socket');
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = systemError(() => connect(cli, { family: AF_UNIX, path }));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toBe(`connect ECONNREFUSED ${path}`);
  });

  it('fails with EPROTOTYPE when a stream client connects to a datagram socket', () => {
    const path = join(dir, 'dgram.sock');
    const d = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(d, { family: AF_UNIX, path });
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(systemError(() => connect(cli, { family: AF_UNIX, path })).code).toBe('EPROTOTYPE');
  });

  it('takes a sockaddr_un struct', () => {
    const path = join(dir, 'struct.sock');
    const addr = new sockaddr_un();
    addr.sun_family = AF_UNIX;
    addr.sun_path = path;
    const s = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(s, addr);
    expect(getsockname(s)).toEqual({ family: AF_UNIX, path });
  });

  it('accepts a path of exactly sizeof(sun_path) - 1 bytes and refuses a longer one', () => {
    const s = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const base = `${dir}/`;
    const longest = base + 'x'.repeat(107 - base.length);
    expect(Buffer.byteLength(longest)).toBe(107);
    bind(s, { family: AF_UNIX, path: longest });
    expect(getsockname(s)).toEqual({ family: AF_UNIX, path: longest });
    const t = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(() => bind(t, { family: AF_UNIX, path: base + 'y'.repeat(200) })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  it('accepts a path that fills sun_path exactly, with no room for a NUL', () => {
    const base = `${dir}/`;
    const full = base + 'z'.repeat(108 - base.length);
    expect(Buffer.byteLength(full)).toBe(108);
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: full });
    listen(srv);
    expect(getsockname(srv)).toEqual({ family: AF_UNIX, path: full });
    expect(lstatSync(full).isSocket()).toBe(true);
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, { family: AF_UNIX, path: full });
    track(accept(srv).fd);
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path: full });
  });

  it('refuses a path with a NUL byte inside it', () => {
    const s = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(() => bind(s, { family: AF_UNIX, path: `${dir}/a\0b` })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
    // Nothing was bound.
    expect(getsockname(s)).toEqual({ family: AF_UNIX, path: '' });
  });
});

describe('AF_UNIX datagram sockets on paths', () => {
  it('sendto a path; recvfrom reports the sender\'s path', () => {
    const apath = join(dir, 'a.sock');
    const bpath = join(dir, 'b.sock');
    const a = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    const b = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(a, { family: AF_UNIX, path: apath });
    bind(b, { family: AF_UNIX, path: bpath });
    expect(sendto(a, 'one', { family: AF_UNIX, path: bpath })).toBe(3);
    expect(sendto(a, 'three', { family: AF_UNIX, path: bpath })).toBe(5);
    const buf = Buffer.alloc(16);
    expect(recvfrom(b, buf)).toEqual({ n: 3, address: { family: AF_UNIX, path: apath } });
    expect(recvfrom(b, buf)).toEqual({ n: 5, address: { family: AF_UNIX, path: apath } });
    expect(buf.toString('utf8', 0, 5)).toBe('three');
  });

  it('recvfrom from an unnamed sender returns no address', () => {
    const bpath = join(dir, 'b.sock');
    const b = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(b, { family: AF_UNIX, path: bpath });
    const a = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    sendto(a, 'anon', { family: AF_UNIX, path: bpath });
    // Linux does not autobind a datagram sender unless SO_PASSCRED is set: it has no name to report.
    expect(recvfrom(b, Buffer.alloc(8))).toEqual({ n: 4, address: null });
  });

  it('sendto a path nobody has bound fails with ENOENT naming the path', () => {
    const path = join(dir, 'nobody.sock');
    const a = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    const err = systemError(() => sendto(a, 'x', { family: AF_UNIX, path }));
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('sendto');
    expect(err.message).toBe(`sendto ENOENT ${path}`);
  });
});

describe.runIf(isLinux)('abstract names (Linux)', () => {
  it('binds and connects by a name that starts with NUL, creating no file', () => {
    const name = abstractName();
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: name });
    listen(srv);
    const got = getsockname(srv);
    expect(got).toEqual({ family: AF_UNIX, path: name });
    expect((got as { path: string }).path.charCodeAt(0)).toBe(0);
    expect(existsSync(name.slice(1))).toBe(false);

    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, { family: AF_UNIX, path: name });
    const { fd: conn, address } = accept(srv);
    track(conn);
    expect(address).toEqual({ family: AF_UNIX, path: '' });
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path: name });
    write(cli, 'abstract');
    const buf = Buffer.alloc(16);
    expect(readExactly(conn, buf, 8)).toBe(8);
    expect(buf.toString('utf8', 0, 8)).toBe('abstract');
  });

  it('frees the name when the socket closes', () => {
    const name = abstractName();
    const a = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(a, { family: AF_UNIX, path: name });
    const b = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = systemError(() => bind(b, { family: AF_UNIX, path: name }));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.path).toBe(name);
    a.close();
    bind(b, { family: AF_UNIX, path: name });
    expect(getsockname(b)).toEqual({ family: AF_UNIX, path: name });
  });

  it('compares names byte for byte: a shorter prefix is a different name', () => {
    const name = abstractName();
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: name });
    listen(srv);
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    expect(systemError(() => connect(cli, { family: AF_UNIX, path: name.slice(0, -1) })).code).toBe('ECONNREFUSED');
  });

  it('binding to the empty path autobinds to a 5-hex-digit abstract name', () => {
    const s = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(s, { family: AF_UNIX, path: '' });
    const { path } = getsockname(s) as { path: string };
    expect(path).toMatch(/^\0[0-9a-f]{5}$/);
    // The autobound name is a real address another socket can send to.
    const t = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(t, { family: AF_UNIX, path: '' });
    sendto(t, 'hi', { family: AF_UNIX, path });
    const got = recvfrom(s, Buffer.alloc(4));
    expect(got.n).toBe(2);
    expect(got.address).toEqual(getsockname(t));
  });
});

describe('socketpair', () => {
  it('SOCK_STREAM: a connected pair that carries bytes both ways, without message boundaries', () => {
    const [a, b] = trackPair(socketpair(AF_UNIX, SOCK_STREAM, 0));
    expect(a.fd).not.toBe(b.fd);
    expect(getsockopt(a, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    write(a, 'ab');
    write(a, 'cd');
    const buf = Buffer.alloc(16);
    expect(read(b, buf)).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('abcd');
    write(b, 'back');
    expect(read(a, buf)).toBe(4);
    a.close();
    expect(read(b, buf)).toBe(0);
  });

  it('SOCK_DGRAM: keeps message boundaries and truncates into a short buffer', () => {
    const [a, b] = trackPair(socketpair(AF_UNIX, SOCK_DGRAM, 0));
    expect(getsockopt(b, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
    send(a, 'ab');
    send(a, 'cd');
    send(a, 'a longer message');
    const buf = Buffer.alloc(8);
    expect(recv(b, buf)).toBe(2);
    expect(buf.toString('utf8', 0, 2)).toBe('ab');
    expect(recv(b, buf)).toBe(2);
    expect(buf.toString('utf8', 0, 2)).toBe('cd');
    expect(recv(b, buf, undefined, MSG_TRUNC)).toBe(16);
    expect(buf.toString()).toBe('a longer');
    expect(() => recv(b, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });

  it('SOCK_SEQPACKET: a connection that keeps message boundaries', () => {
    const [a, b] = trackPair(socketpair(AF_UNIX, SOCK_SEQPACKET, 0));
    expect(getsockopt(a, SOL_SOCKET, SO_TYPE)).toBe(SOCK_SEQPACKET);
    send(a, 'abcdef');
    send(a, 'gh');
    send(a, 'ijkl');
    const buf = Buffer.alloc(4);
    // A record longer than the buffer is cut; its tail is dropped, not read next.
    expect(recv(b, buf)).toBe(4);
    expect(buf.toString()).toBe('abcd');
    expect(recv(b, buf)).toBe(2);
    expect(buf.toString('utf8', 0, 2)).toBe('gh');
    expect(recv(b, buf, undefined, MSG_TRUNC)).toBe(4);
    expect(buf.toString()).toBe('ijkl');
    // It is connection-oriented: closing one end is end-of-file for the other.
    a.close();
    expect(recv(b, buf)).toBe(0);
  });

  it('both ends are unnamed: getsockname and getpeername return the empty path', () => {
    const [a, b] = trackPair(socketpair(AF_UNIX, SOCK_STREAM, 0));
    for (const s of [a, b]) {
      expect(getsockname(s)).toEqual({ family: AF_UNIX, path: '' });
      expect(getpeername(s)).toEqual({ family: AF_UNIX, path: '' });
    }
  });

  it('fails with EOPNOTSUPP for AF_INET', () => {
    const err = systemError(() => socketpair(AF_INET, SOCK_STREAM, 0));
    expect(err.errno).toBe(-E.EOPNOTSUPP);
    expect(err.syscall).toBe('socketpair');
  });
});
