// TCP over 127.0.0.1, call by call as a C program makes them: socket, bind, listen, connect, accept,
// the transfer calls and their flags, shutdown, the errors the kernel reports, and the common options.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, SHUT_RD, SHUT_WR, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR,
  SO_SNDBUF, SO_SNDTIMEO, SO_TYPE, SystemError, TCP_NODELAY, type SocketHandle, accept, bind, close, connect,
  getNonBlocking, getpeername, getsockname, getsockopt, listen, read, readExactly, recv, recvfrom, send,
  setNonBlocking, setsockopt, shutdown, socket, write, writeAll, sockaddr_in, ntohs, inet_ntoa,
} from '../src/index';
import { tcpListener, tcpPair, noLeakedFds, trackHandles, systemError } from './helpers';

const E = constants.errno;
const LOOPBACK = '127.0.0.1';

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const track = trackHandles();

/** A connected pair whose sockets are all closed after the test. */
function pair(): ReturnType<typeof tcpPair> {
  const p = tcpPair();
  track(p.cli); track(p.conn); track(p.srv);
  return p;
}

/** struct timeval for SO_RCVTIMEO/SO_SNDTIMEO (64-bit Linux): a blocking call can never hang a test. */
function timeval(seconds: number): Buffer {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(seconds), 0);
  return tv;
}
function guard(fd: SocketHandle, seconds = 10): void {
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval(seconds));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval(seconds));
}

/** The SystemError `f` throws (the test fails if it returns). */

/** Sleeps without yielding to the event loop (bounded waits for the kernel's asynchronous work). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs a node child with `fd` as its descriptor 3; resolves with its stdout once it exits. */
function child(code: string, fd: SocketHandle): { done: Promise<{ status: number | null; out: string; err: string }> } {
  const cp = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe', fd.fd] });
  let out = '';
  let err = '';
  cp.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  cp.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const done = new Promise<{ status: number | null; out: string; err: string }>((resolve, reject) => {
    const timer = setTimeout(() => { cp.kill('SIGKILL'); reject(new Error('child timed out')); }, 15_000);
    cp.on('error', reject);
    cp.on('close', (status) => { clearTimeout(timer); resolve({ status, out, err }); });
  });
  return { done };
}

describe('the TCP lifecycle', () => {
  it('binds, listens, connects and accepts, each side knowing both addresses', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET, address: LOOPBACK, port: 0 });
    const local = getsockname(srv);
    expect(local.family).toBe(AF_INET);
    expect(local.address).toBe(LOOPBACK);
    expect(local.port).toBeGreaterThan(0);
    expect(local.port).toBeLessThan(65536);
    expect(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN)).toBe(0);
    listen(srv, 8);
    expect(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    expect(getsockname(srv)).toEqual(local);

    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(() => getpeername(cli)).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'getpeername' }));
    connect(cli, { family: AF_INET, address: LOOPBACK, port: local.port });
    const cliName = getsockname(cli);
    expect(cliName.address).toBe(LOOPBACK);
    expect(cliName.port).toBeGreaterThan(0);
    expect(cliName.port).not.toBe(local.port);

    const { fd: conn, address } = accept(srv);
    track(conn);
    expect(address).toEqual({ family: AF_INET, address: LOOPBACK, port: cliName.port });
    expect(conn.fd).not.toBe(srv.fd);
    expect(conn.fd).not.toBe(cli.fd);
    expect(getpeername(cli)).toEqual(local);
    expect(getpeername(conn)).toEqual(cliName);
    expect(getsockname(conn)).toEqual(local);
    expect(getsockopt(conn, SOL_SOCKET, SO_ACCEPTCONN)).toBe(0);
  });

  it('accepts queued clients in order', () => {
    const { srv, port } = tcpListener(8);
    track(srv);
    const clients = [0, 1, 2].map(() => {
      const c = track(socket(AF_INET, SOCK_STREAM, 0));
      connect(c, { family: AF_INET, address: LOOPBACK, port });
      return c;
    });
    for (const c of clients) {
      const { fd, address } = accept(srv);
      track(fd);
      expect(address.port).toBe(getsockname(c).port);
      expect(getpeername(fd)).toEqual(getsockname(c));
    }
  });
});

