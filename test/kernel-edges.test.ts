// What Linux does at the edges, that no other test file covers: end of file against EAGAIN, a
// non-blocking connect, what accepted sockets inherit, backlog and buffer sizes, datagram limits, dual
// stack, AF_UNIX names at their limits, a descriptor that is not a socket. Each expectation is what the
// kernel does, checked against the kernel. Loopback only; what needs the wildcard address or an address the host lacks runs
// in a network namespace of its own (fixtures/netns-edges.cjs).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_UNIX, F_GETFL, IPPROTO_IPV6, IPPROTO_TCP, IPV6_V6ONLY, MSG_DONTWAIT, MSG_TRUNC, O_NONBLOCK, POLLERR,
  POLLHUP, POLLIN, POLLOUT, POLLRDHUP, type PollFd, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_STREAM, SOL_SOCKET, SO_ERROR, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_SNDBUF, SO_TYPE, TCP_INFO,
  type SocketHandle, accept, bind, connect, fcntl, getCloseOnExec, getNonBlocking, getpeername, getsockname,
  getsockopt, listen, poll, read, recv, recvfrom, recvmsg, send, sendmsg, sendto, setNonBlocking, setsockopt,
  shutdown, socket, socketpair, write,
} from '../src/index';
import * as p from '../src/promises';
import { canRun, hasCommand, isRoot, noLeakedFds, systemError, tcpListener, tcpPair, thrown, trackHandles, hasIPv6Loopback } from './helpers';

const E = constants.errno;
const LO = '127.0.0.1';
// Linux has these (the library types them `number | undefined`: not every platform does).
const NONBLOCK = SOCK_NONBLOCK!;
const CLOEXEC = SOCK_CLOEXEC!;
const RDHUP = POLLRDHUP!;
const TCP_INFO_ = TCP_INFO!;

noLeakedFds();
const track = trackHandles();

function pair(): { cli: SocketHandle<typeof AF_INET>; conn: SocketHandle<typeof AF_INET>; port: number } {
  const { cli, conn, srv, port } = tcpPair();
  srv.close();
  track(cli);
  track(conn);
  // A blocking read that would wait forever fails after 5 s instead of hanging the test.
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(5n, 0);
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, tv);
  return { cli, conn, port };
}

/** poll() once, without waiting; the revents of the single entry. */
function revents(fd: SocketHandle, events: number, timeout = 0): number {
  const fds: PollFd[] = [{ fd, events }];
  poll(fds, timeout);
  return fds[0].revents!;
}

const ipv6 = canRun('IPv6 loopback (::1)', hasIPv6Loopback());
const netns = canRun('a network namespace of its own needs root, unshare and ip', isRoot && hasCommand('unshare') && hasCommand('ip'));

