// What a failure looks like: kernel errors are SystemErrors shaped like Node's net errors; bad
// arguments are TypeError/RangeError with Node's ERR_* codes, thrown before any system call; and a
// failing call leaves no descriptor behind.
import { createConnection } from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_UNIX, F_GETFL, F_SETFD, MSG_DONTWAIT, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET,
  SO_REUSEADDR, SO_RCVTIMEO, POLLIN, type PollFd, SocketHandle, poll, SystemError, accept, bind, close, connect, fcntl, fromFd, getsockname,
  getsockopt, listen, read, readExactly, recv, recvfrom, send, sendto, setNonBlocking, setsockopt, socket,
  socketpair, write,
} from '../src/index';
import { errnoException } from '../src/errors';
import * as p from '../src/promises';
import { fdCount, openFds, tcpListener, tcpPair, noLeakedFds, trackHandles } from './helpers';

const E = constants.errno;

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const track = trackHandles();

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

/** A port on 127.0.0.1 that refuses connections (held by a bound socket that never listens). */
function refusingPort(): number {
  const holder = track(socket(AF_INET, SOCK_STREAM, 0));
  bind(holder, { family: AF_INET, address: '127.0.0.1', port: 0 });
  return getsockname(holder).port;
}

describe('SystemError', () => {
  it('has the shape of a Node system error', () => {
    const port = refusingPort();
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    const err = caught(() => connect(cli, { family: AF_INET, address: '127.0.0.1', port })) as SystemError;
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(SystemError);
    expect(err.name).toBe('SystemError');
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-E.ECONNREFUSED);
    expect(err.errno).toBeLessThan(0);
    expect(getSystemErrorName(err.errno)).toBe(err.code);
    expect(err.syscall).toBe('connect');
    expect(err.address).toBe('127.0.0.1');
    expect(err.port).toBe(port);
    expect(err.path).toBeUndefined();
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(String(err)).toBe(`SystemError: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(err.stack?.split('\n')[0]).toBe(`SystemError: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('matches the error Node\'s own net module gives for the same refused connection', async () => {
    const port = refusingPort();
    const nodeErr = await new Promise<NodeJS.ErrnoException & { address?: string; port?: number }>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.on('connect', () => { s.destroy(); reject(new Error('connected to a port nobody listens on')); });
      s.on('error', resolve);
    });
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    const ours = caught(() => connect(cli, { family: AF_INET, address: '127.0.0.1', port })) as SystemError;
    expect(ours.message).toBe(nodeErr.message);
    expect(ours.code).toBe(nodeErr.code);
    expect(ours.errno).toBe(nodeErr.errno);
    expect(ours.syscall).toBe(nodeErr.syscall);
    expect(ours.address).toBe(nodeErr.address);
    expect(ours.port).toBe(nodeErr.port);
  });

  it('carries no address fields for a call that had no address', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    const err = caught(() => listen(u)) as SystemError;
    expect(err).toBeInstanceOf(SystemError);
    expect(err.syscall).toBe('listen');
    expect(err.message).toBe(`listen ${err.code}`);
    expect(Object.hasOwn(err, 'address')).toBe(false);
    expect(Object.hasOwn(err, 'port')).toBe(false);
    expect(Object.hasOwn(err, 'path')).toBe(false);
  });

  it('shows an IPv6 address in brackets: [::1]:port', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    // An IPv4 socket refuses an IPv6 sockaddr before any packet is sent.
    const err = caught(() => connect(s, { family: AF_INET6, address: '::1', port: 8080 })) as SystemError;
    expect(err.code).toBe('EAFNOSUPPORT');
    expect(err.address).toBe('::1');
    expect(err.port).toBe(8080);
    expect(err.message).toBe('connect EAFNOSUPPORT [::1]:8080');
  });

  it('shows the path for AF_UNIX, in the message and the path field', () => {
    const path = `/nonexistent-dir-${process.pid}/sock`;
    const s = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = caught(() => connect(s, { family: AF_UNIX, path })) as SystemError;
    expect(err.code).toBe('ENOENT');
    expect(err.errno).toBe(-E.ENOENT);
    expect(err.path).toBe(path);
    expect(Object.hasOwn(err, 'address')).toBe(false);
    expect(err.message).toBe(`connect ENOENT ${path}`);
  });

  it('names the syscall as strace does for each call', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    setNonBlocking(conn, true);
    const buf = Buffer.alloc(4);
    const calls: Array<[string, () => unknown]> = [
      ['read', () => read(conn, buf)],
      ['recv', () => recv(conn, buf)],
      ['recvfrom', () => recvfrom(conn, buf)],
      ['read', () => readExactly(conn, buf)],
    ];
    for (const [syscall, f] of calls) {
      const err = caught(f) as SystemError;
      expect(err).toBeInstanceOf(SystemError);
      expect(err.code).toBe('EAGAIN');
      expect(err.errno).toBe(-E.EAGAIN);
      expect(err.syscall).toBe(syscall);
      expect(err.message).toBe(`${syscall} EAGAIN`);
    }
  });

  it('names every errno of this platform, including those libuv does not map (EINPROGRESS, ENETRESET)', () => {
    for (const [name, value] of Object.entries(E)) {
      const err = errnoException(-value, 'test');
      expect(err.errno).toBe(-value);
      expect(err.code).not.toMatch(/^Unknown/);
      // Aliases share a number (EAGAIN/EWOULDBLOCK, ENOTSUP/EOPNOTSUPP): any of its names will do.
      expect(E[err.code as keyof typeof E], `${name} (${value}) was named ${err.code}`).toBe(value);
      expect(err.message).toBe(`test ${err.code}`);
    }
    expect(errnoException(-E.EINPROGRESS, 'connect').code).toBe('EINPROGRESS');
    expect(errnoException(-E.ENETRESET, 'recv').code).toBe('ENETRESET');
    expect(errnoException(-E.ECONNREFUSED, 'connect').code).toBe('ECONNREFUSED');
    expect(errnoException(-E.EAGAIN, 'recv').code).toBe('EAGAIN');
    expect(errnoException(-4242, 'x').code).toBe('Unknown system error -4242');
  });

  it('can be constructed directly, formatting the target like the library does', () => {
    const inet = new SystemError('EADDRINUSE', -E.EADDRINUSE, 'bind', { address: '10.0.0.1', port: 80 });
    expect(inet.message).toBe('bind EADDRINUSE 10.0.0.1:80');
    const inet6 = new SystemError('EADDRINUSE', -E.EADDRINUSE, 'bind', { address: 'fe80::1', port: 80 });
    expect(inet6.message).toBe('bind EADDRINUSE [fe80::1]:80');
    const hostOnly = new SystemError('EINVAL', -E.EINVAL, 'inet_pton', { address: '10.2.3.4' });
    expect(hostOnly.message).toBe('inet_pton EINVAL 10.2.3.4');
    expect(hostOnly.port).toBeUndefined();
    const unix = new SystemError('ENOENT', -E.ENOENT, 'connect', { path: '/x/y' });
    expect(unix.message).toBe('connect ENOENT /x/y');
    const detail = new SystemError('EAI_NONAME', -3008, 'getaddrinfo', undefined, 'nowhere.invalid');
    expect(detail.message).toBe('getaddrinfo EAI_NONAME nowhere.invalid');
    const bare = new SystemError('EBADF', -E.EBADF, 'close');
    expect(bare.message).toBe('close EBADF');
    expect(bare.name).toBe('SystemError');
  });
});