describe('accept and recvfrom fill a C struct, as accept(s, (struct sockaddr *)&addr, &len) does', () => {
  it('fills a sockaddr_in (sin_port in network order), or takes no address with null (C\'s NULL, NULL)', () => {
    const { srv, port } = tcpListener(8);
    track(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LOOPBACK, port });
    const addr = new sockaddr_in();
    const got = accept(srv, addr);
    track(got.fd);
    const me = getsockname(cli);
    expect(addr.sin_family).toBe(AF_INET);
    expect(ntohs(addr.sin_port)).toBe(me.port);
    expect(inet_ntoa(addr.sin_addr)).toBe(LOOPBACK);
    expect(got.address).toEqual(me);

    const cli2 = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli2, { family: AF_INET, address: LOOPBACK, port });
    const none = accept(srv, null, SOCK_NONBLOCK);
    track(none.fd);
    expect(none.address).toBeNull();
    expect(getNonBlocking(none.fd)).toBe(true);
    expect(getpeername(none.fd)).toEqual(getsockname(cli2));
  });

  it('cuts an IPv6 peer to what a sockaddr_in holds, as C would, and says the address did not fit', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET6, address: '::1', port: 0 });
    listen(srv, 1);
    const cli = track(socket(AF_INET6, SOCK_STREAM, 0));
    connect(cli, getsockname(srv));
    const small = new sockaddr_in();
    const got = accept(srv, small);
    track(got.fd);
    expect(got.address).toBeNull();
    expect(small.sin_family).toBe(AF_INET6); // the kernel wrote 16 of its 28 bytes
    expect(ntohs(small.sin_port)).toBe(getsockname(cli).port);
  });

  it('getsockname and getpeername fill a struct too, passing its size as C\'s len = sizeof addr', () => {
    const { srv, port } = tcpListener(1);
    track(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LOOPBACK, port });
    track(accept(srv).fd);
    const mine = new sockaddr_in();
    const theirs = new sockaddr_in();
    expect(getsockname(cli, mine)).toEqual(getsockname(cli));
    expect(getpeername(cli, theirs)).toEqual(getpeername(cli));
    expect(mine.sin_family).toBe(AF_INET);
    expect(ntohs(theirs.sin_port)).toBe(port);
    expect(inet_ntoa(theirs.sin_addr)).toBe(LOOPBACK);
    // An IPv6 address in a sockaddr_in is cut, as in C, and said not to fit.
    const six = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(six, { family: AF_INET6, address: '::1', port: 0 });
    const small = new sockaddr_in();
    expect(getsockname(six, small)).toBeNull();
    expect(small.sin_family).toBe(AF_INET6);
    expect(ntohs(small.sin_port)).toBe(getsockname(six).port);
    for (const bad of [null, {}, Buffer.alloc(16)]) {
      expect(() => getsockname(cli, bad as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(() => getpeername(srv, new sockaddr_in())).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'getpeername' }));
  });

  it('refuses anything but a struct or null in the address place', () => {
    const { srv } = tcpListener(1);
    track(srv);
    for (const bad of [{}, '127.0.0.1', Buffer.alloc(16)]) {
      expect(() => accept(srv, bad as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
  });
});

describe('read and write', () => {
  it('moves bytes in both directions', () => {
    const { cli, conn } = pair();
    expect(write(cli, 'ping')).toBe(4);
    const buf = Buffer.alloc(16);
    expect(read(conn, buf)).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('ping');
    expect(write(conn, Buffer.from('pong!'))).toBe(5);
    expect(read(cli, buf)).toBe(5);
    expect(buf.toString('utf8', 0, 5)).toBe('pong!');
  });

  it('writes strings as UTF-8', () => {
    const { cli, conn } = pair();
    expect(write(cli, 'héllo €')).toBe(Buffer.byteLength('héllo €'));
    const buf = Buffer.alloc(32);
    const n = read(conn, buf);
    expect(buf.toString('utf8', 0, n)).toBe('héllo €');
  });

  it('reads into a window of the buffer given by subarray (C: buf + off) and count', () => {
    const { cli, conn } = pair();
    write(cli, 'abcdefghij');
    const buf = Buffer.alloc(12, '.');
    expect(read(conn, buf.subarray(2), 3)).toBe(3);
    expect(buf.toString()).toBe('..abc.......');
    expect(read(conn, buf.subarray(8), 4)).toBe(4);
    expect(buf.toString()).toBe('..abc...defg');
    expect(read(conn, buf, 2)).toBe(2);
    expect(buf.toString()).toBe('hiabc...defg');
    // count defaults to the whole window
    expect(read(conn, buf.subarray(11))).toBe(1);
    expect(buf.toString()).toBe('hiabc...defj');
  });

  it('writes a window of the data given by subarray and count', () => {
    const { cli, conn } = pair();
    const data = Buffer.from('0123456789');
    expect(write(cli, data.subarray(4), 3)).toBe(3);
    expect(write(cli, data.subarray(8))).toBe(2);
    expect(write(cli, data, 0)).toBe(0);
    const buf = Buffer.alloc(16);
    expect(readExactly(conn, buf, 5)).toBe(5);
    expect(buf.toString('utf8', 0, 5)).toBe('45689');
  });

  it('reads and writes windows of a buffer larger than 2 GiB', () => {
    const { cli, conn } = pair();
    // Untouched memory: the kernel maps pages only where the test writes or reads.
    const big = Buffer.allocUnsafeSlow(2 ** 31 + 64);
    const at = 2 ** 31 + 8;
    big.write('tail!', at, 'latin1');
    expect(write(cli, big.subarray(at), 5)).toBe(5);
    expect(read(conn, big.subarray(at + 32), 5)).toBe(5);
    expect(big.toString('latin1', at + 32, at + 37)).toBe('tail!');
    // The whole buffer in one non-blocking write: a partial write, as in C, not an argument error.
    setNonBlocking(cli, true);
    const n = write(cli, big);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(big.length);
  });

  it('reads into any TypedArray as its bytes', () => {
    const { cli, conn } = pair();
    write(cli, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]));
    const words = new Uint32Array(2);
    // The signature says Uint8Array, but any TypedArray is read into as its bytes.
    expect(readExactly(conn, words as unknown as Uint8Array)).toBe(8);
    expect([...words]).toEqual([1, 2]);
  });

  it('returns 0 after the peer shuts down its sending side, on every read', () => {
    const { cli, conn } = pair();
    guard(conn);
    write(cli, 'last');
    shutdown(cli, SHUT_WR);
    const buf = Buffer.alloc(16);
    expect(read(conn, buf)).toBe(4);
    for (let i = 0; i < 3; i++) expect(read(conn, buf)).toBe(0);
    expect(recv(conn, buf)).toBe(0);
    // The half-closed connection still carries data the other way.
    expect(write(conn, 'reply')).toBe(5);
    expect(read(cli, buf)).toBe(5);
    expect(buf.toString('utf8', 0, 5)).toBe('reply');
    expect(() => write(cli, 'x')).toThrow(expect.objectContaining({ code: 'EPIPE', syscall: 'write' }));
  });

  it('returns 0 on our side after shutdown(SHUT_RD)', () => {
    const { cli } = pair();
    shutdown(cli, SHUT_RD);
    expect(read(cli, Buffer.alloc(4))).toBe(0);
  });

  it('fails with EPIPE, not SIGPIPE, when sending to a closed peer', () => {
    const { cli, conn } = pair();
    conn.close();
    // The first write may be accepted before the RST comes back; a later one must fail.
    let err: SystemError | undefined;
    for (let i = 0; i < 10 && !err; i++) {
      try {
        send(cli, 'x');
      } catch (e) {
        err = e as SystemError;
      }
    }
    expect(err).toBeInstanceOf(SystemError);
    expect(['EPIPE', 'ECONNRESET']).toContain(err?.code);
  });
});