describe('end of file is 0, "nothing yet" is EAGAIN: never the one for the other', () => {
  it('a non-blocking read of a live, empty connection fails with EAGAIN from recv, read and recvfrom', async () => {
    const { conn } = pair();
    const buf = Buffer.alloc(8);
    // MSG_DONTWAIT on a blocking socket, then the socket made non-blocking.
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT))).toMatchObject({ code: 'EAGAIN', syscall: 'recv' });
    setNonBlocking(conn, true);
    expect(systemError(() => recv(conn, buf))).toMatchObject({ code: 'EAGAIN', errno: -E.EAGAIN, syscall: 'recv' });
    expect(systemError(() => read(conn, buf))).toMatchObject({ code: 'EAGAIN', syscall: 'read' });
    expect(systemError(() => recvfrom(conn, buf))).toMatchObject({ code: 'EAGAIN', syscall: 'recvfrom' });
    expect(systemError(() => recvmsg(conn, { iov: [buf] }))).toMatchObject({ code: 'EAGAIN', syscall: 'recvmsg' });
    // The async recv does not resolve 0 either: it waits (here until its timeout).
    await expect(p.recv(conn, buf, undefined, 0, { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'recv' });
  });

  it('at end of file every read returns 0, blocking or not, and poll keeps reporting the socket readable', async () => {
    const { cli, conn } = pair();
    write(cli, 'last');
    shutdown(cli, SHUT_WR);
    const buf = Buffer.alloc(8);
    expect(revents(conn, POLLIN | RDHUP)).toBe(POLLIN | RDHUP);
    expect(recv(conn, buf)).toBe(4);
    for (let i = 0; i < 3; i++) {
      expect(revents(conn, POLLIN | RDHUP)).toBe(POLLIN | RDHUP);
      expect(recv(conn, buf)).toBe(0);
      expect(read(conn, buf)).toBe(0);
      expect(recvfrom(conn, buf)).toEqual({ n: 0, address: null });
      expect(recv(conn, buf, undefined, MSG_DONTWAIT)).toBe(0); // not EAGAIN
    }
    setNonBlocking(conn, true);
    expect(recv(conn, buf)).toBe(0);
    expect(await p.recv(conn, buf, undefined, 0, { timeout: 5000 })).toBe(0);
    expect(await p.read(conn, buf, undefined, { timeout: 5000 })).toBe(0);
    // The peer gone entirely: still 0, still readable.
    cli.close();
    expect(revents(conn, POLLIN) & POLLIN).toBe(POLLIN);
    expect(read(conn, buf)).toBe(0);
  });

  it('a non-blocking accept with nobody waiting, and a UDP recvfrom with nothing queued, fail with EAGAIN', () => {
    const { srv } = tcpListener();
    track(srv);
    setNonBlocking(srv, true);
    expect(systemError(() => accept(srv))).toMatchObject({ code: 'EAGAIN', syscall: 'accept' });
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(u, { family: AF_INET, address: LO, port: 0 });
    expect(systemError(() => recvfrom(u, Buffer.alloc(8), undefined, MSG_DONTWAIT))).toMatchObject({ code: 'EAGAIN', syscall: 'recvfrom' });
    // On a datagram socket 0 is a datagram (an empty one), not an end of file.
    sendto(u, '', getsockname(u));
    expect(recvfrom(u, Buffer.alloc(8), undefined, MSG_DONTWAIT)).toEqual({ n: 0, address: getsockname(u) });
    expect(systemError(() => recvfrom(u, Buffer.alloc(8), undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
  });
});

describe('a non-blocking connect: EINPROGRESS, then POLLOUT, then SO_ERROR', () => {
  it('refused: POLLOUT with POLLERR, SO_ERROR is ECONNREFUSED once, then 0', () => {
    // A bound, non-listening socket holds the port: nobody can be listening there.
    const holder = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(holder, { family: AF_INET, address: LO, port: 0 });
    const { port } = getsockname(holder);
    const cli = track(socket(AF_INET, SOCK_STREAM | NONBLOCK, 0));
    expect(systemError(() => connect(cli, { family: AF_INET, address: LO, port }))).toMatchObject({
      code: 'EINPROGRESS', errno: -E.EINPROGRESS, syscall: 'connect',
    });
    const r = revents(cli, POLLOUT, 5000);
    expect(r & POLLOUT).toBe(POLLOUT);
    expect(r & POLLERR).toBe(POLLERR);
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(E.ECONNREFUSED);
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0); // reading it cleared it
    expect(revents(cli, POLLOUT) & POLLERR).toBe(0);
  });

  it('accepted: POLLOUT alone, SO_ERROR 0; connect() again reports the outcome (0), then EISCONN', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM | NONBLOCK, 0));
    const to = { family: AF_INET, address: LO, port };
    expect(systemError(() => connect(cli, to)).code).toBe('EINPROGRESS');
    expect(revents(cli, POLLOUT, 5000)).toBe(POLLOUT);
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0);
    // The portable way to learn the outcome: a second connect() succeeds once the connection is up.
    connect(cli, to);
    expect(systemError(() => connect(cli, to))).toMatchObject({ code: 'EISCONN', syscall: 'connect' });
    expect(getpeername(cli)).toEqual(to);
    track(accept(srv).fd);
  });
});