describe('argument errors', () => {
  function expectCoded(f: () => unknown, ctor: typeof TypeError | typeof RangeError, code: string, message?: RegExp): void {
    const err = caught(f) as Error & { code?: string };
    expect(err).toBeInstanceOf(ctor);
    expect(err).not.toBeInstanceOf(SystemError);
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
  }
  const range = (f: () => unknown, message?: RegExp) => expectCoded(f, RangeError, 'ERR_OUT_OF_RANGE', message);
  const type = (f: () => unknown, message?: RegExp) => expectCoded(f, TypeError, 'ERR_INVALID_ARG_TYPE', message);
  const value = (f: () => unknown, message?: RegExp) => expectCoded(f, TypeError, 'ERR_INVALID_ARG_VALUE', message);

  it('a Node-style offset (fs.read\'s order) is a TypeError naming subarray, never a silent 0-byte read or write', async () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    write(cli, 'data');
    const buf = Buffer.alloc(16);
    const subarray = /buf\.subarray\(off\)/;
    // Written Node's way, read(fd, buf, 0, 16) would read 0 bytes: a false end of file.
    value(() => (read as (...a: unknown[]) => number)(conn, buf, 0, 16), subarray);
    value(() => (write as (...a: unknown[]) => number)(cli, buf, 0, 16), subarray);
    value(() => (recv as (...a: unknown[]) => number)(conn, buf, 16, 0, 4), subarray);
    value(() => (send as (...a: unknown[]) => number)(cli, buf, 16, 0, 4), subarray);
    const asyncValue = async (f: () => Promise<unknown>) => {
      const err = await f().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(subarray) });
    };
    const anyP = p as unknown as Record<string, (...a: unknown[]) => Promise<number>>;
    await asyncValue(() => anyP.read(conn, buf, 16, 0));
    await asyncValue(() => anyP.read(conn, buf, 16, 0, {}));
    await asyncValue(() => anyP.write(cli, buf, 16, 0));
    await asyncValue(() => anyP.recv(conn, buf, 16, 0, 0));
    await asyncValue(() => anyP.send(cli, buf, 16, 0, 0, {}));
    // Nothing was read by any of them.
    expect(read(conn, buf)).toBe(4);
  });

  it('refuses what the addon would misread: a sparse poll array, a Proxy for a buffer, an oversized sockaddr', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    // forEach skips holes: the hole would have polled fd 0 (standard input) without a word.
    // eslint-disable-next-line no-sparse-arrays
    type(() => poll([{ fd: conn, events: POLLIN }, , { fd: cli, events: POLLIN }] as PollFd[], 0), /"fds\[1\]"/);
    const proxy = new Proxy(Buffer.alloc(16), {});
    expect(proxy instanceof Uint8Array).toBe(true); // what an instanceof check alone lets through
    type(() => read(conn, proxy), /"buf"/);
    type(() => write(cli, proxy), /"data"/);
    type(() => connect(cli, proxy), /"address"/);
    range(() => connect(cli, new Uint8Array(200)), /at most 128 bytes/);
  });

  it('refuses a receive timeout that does not fit a struct timeval, instead of a wrapped one', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    range(() => setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, 1e300), /"optval"/);
    range(() => setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 2 ** 60, tv_usec: 0 }), /"optval\.tv_sec"/);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, 86_400_000 * 365);
    expect(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO)).toEqual({ tv_sec: 86_400 * 365, tv_usec: 0 });
  });

  it('refuses new SocketHandle(n) for a number another handle owns, as fromFd does', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    value(() => new SocketHandle(s.fd), /already owned/);
    const n = s.release();
    const again = track(new SocketHandle(n)); // released: free to adopt
    expect(again.fd).toBe(n);
  });

  it('a count outside the buffer is RangeError ERR_OUT_OF_RANGE', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    const buf = Buffer.alloc(16);
    range(() => read(conn, buf, 17), /^The value of "count" is out of range\. It must be >= 0 && <= 16\. Received 17$/);
    range(() => read(conn, buf.subarray(8), 10), /"count" is out of range\. It must be >= 0 && <= 8\. Received 10/);
    range(() => read(conn, buf, -1), /"count"/);
    range(() => read(conn, buf, 2.5), /"count" is out of range\. It must be an integer/);
    range(() => write(cli, 'abc', 4), /"count"/);
    range(() => write(cli, Buffer.alloc(4).subarray(3), 2), /"count"/);
    range(() => recv(conn, buf, 17), /"count"/);
    range(() => send(cli, 'abc', 4), /"count"/);
    range(() => recvfrom(conn, buf, 100), /"count"/);
    range(() => sendto(cli, 'abc', 4, 0, { family: AF_INET, address: '127.0.0.1', port: 9 }), /"count"/);
    range(() => readExactly(conn, buf, 17), /"count"/);
    range(() => getsockopt(cli, SOL_SOCKET, SO_REUSEADDR, 65537), /"optlen"/);
    range(() => getsockopt(cli, SOL_SOCKET, SO_REUSEADDR, -1), /"optlen"/);
    // None of them reached the kernel: nothing was sent.
    expect(() => recv(conn, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });

  it('a port outside 0..65535 is RangeError ERR_OUT_OF_RANGE', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      range(() => bind(s, { family: AF_INET, address: '127.0.0.1', port }), /"port"/);
    }
    type(() => bind(s, { family: AF_INET, address: '127.0.0.1', port: '80' as never }), /"port" argument must be of type number/);
    // The socket is still unbound.
    expect(getsockname(s).port).toBe(0);
  });

  it('data of the wrong type is TypeError ERR_INVALID_ARG_TYPE', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    const to = { family: AF_INET, address: '127.0.0.1', port: 9 };
    type(() => write(cli, 123 as never), /^The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView\. Received type number \(123\)$/);
    type(() => write(cli, null as never), /Received null$/);
    type(() => send(cli, { length: 3 } as never), /Received an instance of Object$/);
    type(() => sendto(cli, [1, 2, 3] as never, to), /Received an instance of Array$/);
    type(() => read(conn, 'buffer' as never), /^The "buf" argument must be an instance of Buffer, TypedArray, or DataView\. Received type string \('buffer'\)$/);
    type(() => recv(conn, new ArrayBuffer(8) as never), /Received an instance of ArrayBuffer$/);
    type(() => readExactly(conn, [] as never), /"buf"/);
    type(() => setsockopt(cli, SOL_SOCKET, SO_REUSEADDR, 'yes' as never), /"optval"/);
    type(() => setNonBlocking(cli, 1 as never), /"on" argument must be of type boolean/);
    type(() => socket('AF_INET' as never, SOCK_STREAM, 0), /"domain" argument must be of type number/);
    type(() => sendto(cli, 'x', null as never), /"address" argument/);
    type(() => bind(cli, { address: '127.0.0.1', port: 0 } as never), /"address\.family"/);
    expect(() => recv(conn, Buffer.alloc(4), undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });

  it('an address that is not numeric, or an unknown family, is ERR_INVALID_ARG_VALUE', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    value(() => bind(s, { family: AF_INET, address: 'localhost', port: 0 }), /must be a numeric IPv4 address/);
    value(() => bind(s, { family: AF_INET, address: '127.0.0.1\0junk', port: 0 }), /numeric IPv4/);
    value(() => bind(s, { family: AF_INET, address: '::1', port: 0 }), /numeric IPv4/);
    value(() => bind(s, { family: AF_INET6, address: '127.0.0.1', port: 0 }), /numeric IPv6/);
    value(() => bind(s, { family: 12345, port: 0 } as never), /address\.family/);
    value(() => fcntl(s, F_SETFD + 1000), /F_GETFL, F_SETFL, F_GETFD or F_SETFD/);
    expect(fcntl(s, F_GETFL) & 3).toBe(2); // O_RDWR: the socket is untouched
  });

  it('values only the kernel can judge fail as SystemErrors from socket()', () => {
    expect(() => socket(AF_INET, 0x7fff, 0)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'socket' }));
    expect(() => socket(12345, SOCK_STREAM, 0)).toThrow(expect.objectContaining({ code: 'EAFNOSUPPORT', syscall: 'socket' }));
    expect(() => socket(AF_INET, SOCK_STREAM, 9999)).toThrow(expect.objectContaining({ syscall: 'socket' }));
  });
});