describe('send and recv flags', () => {
  it('MSG_PEEK leaves the data in place', () => {
    const { cli, conn } = pair();
    write(cli, 'peekaboo');
    const buf = Buffer.alloc(16);
    expect(recv(conn, buf, 4, MSG_PEEK)).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('peek');
    expect(recv(conn, buf, undefined, MSG_PEEK)).toBe(8);
    buf.fill(0);
    expect(recv(conn, buf)).toBe(8);
    expect(buf.toString('utf8', 0, 8)).toBe('peekaboo');
  });

  it('MSG_DONTWAIT on an empty socket fails with EAGAIN', () => {
    const { conn } = pair();
    expect(getNonBlocking(conn)).toBe(false);
    const err = systemError(() => recv(conn, Buffer.alloc(8), undefined, MSG_DONTWAIT));
    expect(err.code).toBe('EAGAIN');
    expect(err.errno).toBe(-E.EAGAIN);
    expect(err.syscall).toBe('recv');
    expect(err.message).toBe('recv EAGAIN');
    // The socket itself stayed blocking.
    expect(getNonBlocking(conn)).toBe(false);
  });

  it('recv with count reads no more than count', () => {
    const { cli, conn } = pair();
    send(cli, 'abcdef');
    const buf = Buffer.alloc(16, 0);
    expect(recv(conn, buf, 2)).toBe(2);
    expect(buf.toString('utf8', 0, 2)).toBe('ab');
    expect(recv(conn, buf, 10)).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('cdef');
  });

  it('send with count sends the first count bytes', () => {
    const { cli, conn } = pair();
    expect(send(cli, 'abcdef', 3)).toBe(3);
    const buf = Buffer.alloc(16);
    expect(recv(conn, buf)).toBe(3);
    expect(buf.toString('utf8', 0, 3)).toBe('abc');
  });

  it('MSG_WAITALL waits for the whole count across separate writes', async () => {
    const { cli, conn } = pair();
    guard(conn);
    // The child writes 'hello', then 'wor' 400 ms later, then 'ld12345' 400 ms after that.
    const { done } = child(
      "const fs=require('fs');fs.writeSync(3,'hello');" +
        "setTimeout(()=>{fs.writeSync(3,'wor');setTimeout(()=>fs.writeSync(3,'ld12345'),400)},400)",
      cli,
    );
    cli.close();
    const buf = Buffer.alloc(16);
    // Without the flag, recv returns what has arrived: the first write.
    expect(recv(conn, buf, 10)).toBe(5);
    expect(buf.toString('utf8', 0, 5)).toBe('hello');
    // With it, recv gathers both later writes.
    expect(recv(conn, buf, 10, MSG_WAITALL)).toBe(10);
    expect(buf.toString('utf8', 0, 10)).toBe('world12345');
    const r = await done;
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(read(conn, buf)).toBe(0);
  });

  it('recvfrom on a connected stream returns the bytes and no address', () => {
    const { cli, conn } = pair();
    write(cli, 'xyz');
    const buf = Buffer.alloc(8);
    expect(recvfrom(conn, buf)).toEqual({ n: 3, address: null });
  });
});