describe('what accepted and created sockets inherit', () => {
  it('SO_TYPE never carries NONBLOCK or CLOEXEC', () => {
    const s = track(socket(AF_INET, SOCK_STREAM | NONBLOCK | CLOEXEC, 0));
    expect(getsockopt(s, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    expect(getNonBlocking(s)).toBe(true);
    expect(getCloseOnExec(s)).toBe(true);
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM | NONBLOCK, 0).map(track);
    expect(getsockopt(a, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
    expect(getsockopt(b, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
    expect(getNonBlocking(a)).toBe(true);
    const { srv, port } = tcpListener();
    track(srv);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LO, port });
    const conn = track(accept(srv, NONBLOCK).fd);
    expect(getsockopt(conn, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    expect(getNonBlocking(conn)).toBe(true);
    expect(getCloseOnExec(conn)).toBe(true);
  });

  it('a connection accepted from a non-blocking listener (sync or async API) is blocking and close-on-exec', async () => {
    const { srv, port } = tcpListener();
    track(srv);
    setNonBlocking(srv, true);
    const to = { family: AF_INET, address: LO, port };
    const c1 = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(c1, to);
    const sync = track(accept(srv).fd);
    expect(getNonBlocking(sync)).toBe(false);
    expect(getCloseOnExec(sync)).toBe(true);
    const c2 = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(c2, to);
    const viaPromise = track((await p.accept(srv, { timeout: 5000 })).fd);
    expect(getNonBlocking(viaPromise)).toBe(false);
    expect(getCloseOnExec(viaPromise)).toBe(true);
    expect(fcntl(viaPromise, F_GETFL) & O_NONBLOCK).toBe(0);
    expect(getNonBlocking(srv)).toBe(true); // the listener itself stays non-blocking
  });
});

describe('listen backlog', () => {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  /** The backlog the kernel applied: for a listener, TCP_INFO_'s tcpi_sacked is sk_max_ack_backlog. */
  const applied = (fd: SocketHandle) => getsockopt(fd, IPPROTO_TCP, TCP_INFO_).sacked;

  it('0 is a real backlog (one connection still completes), and listen() again changes it', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET, address: LO, port: 0 });
    listen(srv, 0);
    expect(applied(srv)).toBe(0);
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: LO, port: getsockname(srv).port });
    expect(revents(srv, POLLIN, 5000)).toBe(POLLIN);
    expect(getsockopt(srv, IPPROTO_TCP, TCP_INFO_).unacked).toBe(1); // queued: Linux allows backlog + 1
    track(accept(srv).fd);
    listen(srv, 5);
    expect(applied(srv)).toBe(5);
  });

  it('2**31 - 1 and -1 are clamped to somaxconn by the kernel; outside a C int is a RangeError', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET, address: LO, port: 0 });
    listen(srv, 2 ** 31 - 1);
    expect(applied(srv)).toBe(somaxconn);
    listen(srv, 7);
    listen(srv, -1); // (unsigned) -1 > somaxconn
    expect(applied(srv)).toBe(somaxconn);
    listen(srv, 7);
    for (const bad of [2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, Number.NaN]) {
      expect(thrown(() => listen(srv, bad))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    expect(applied(srv)).toBe(7); // nothing reached the kernel
  });
});

