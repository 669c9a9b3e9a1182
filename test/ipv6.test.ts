// IPv6 over ::1: TCP and UDP, the sockaddr_in6 fields every returned address carries (flowinfo,
// scope_id), IPV6_V6ONLY, and IPv4-mapped addresses on a dual-stack socket (loopback only).
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, MSG_TRUNC, SOCK_DGRAM, SOCK_STREAM, SystemError, type SocketHandle,
  accept, bind, connect, getpeername, getsockname, getsockopt, listen, read, readExactly, recv, recvfrom, sendto,
  setsockopt, shutdown, SHUT_WR, socket, write,
} from '../src/index';
import { canRun, noLeakedFds, trackHandles, systemError, hasIPv6Loopback } from './helpers';

const E = constants.errno;


const ipv6 = canRun('IPv6 loopback (::1)', hasIPv6Loopback());

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const track = trackHandles();


const loop6 = (port: number) => ({ family: AF_INET6, address: '::1', port });

describe.runIf(ipv6)('TCP over ::1', () => {
  it('connects and accepts, with full sockaddr_in6 addresses on both sides', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(srv, loop6(0));
    listen(srv);
    const local = getsockname(srv);
    expect(local).toEqual({ family: AF_INET6, address: '::1', port: local.port, flowinfo: 0, scope_id: 0 });
    expect(local.port).toBeGreaterThan(0);

    const cli = track(socket(AF_INET6, SOCK_STREAM, 0));
    connect(cli, loop6(local.port));
    const cliName = getsockname(cli);
    expect(cliName.address).toBe('::1');
    expect(cliName.port).toBeGreaterThan(0);
    expect(cliName).toHaveProperty('flowinfo', 0);
    expect(cliName).toHaveProperty('scope_id', 0);

    const { fd: conn, address } = accept(srv);
    track(conn);
    expect(address).toEqual(cliName);
    expect(Object.keys(address).sort()).toEqual(['address', 'family', 'flowinfo', 'port', 'scope_id']);
    expect(getpeername(cli)).toEqual(local);
    expect(getpeername(conn)).toEqual(cliName);

    expect(write(cli, 'six')).toBe(3);
    const buf = Buffer.alloc(8);
    expect(readExactly(conn, buf, 3)).toBe(3);
    expect(buf.toString('utf8', 0, 3)).toBe('six');
    shutdown(cli, SHUT_WR);
    expect(read(conn, buf)).toBe(0);
  });

  it('fails with ECONNREFUSED, naming [::1]:port', () => {
    const holder = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(holder, loop6(0));
    const { port } = getsockname(holder);
    const cli = track(socket(AF_INET6, SOCK_STREAM, 0));
    const err = systemError(() => connect(cli, loop6(port)));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-E.ECONNREFUSED);
    expect(err.address).toBe('::1');
    expect(err.port).toBe(port);
    expect(err.message).toBe(`connect ECONNREFUSED [::1]:${port}`);
  });

  it('fails with EADDRINUSE, naming [::1]:port', () => {
    const a = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(a, loop6(0));
    listen(a);
    const { port } = getsockname(a);
    const b = track(socket(AF_INET6, SOCK_STREAM, 0));
    const err = systemError(() => bind(b, loop6(port)));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe(`bind EADDRINUSE [::1]:${port}`);
  });

  it('an IPv6 socket given an IPv4 address fails with EINVAL (the sockaddr is too short)', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM, 0));
    const err = systemError(() => bind(s, { family: AF_INET, address: '127.0.0.1', port: 0 }));
    expect(err.code).toBe('EINVAL');
    expect(err.message).toBe('bind EINVAL 127.0.0.1');
  });
});

describe.runIf(ipv6)('UDP over ::1', () => {
  it('sendto/recvfrom report the sender with flowinfo and scope_id', () => {
    const a = track(socket(AF_INET6, SOCK_DGRAM, 0));
    const b = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(a, loop6(0));
    bind(b, loop6(0));
    const aName = getsockname(a);
    const bName = getsockname(b);
    expect(sendto(a, 'datagram6', bName)).toBe(9);
    const buf = Buffer.alloc(32);
    const got = recvfrom(b, buf);
    expect(got.n).toBe(9);
    expect(buf.toString('utf8', 0, 9)).toBe('datagram6');
    expect(got.address).toEqual({ family: AF_INET6, address: '::1', port: aName.port, flowinfo: 0, scope_id: 0 });
    // Reply through the returned address object, as a UDP server does.
    sendto(b, 'ack', got.address!);
    expect(recvfrom(a, buf)).toEqual({ n: 3, address: bName });
  });

  it('keeps datagram boundaries and reports truncation', () => {
    const a = track(socket(AF_INET6, SOCK_DGRAM, 0));
    const b = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(a, loop6(0));
    bind(b, loop6(0));
    const to = getsockname(b);
    sendto(a, Buffer.alloc(39, 1), to);
    sendto(a, 'x', to);
    const buf = Buffer.alloc(24);
    expect(recv(b, buf, undefined, MSG_TRUNC)).toBe(39);
    expect(recv(b, buf)).toBe(1);
  });

  it('accepts the sockaddr_in6 fields as input: an explicit scope_id 0 and flowinfo 0', () => {
    const a = track(socket(AF_INET6, SOCK_DGRAM, 0));
    const b = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(a, { family: AF_INET6, address: '::1', port: 0, flowinfo: 0, scope_id: 0 });
    bind(b, loop6(0));
    const { port } = getsockname(b);
    expect(sendto(a, 'fields', { family: AF_INET6, address: '::1', port, flowinfo: 0, scope_id: 0 })).toBe(6);
    expect(recvfrom(b, Buffer.alloc(8)).address?.port).toBe(getsockname(a).port);
  });
});

describe.runIf(ipv6)('IPV6_V6ONLY', () => {
  it('reads back what was set', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM, 0));
    const initial = getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY);
    expect([0, 1]).toContain(initial);
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, true);
    expect(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, false);
    expect(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
  });

  it('off: an IPv6 socket bound to ::ffff:127.0.0.1 accepts an IPv4 client, seen as a mapped address', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM, 0));
    setsockopt(srv, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    bind(srv, { family: AF_INET6, address: '::ffff:127.0.0.1', port: 0 });
    listen(srv);
    const { port } = getsockname(srv);
    expect(getsockname(srv).address).toBe('::ffff:127.0.0.1');
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: '127.0.0.1', port });
    const { fd, address } = accept(srv);
    track(fd);
    expect(address).toEqual({
      family: AF_INET6, address: '::ffff:127.0.0.1', port: getsockname(cli).port, flowinfo: 0, scope_id: 0,
    });
  });

  it('on: binding an IPv4-mapped address fails with EINVAL', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM, 0));
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    const err = systemError(() => bind(s, { family: AF_INET6, address: '::ffff:127.0.0.1', port: 0 }));
    expect(err.code).toBe('EINVAL');
    expect(err.message).toBe('bind EINVAL ::ffff:127.0.0.1');
  });

  it('cannot be changed once the socket is bound', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(s, loop6(0));
    const err = systemError(() => setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    expect(err.code).toBe('EINVAL');
    expect(err.syscall).toBe('setsockopt');
  });
});