describe('writeAll and readExactly', () => {
  it('writeAll sends 8 MiB to a reader in another process, byte for byte', async () => {
    const { cli, conn } = pair();
    guard(cli, 15);
    const data = randomBytes(8 * 1024 * 1024);
    const { done } = child(
      "const fs=require('fs');const h=require('crypto').createHash('sha256');const b=Buffer.alloc(1<<16);let n=0;" +
        'for(;;){const r=fs.readSync(3,b,0,b.length,null);if(r===0)break;n+=r;h.update(b.subarray(0,r))}' +
        "process.stdout.write(n+' '+h.digest('hex'))",
      conn,
    );
    conn.close();
    expect(writeAll(cli, data)).toBe(data.length);
    shutdown(cli, SHUT_WR);
    const r = await done;
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toBe(`${data.length} ${createHash('sha256').update(data).digest('hex')}`);
  });

  it('readExactly gathers 192 KiB written in one go', () => {
    const { cli, conn } = pair();
    guard(cli);
    guard(conn);
    setsockopt(cli, SOL_SOCKET, SO_SNDBUF, 1 << 20);
    const data = randomBytes(192 * 1024);
    expect(writeAll(cli, data)).toBe(data.length);
    const buf = Buffer.alloc(data.length + 100);
    expect(readExactly(conn, buf, data.length)).toBe(data.length);
    expect(buf.subarray(0, data.length).equals(data)).toBe(true);
  });

  it('readExactly returns fewer bytes when the peer closes first', () => {
    const { cli, conn } = pair();
    guard(conn);
    write(cli, 'only ten!!');
    cli.close();
    const buf = Buffer.alloc(100);
    expect(readExactly(conn, buf)).toBe(10);
    expect(buf.toString('utf8', 0, 10)).toBe('only ten!!');
    expect(readExactly(conn, buf, 5)).toBe(0);
  });

  it('readExactly with count 0 and writeAll of nothing return 0 at once', () => {
    const { cli, conn } = pair();
    expect(readExactly(conn, Buffer.alloc(8), 0)).toBe(0);
    expect(writeAll(cli, Buffer.alloc(0))).toBe(0);
    expect(writeAll(cli, '')).toBe(0);
  });

  it('readExactly reports bytesRead when a read fails midway', () => {
    const { cli, conn } = pair();
    setNonBlocking(conn, true);
    write(cli, 'abc');
    const err = systemError(() => readExactly(conn, Buffer.alloc(10)));
    expect(err.code).toBe('EAGAIN');
    expect(err.syscall).toBe('read');
    expect((err as SystemError & { bytesRead: number }).bytesRead).toBe(3);
  });

  it('writeAll reports bytesWritten when a write fails midway', () => {
    const { cli } = pair();
    setsockopt(cli, SOL_SOCKET, SO_SNDBUF, 4096);
    setNonBlocking(cli, true);
    // Nobody reads: the kernel buffers fill and a non-blocking write fails with EAGAIN.
    const err = systemError(() => writeAll(cli, Buffer.alloc(32 * 1024 * 1024)));
    expect(err.code).toBe('EAGAIN');
    expect(err.syscall).toBe('write');
    const written = (err as SystemError & { bytesWritten: number }).bytesWritten;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('TCP errors', () => {
  it('fails with ECONNREFUSED when nothing listens on the port', () => {
    // A socket bound but not listening holds the port, so no other process can start listening there.
    const holder = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(holder, { family: AF_INET, address: LOOPBACK, port: 0 });
    const { port } = getsockname(holder);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    const err = systemError(() => connect(cli, { family: AF_INET, address: LOOPBACK, port }));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-E.ECONNREFUSED);
    expect(err.syscall).toBe('connect');
    expect(err.address).toBe(LOOPBACK);
    expect(err.port).toBe(port);
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('fails with EADDRINUSE when the port is taken', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const other = track(socket(AF_INET, SOCK_STREAM, 0));
    const err = systemError(() => bind(other, { family: AF_INET, address: LOOPBACK, port }));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.errno).toBe(-E.EADDRINUSE);
    expect(err.syscall).toBe('bind');
    expect(err.address).toBe(LOOPBACK);
    expect(err.port).toBe(port);
    expect(err.message).toBe(`bind EADDRINUSE 127.0.0.1:${port}`);
    // SO_REUSEADDR does not let a second socket bind a port that is being listened on.
    setsockopt(other, SOL_SOCKET, SO_REUSEADDR, true);
    expect(() => bind(other, { family: AF_INET, address: LOOPBACK, port })).toThrow(`bind EADDRINUSE 127.0.0.1:${port}`);
  });

  it('fails with EINVAL when binding a socket twice', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(s, { family: AF_INET, address: LOOPBACK, port: 0 });
    const err = systemError(() => bind(s, { family: AF_INET, address: LOOPBACK, port: 0 }));
    expect(err.code).toBe('EINVAL');
    expect(err.errno).toBe(-E.EINVAL);
    expect(err.message).toBe('bind EINVAL 127.0.0.1');
  });

  it('fails with EINVAL when accepting on a socket that is not listening', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(s, { family: AF_INET, address: LOOPBACK, port: 0 });
    const err = systemError(() => accept(s));
    expect(err.code).toBe('EINVAL');
    expect(err.syscall).toBe('accept');
    expect(err.message).toBe('accept EINVAL');
  });

  it('fails with EOPNOTSUPP when listening on a UDP socket', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(u, { family: AF_INET, address: LOOPBACK, port: 0 });
    const err = systemError(() => listen(u));
    expect(err.errno).toBe(-E.EOPNOTSUPP);
    // Linux has one number for EOPNOTSUPP and ENOTSUP; Node (libuv) names it ENOTSUP.
    expect(['EOPNOTSUPP', 'ENOTSUP']).toContain(err.code);
    expect(err.syscall).toBe('listen');
  });

  it('fails with EADDRNOTAVAIL when binding an address this host does not have', () => {
    // 10.255.255.1 is on no interface of this host: bind only, no packet is sent.
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    const err = systemError(() => bind(s, { family: AF_INET, address: '10.255.255.1', port: 0 }));
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(err.errno).toBe(-E.EADDRNOTAVAIL);
    expect(err.address).toBe('10.255.255.1');
    expect(err.message).toBe('bind EADDRNOTAVAIL 10.255.255.1');
  });

  it('fails with EAFNOSUPPORT when an IPv4 socket is given an IPv6 address', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    const b = systemError(() => bind(s, { family: AF_INET6, address: '::1', port: 0 }));
    expect(b.code).toBe('EAFNOSUPPORT');
    expect(b.errno).toBe(-E.EAFNOSUPPORT);
    expect(b.message).toBe('bind EAFNOSUPPORT ::1');
    const c = systemError(() => connect(s, { family: AF_INET6, address: '::1', port: 9 }));
    expect(c.code).toBe('EAFNOSUPPORT');
    expect(c.message).toBe('connect EAFNOSUPPORT [::1]:9');
  });

  it('fails with ENOTCONN when shutting down or sending on an unconnected socket', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(() => shutdown(s, SHUT_WR)).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'shutdown' }));
    expect(() => getpeername(s)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
    expect(() => send(s, 'x')).toThrow(expect.objectContaining({ code: 'EPIPE', syscall: 'send' }));
  });

  it('fails with EISCONN when connecting a connected socket again', () => {
    const { cli, port } = pair();
    const err = systemError(() => connect(cli, { family: AF_INET, address: LOOPBACK, port }));
    expect(err.code).toBe('EISCONN');
    expect(err.message).toBe(`connect EISCONN 127.0.0.1:${port}`);
  });
});