describe('datagram size limits', () => {
  it('IPv4 UDP carries 65,507 bytes (65,535 - 20 - 8); 65,508 is EMSGSIZE from sendto, send and write', () => {
    const rx = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(rx, { family: AF_INET, address: LO, port: 0 });
    const tx = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(tx, { family: AF_INET, address: LO, port: 0 });
    const to = getsockname(rx);
    const big = Buffer.alloc(65_507);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    expect(sendto(tx, big, to)).toBe(65_507);
    const got = Buffer.alloc(70_000);
    expect(recvfrom(rx, got, undefined, MSG_DONTWAIT)).toEqual({ n: 65_507, address: getsockname(tx) });
    expect(got.subarray(0, 65_507).equals(big)).toBe(true);
    const tooBig = Buffer.alloc(65_508);
    const err = systemError(() => sendto(tx, tooBig, to));
    expect(err).toMatchObject({ code: 'EMSGSIZE', errno: -E.EMSGSIZE, syscall: 'sendto', port: to.port });
    connect(tx, to);
    expect(systemError(() => send(tx, tooBig))).toMatchObject({ code: 'EMSGSIZE', syscall: 'send' });
    expect(systemError(() => write(tx, tooBig))).toMatchObject({ code: 'EMSGSIZE', syscall: 'write' });
    expect(systemError(() => sendmsg(tx, { iov: [tooBig.subarray(0, 60_000), tooBig.subarray(60_000)] }))).toMatchObject({ code: 'EMSGSIZE', syscall: 'sendmsg' });
    // Nothing was sent.
    expect(systemError(() => recv(rx, got, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
  });

  it.runIf(ipv6)('IPv6 UDP carries 65,527 bytes (65,535 - 8: the payload length excludes the IPv6 header); 65,528 is EMSGSIZE', () => {
    const rx = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(rx, { family: AF_INET6, address: '::1', port: 0 });
    const tx = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(tx, { family: AF_INET6, address: '::1', port: 0 });
    expect(sendto(tx, Buffer.alloc(65_527, 7), getsockname(rx))).toBe(65_527);
    expect(recv(rx, Buffer.alloc(1), undefined, MSG_TRUNC | MSG_DONTWAIT!)).toBe(65_527);
    expect(systemError(() => sendto(tx, Buffer.alloc(65_528), getsockname(rx)))).toMatchObject({ code: 'EMSGSIZE', syscall: 'sendto' });
  });
});

describe('SO_RCVBUF and SO_SNDBUF: doubled, with a floor and a ceiling', () => {
  for (const [name, opt, sysctl] of [['SO_RCVBUF', SO_RCVBUF, 'rmem_max'], ['SO_SNDBUF', SO_SNDBUF, 'wmem_max']] as const) {
    it(`${name}: 0 and 1 give the kernel's minimum; above it the value is doubled; above ${sysctl} it is 2 × ${sysctl}`, () => {
      const max = Number(readFileSync(`/proc/sys/net/core/${sysctl}`, 'utf8'));
      const s = track(socket(AF_INET, SOCK_STREAM, 0));
      setsockopt(s, SOL_SOCKET, opt, 0);
      const floor = getsockopt(s, SOL_SOCKET, opt);
      expect(floor).toBeGreaterThan(2); // not 0 × 2
      setsockopt(s, SOL_SOCKET, opt, 1);
      expect(getsockopt(s, SOL_SOCKET, opt)).toBe(floor);
      setsockopt(s, SOL_SOCKET, opt, floor);
      expect(getsockopt(s, SOL_SOCKET, opt)).toBe(2 * floor);
      // (A host tuned to a maximum of 1 GiB or more would overflow the doubled int: not checked there.)
      if (max < 2 ** 30) {
        setsockopt(s, SOL_SOCKET, opt, 2 ** 30);
        expect(getsockopt(s, SOL_SOCKET, opt)).toBe(2 * max);
        setsockopt(s, SOL_SOCKET, opt, max + 1);
        expect(getsockopt(s, SOL_SOCKET, opt)).toBe(2 * max);
        setsockopt(s, SOL_SOCKET, opt, max);
        expect(getsockopt(s, SOL_SOCKET, opt)).toBe(2 * max);
      }
    });
  }
});

describe.runIf(ipv6)('IPv4-mapped peers on an IPv6 datagram socket', () => {
  it('V6ONLY off: an IPv4 sender is seen as ::ffff:127.0.0.1, and a reply to that address reaches it', () => {
    const u6 = track(socket(AF_INET6, SOCK_DGRAM, 0));
    setsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    bind(u6, { family: AF_INET6, address: '::ffff:127.0.0.1', port: 0 });
    const u4 = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(u4, { family: AF_INET, address: LO, port: 0 });
    sendto(u4, 'v4', { family: AF_INET, address: LO, port: getsockname(u6).port });
    const buf = Buffer.alloc(8);
    const got = recvfrom(u6, buf, undefined, MSG_DONTWAIT);
    expect(got).toEqual({ n: 2, address: { family: AF_INET6, address: '::ffff:127.0.0.1', port: getsockname(u4).port, flowinfo: 0, scope_id: 0 } });
    sendto(u6, 'back', got.address!);
    expect(recvfrom(u4, buf, undefined, MSG_DONTWAIT)).toEqual({ n: 4, address: { family: AF_INET, address: LO, port: getsockname(u6).port } });
  });

  it('V6ONLY on: sending to a v4-mapped address fails with ENETUNREACH', () => {
    const u4 = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(u4, { family: AF_INET, address: LO, port: 0 });
    const u6 = track(socket(AF_INET6, SOCK_DGRAM, 0));
    setsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    bind(u6, { family: AF_INET6, address: '::1', port: 0 });
    const to = { family: AF_INET6, address: '::ffff:127.0.0.1', port: getsockname(u4).port };
    expect(systemError(() => sendto(u6, 'x', to))).toMatchObject({ code: 'ENETUNREACH', syscall: 'sendto', address: '::ffff:127.0.0.1' });
  });
});

/** Runs fixtures/netns-edges.cjs in a new network namespace; resolves with its report. */
function inNetns(): Promise<Record<string, any>> {
  const child = spawn('unshare', ['-n', process.execPath, path.join(__dirname, 'fixtures', 'netns-edges.cjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(killer);
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`netns child exited ${status} without a report: ${out}\n${err}`));
      }
    });
  });
}