describe('descriptor leaks', () => {
  it('200 failing socket(), socketpair() and fromFd() calls leave no descriptor behind', () => {
    const before = fdCount();
    const beforeSet = openFds();
    const closedNumber = socket(AF_INET, SOCK_STREAM, 0).release();
    close(closedNumber);
    for (let i = 0; i < 200; i++) {
      expect(() => socket(12345, SOCK_STREAM, 0)).toThrow(SystemError);
      expect(() => socket(AF_INET, 0x7fff, 0)).toThrow(SystemError);
      expect(() => socketpair(AF_INET, SOCK_STREAM, 0)).toThrow(SystemError);
      expect(() => fromFd(closedNumber)).toThrow(SystemError);
      expect(() => socket('x' as never, SOCK_STREAM, 0)).toThrow(TypeError);
    }
    expect(fdCount()).toBe(before);
    expect(openFds()).toEqual(beforeSet);
  });

  it('200 failing bind(), connect() and accept() calls leave only the sockets the caller closes', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const refused = refusingPort();
    const nb = track(socket(AF_INET, SOCK_STREAM | (SOCK_NONBLOCK as number), 0));
    bind(nb, { family: AF_INET, address: '127.0.0.1', port: 0 });
    listen(nb);
    const before = fdCount();
    for (let i = 0; i < 200; i++) {
      const a = socket(AF_INET, SOCK_STREAM, 0);
      try {
        expect(() => bind(a, { family: AF_INET, address: '127.0.0.1', port })).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
        expect(() => bind(a, { family: AF_INET, address: '10.255.255.1', port: 0 })).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
        expect(() => connect(a, { family: AF_INET, address: '127.0.0.1', port: refused })).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }));
        expect(() => accept(nb)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
        expect(() => accept(a)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      } finally {
        a.close();
      }
    }
    expect(fdCount()).toBe(before);
  });
});