describe('non-blocking mode', () => {
  it('setNonBlocking toggles O_NONBLOCK and accept fails with EAGAIN when no client waits', () => {
    const { srv, port } = tcpListener();
    track(srv);
    expect(getNonBlocking(srv)).toBe(false);
    setNonBlocking(srv, true);
    expect(getNonBlocking(srv)).toBe(true);
    setNonBlocking(srv, true);
    expect(getNonBlocking(srv)).toBe(true);
    const err = systemError(() => accept(srv));
    expect(err.code).toBe('EAGAIN');
    expect(err.errno).toBe(-E.EAGAIN);
    expect(err.syscall).toBe('accept');
    // With a client queued, the same non-blocking accept succeeds.
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LOOPBACK, port });
    const { fd } = accept(srv);
    track(fd);
    // The accepted socket does not inherit O_NONBLOCK on Linux.
    expect(getNonBlocking(fd)).toBe(false);
    setNonBlocking(srv, false);
    expect(getNonBlocking(srv)).toBe(false);
  });

  it('accept with SOCK_NONBLOCK gives a non-blocking connection', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const a = track(socket(AF_INET, SOCK_STREAM, 0));
    const b = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(a, { family: AF_INET, address: LOOPBACK, port });
    connect(b, { family: AF_INET, address: LOOPBACK, port });
    const plain = track(accept(srv).fd);
    const nb = track(accept(srv, SOCK_NONBLOCK as number).fd);
    expect(getNonBlocking(plain)).toBe(false);
    expect(getNonBlocking(nb)).toBe(true);
    expect(() => read(nb, Buffer.alloc(4))).toThrow(expect.objectContaining({ code: 'EAGAIN', syscall: 'read' }));
  });

  it('socket with SOCK_NONBLOCK is non-blocking from the start', () => {
    const s = track(socket(AF_INET, SOCK_STREAM | (SOCK_NONBLOCK as number), 0));
    expect(getNonBlocking(s)).toBe(true);
    expect(getsockopt(s, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
  });

  it('a non-blocking connect fails with EINPROGRESS and completes in the background', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM | (SOCK_NONBLOCK as number), 0));
    const err = systemError(() => connect(cli, { family: AF_INET, address: LOOPBACK, port }));
    expect(err.code).toBe('EINPROGRESS');
    expect(err.errno).toBe(-E.EINPROGRESS);
    expect(err.message).toBe(`connect EINPROGRESS 127.0.0.1:${port}`);
    let peer: ReturnType<typeof getpeername> | undefined;
    for (let i = 0; i < 200 && !peer; i++) {
      try {
        peer = getpeername(cli);
      } catch {
        sleep(5);
      }
    }
    expect(peer).toEqual({ family: AF_INET, address: LOOPBACK, port });
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0);
    track(accept(srv).fd);
  });

  it('a refused non-blocking connect is reported through SO_ERROR, once', () => {
    const holder = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(holder, { family: AF_INET, address: LOOPBACK, port: 0 });
    const { port } = getsockname(holder);
    const cli = track(socket(AF_INET, SOCK_STREAM | (SOCK_NONBLOCK as number), 0));
    expect(systemError(() => connect(cli, { family: AF_INET, address: LOOPBACK, port })).code).toBe('EINPROGRESS');
    let soError = 0;
    for (let i = 0; i < 200 && soError === 0; i++) {
      soError = getsockopt(cli, SOL_SOCKET, SO_ERROR);
      if (soError === 0) sleep(5);
    }
    expect(soError).toBe(E.ECONNREFUSED);
    // Reading SO_ERROR clears it.
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0);
  });

  it('a non-blocking read of an empty connection fails with EAGAIN, then succeeds once data arrives', () => {
    const { cli, conn } = pair();
    setNonBlocking(conn, true);
    const buf = Buffer.alloc(8);
    expect(() => read(conn, buf)).toThrow(expect.objectContaining({ code: 'EAGAIN', errno: -E.EAGAIN }));
    write(cli, 'now');
    expect(read(conn, buf)).toBe(3);
  });
});