describe.runIf(netns)('addresses the host lacks, and dual stack, in a network namespace of its own', () => {
  let report: Record<string, any> | undefined;
  const get = async () => (report ??= await inNetns());

  it('binding an address the host does not have fails with EADDRNOTAVAIL (::1 with lo down, 127.0.0.1 removed)', async () => {
    const r = await get();
    expect(r.v6Down).toEqual({ code: 'EADDRNOTAVAIL', errno: -E.EADDRNOTAVAIL, syscall: 'bind', address: '::1', message: 'bind EADDRNOTAVAIL ::1' });
    expect(r.v6Up).toBe('ok');
    expect(r.v4Removed).toEqual({
      code: 'EADDRNOTAVAIL', errno: -E.EADDRNOTAVAIL, syscall: 'bind', address: LO, message: 'bind EADDRNOTAVAIL 127.0.0.1',
    });
    expect(r.v4Back).toBe('ok');
  });

  it('dual stack: an IPv6 wildcard listener with V6ONLY off takes IPv4 clients as ::ffff:127.0.0.1 and holds the IPv4 port', async () => {
    const { dual } = await get();
    expect(dual.v6only).toBe(0);
    expect(dual.v4Peer).toEqual({ family: AF_INET6, address: '::ffff:127.0.0.1', port: dual.v4ClientPort, flowinfo: 0, scope_id: 0 });
    expect(dual.v4Local).toEqual({ family: AF_INET6, address: '::ffff:127.0.0.1', port: dual.port, flowinfo: 0, scope_id: 0 });
    expect(dual.v4ClientSeesPeer).toEqual({ family: AF_INET, address: LO, port: dual.port });
    expect(dual.v6Peer).toEqual({ family: AF_INET6, address: '::1', port: dual.v6ClientPort, flowinfo: 0, scope_id: 0 });
    expect(dual.data).toBe('four');
    expect(dual.v4BindSamePort).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', message: `bind EADDRINUSE 127.0.0.1:${dual.port}` });
  });

  it('with V6ONLY on, IPv4 clients are refused and the IPv4 side of the port is free for an IPv4 listener', async () => {
    const { v6only } = await get();
    expect(v6only.refused).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', message: `connect ECONNREFUSED 127.0.0.1:${v6only.port}` });
    expect(v6only.bound4).toEqual({ ok: true });
    expect(v6only.v4Family).toBe(AF_INET);
    expect(v6only.v6Peer).toBe('::1');
  });

  it('a dual-stack UDP socket sees an IPv4 sender as v4-mapped, and its reply comes from the IPv4 port', async () => {
    const { udp } = await get();
    expect(udp.from).toEqual({ family: AF_INET6, address: '::ffff:127.0.0.1', port: udp.port4, flowinfo: 0, scope_id: 0 });
    expect(udp.reply).toBe('reply');
    expect(udp.replyFrom).toEqual({ family: AF_INET, address: LO, port: udp.port6 });
  });
});

describe('AF_UNIX names at their limits', () => {
  const unique = `bs-edges-${process.pid}`;

  it('an abstract name is all its bytes, NULs included: a prefix up to a NUL is another name', () => {
    const name = `\0${unique}\0mid\0`;
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: name });
    listen(srv);
    expect(getsockname(srv)).toEqual({ family: AF_UNIX, path: name });
    for (const other of [`\0${unique}`, `\0${unique}\0mid`, `\0${unique}\0mid\0\0`, `\0${unique}\0MID\0`]) {
      const c = track(socket(AF_UNIX, SOCK_STREAM, 0));
      expect(systemError(() => connect(c, { family: AF_UNIX, path: other })), JSON.stringify(other)).toMatchObject({
        code: 'ECONNREFUSED', syscall: 'connect', path: other,
      });
    }
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, { family: AF_UNIX, path: name });
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path: name });
    track(accept(srv).fd);
    // A name of NULs only is a name too.
    const nuls = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    const allNul = `\0\0${unique}`.replace(/./g, '\0');
    bind(nuls, { family: AF_UNIX, path: allNul });
    expect(getsockname(nuls)).toEqual({ family: AF_UNIX, path: allNul });
  });

  it('an abstract name fills sun_path (NUL + 107 bytes); one byte more is a RangeError for bind, connect and sendto', () => {
    const longest = `\0${unique}`.padEnd(108, 'x');
    expect(Buffer.byteLength(longest)).toBe(108);
    const rx = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(rx, { family: AF_UNIX, path: longest });
    expect(getsockname(rx)).toEqual({ family: AF_UNIX, path: longest });
    const tx = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    expect(sendto(tx, 'max', { family: AF_UNIX, path: longest })).toBe(3);
    expect(recv(rx, Buffer.alloc(4), undefined, MSG_DONTWAIT)).toBe(3);
    const tooLong = { family: AF_UNIX, path: `${longest}y` };
    const rangeError = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
    const t = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    expect(thrown(() => bind(t, tooLong))).toMatchObject(rangeError);
    expect(thrown(() => connect(t, tooLong))).toMatchObject(rangeError);
    expect(thrown(() => sendto(t, 'x', tooLong))).toMatchObject(rangeError);
    expect(getsockname(t)).toEqual({ family: AF_UNIX, path: '' }); // nothing was bound
  });

  it('a filesystem path of 109 bytes (one more than sun_path holds) is a RangeError, never truncated', () => {
    // 108 bytes works on Linux (sun_path filled, no NUL: unix.test.ts); 109 cannot fit.
    const p109 = `/tmp/${unique}-`.padEnd(109, 'p');
    expect(Buffer.byteLength(p109)).toBe(109);
    const s = track(socket(AF_UNIX, SOCK_STREAM, 0));
    for (const call of [() => bind(s, { family: AF_UNIX, path: p109 }), () => connect(s, { family: AF_UNIX, path: p109 })]) {
      expect(thrown(call)).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    // Characters count as their UTF-8 bytes: '/' and 54 × 'é' are 55 characters but 109 bytes.
    expect(thrown(() => bind(s, { family: AF_UNIX, path: `/${'é'.repeat(54)}` }))).toMatchObject({ name: 'RangeError' });
  });
});

describe('a descriptor that is not a socket', () => {
  it('every socket call on a regular file fails with the kernel\'s ENOTSOCK, naming the call', () => {
    const f = openSync(__filename, 'r');
    try {
      const buf = Buffer.alloc(8);
      const to = { family: AF_INET, address: LO, port: 9 };
      const cases: Array<[string, () => unknown]> = [
        ['bind', () => bind(f, { family: AF_INET, address: LO, port: 0 })],
        ['listen', () => listen(f)],
        ['accept', () => accept(f)],
        ['connect', () => connect(f, to)],
        ['getsockname', () => getsockname(f)],
        ['getpeername', () => getpeername(f)],
        ['getsockopt', () => getsockopt(f, SOL_SOCKET, SO_TYPE)],
        ['setsockopt', () => setsockopt(f, SOL_SOCKET, SO_REUSEADDR, 1)],
        ['shutdown', () => shutdown(f, SHUT_RDWR)],
        ['send', () => send(f, 'x')],
        ['recv', () => recv(f, buf)],
        ['sendto', () => sendto(f, 'x', to)],
        ['recvfrom', () => recvfrom(f, buf)],
        ['sendmsg', () => sendmsg(f, { iov: [buf] })],
        ['recvmsg', () => recvmsg(f, { iov: [buf] })],
      ];
      for (const [syscall, call] of cases) {
        expect(systemError(call), syscall).toMatchObject({ code: 'ENOTSOCK', errno: -E.ENOTSOCK, syscall });
      }
      // read(2) is not a socket call: on a file it reads the file, as in C.
      expect(read(f, buf)).toBe(8);
      expect(buf.toString('latin1', 0, 2)).toBe('//');
    } finally {
      closeSync(f);
    }
  });
});