describe('socket options', () => {
  it('SO_REUSEADDR set to true reads back as 1, and false as 0', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(getsockopt(s, SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, true);
    expect(getsockopt(s, SOL_SOCKET, SO_REUSEADDR)).toBe(1);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, false);
    expect(getsockopt(s, SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 7);
    expect(getsockopt(s, SOL_SOCKET, SO_REUSEADDR)).toBe(1);
  });

  it('SO_REUSEADDR lets a restarted server bind a port that has a connection in TIME_WAIT', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    // Linux lets the new bind through only if the old socket had SO_REUSEADDR too (as a server sets it).
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, 1);
    bind(srv, { family: AF_INET, address: LOOPBACK, port: 0 });
    listen(srv);
    const { port } = getsockname(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LOOPBACK, port });
    const conn = track(accept(srv).fd);
    // The server side closes first, so its end of the connection goes to TIME_WAIT on this port.
    conn.close();
    srv.close();
    guard(cli);
    expect(read(cli, Buffer.alloc(1))).toBe(0);
    cli.close();
    const plain = track(socket(AF_INET, SOCK_STREAM, 0));
    expect(() => bind(plain, { family: AF_INET, address: LOOPBACK, port })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', port }),
    );
    const again = track(socket(AF_INET, SOCK_STREAM, 0));
    setsockopt(again, SOL_SOCKET, SO_REUSEADDR, 1);
    bind(again, { family: AF_INET, address: LOOPBACK, port });
    listen(again);
    expect(getsockname(again).port).toBe(port);
  });

  it('TCP_NODELAY and SO_KEEPALIVE switch on and off', () => {
    const { cli } = pair();
    expect(getsockopt(cli, IPPROTO_TCP, TCP_NODELAY)).toBe(0);
    setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, true);
    expect(getsockopt(cli, IPPROTO_TCP, TCP_NODELAY)).toBe(1);
    setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, 0);
    expect(getsockopt(cli, IPPROTO_TCP, TCP_NODELAY)).toBe(0);
    expect(getsockopt(cli, SOL_SOCKET, SO_KEEPALIVE)).toBe(0);
    setsockopt(cli, SOL_SOCKET, SO_KEEPALIVE, true);
    expect(getsockopt(cli, SOL_SOCKET, SO_KEEPALIVE)).toBe(1);
  });

  it('SO_RCVBUF reads back doubled, as socket(7) says', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, 65536);
    expect(getsockopt(s, SOL_SOCKET, SO_RCVBUF)).toBe(131072);
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, 32768);
    expect(getsockopt(s, SOL_SOCKET, SO_SNDBUF)).toBe(65536);
  });

  it('SO_TYPE is SOCK_STREAM for TCP and SOCK_DGRAM for UDP', () => {
    const t = track(socket(AF_INET, SOCK_STREAM, 0));
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    expect(getsockopt(t, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    expect(getsockopt(u, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
  });

  it('SO_ERROR is 0 on a healthy connection', () => {
    const { cli, conn } = pair();
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0);
    expect(getsockopt(conn, SOL_SOCKET, SO_ERROR)).toBe(0);
  });

  it('the raw form returns as many bytes as the kernel wrote, up to optlen', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    const type = getsockopt(s, SOL_SOCKET, SO_TYPE, 4);
    expect(Buffer.isBuffer(type)).toBe(true);
    expect(type.length).toBe(4);
    expect(type.readInt32LE(0)).toBe(SOCK_STREAM);
    // A larger optlen: the kernel still writes an int, and says so.
    const wide = getsockopt(s, SOL_SOCKET, SO_TYPE, 16);
    expect(wide.length).toBe(4);
    expect(wide.readInt32LE(0)).toBe(SOCK_STREAM);
    // struct linger { int l_onoff; int l_linger; }
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    linger.writeInt32LE(5, 4);
    setsockopt(s, SOL_SOCKET, SO_LINGER, linger);
    const got = getsockopt(s, SOL_SOCKET, SO_LINGER, 8);
    expect(got.length).toBe(8);
    expect(got.readInt32LE(0)).toBe(1);
    expect(got.readInt32LE(4)).toBe(5);
  });

  it('an option the kernel does not know fails with ENOPROTOOPT', () => {
    const s = track(socket(AF_INET, SOCK_STREAM, 0));
    const get = systemError(() => getsockopt(s, SOL_SOCKET, 0x7fff));
    expect(get.code).toBe('ENOPROTOOPT');
    expect(get.errno).toBe(-E.ENOPROTOOPT);
    expect(get.syscall).toBe('getsockopt');
    const set = systemError(() => setsockopt(s, SOL_SOCKET, 0x7fff, 1));
    expect(set.code).toBe('ENOPROTOOPT');
    expect(set.syscall).toBe('setsockopt');
  });

  it('a TCP option on a UDP socket is refused by the kernel', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    const err = systemError(() => getsockopt(u, IPPROTO_TCP, TCP_NODELAY));
    // Older kernels said ENOPROTOOPT; since 5.x ip_getsockopt says EOPNOTSUPP for a foreign level.
    expect([-E.ENOPROTOOPT, -E.EOPNOTSUPP]).toContain(err.errno);
    expect(err.syscall).toBe('getsockopt');
  });
});

it('close() of the listener leaves accepted connections working', () => {
  const { cli, conn, srv } = pair();
  close(srv);
  expect(write(cli, 'still')).toBe(5);
  const buf = Buffer.alloc(8);
  expect(read(conn, buf)).toBe(5);
});
