// Typed socket options: every kind round-trips through the kernel (set, then get what it applied).
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_UNIX, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP, IP_MULTICAST_TTL, IP_TOS, IP_TTL, IPV6_JOIN_GROUP, IPV6_V6ONLY, SOCK_DGRAM, SOCK_STREAM,
  SOL_SOCKET, SO_ACCEPTCONN, SO_BINDTODEVICE, SO_BROADCAST, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_PEERCRED,
  SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE, TCP_CONGESTION, TCP_INFO,
  TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY, TCP_QUICKACK, TCP_USER_TIMEOUT,
  TCP_ESTABLISHED, type SocketHandle, getKeepAlive, getsockopt, if_nametoindex, optionKind, read, setKeepAlive,
  setsockopt, socket, socketpair, write,
} from '../src/index';
import { canRun, isRoot, tcpPair } from './helpers';

const opened: SocketHandle[] = [];
const track = <T extends SocketHandle>(h: T) => (opened.push(h), h);
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
});
const tcp = () => track(socket(AF_INET, SOCK_STREAM, 0));
const udp = () => track(socket(AF_INET, SOCK_DGRAM, 0));

describe('int options', () => {
  it.each([
    ['SO_REUSEADDR', SOL_SOCKET, SO_REUSEADDR],
    ['SO_REUSEPORT', SOL_SOCKET, SO_REUSEPORT!],
    ['SO_KEEPALIVE', SOL_SOCKET, SO_KEEPALIVE],
    ['TCP_NODELAY', IPPROTO_TCP, TCP_NODELAY],
  ])('%s: true reads back 1, false reads back 0', (_, level, name) => {
    const s = tcp();
    expect(optionKind(level, name)).toBe('int');
    setsockopt(s, level, name, true);
    expect(getsockopt(s, level, name)).toBe(1);
    setsockopt(s, level, name, false);
    expect(getsockopt(s, level, name)).toBe(0);
  });

  it('SO_BROADCAST, IP_TTL, IP_TOS, IP_MULTICAST_TTL/LOOP on UDP', () => {
    const s = udp();
    setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1);
    expect(getsockopt(s, SOL_SOCKET, SO_BROADCAST)).toBe(1);
    setsockopt(s, IPPROTO_IP, IP_TTL, 7);
    expect(getsockopt(s, IPPROTO_IP, IP_TTL)).toBe(7);
    setsockopt(s, IPPROTO_IP, IP_TOS, 0x10);
    expect(getsockopt(s, IPPROTO_IP, IP_TOS)).toBe(0x10);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, 3);
    expect(getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL)).toBe(3);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    expect(getsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP)).toBe(0);
  });

  it('SO_RCVBUF / SO_SNDBUF read back doubled, as socket(7) says, even before connect', () => {
    const s = tcp();
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, 32768);
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, 32768);
    expect(getsockopt(s, SOL_SOCKET, SO_RCVBUF)).toBe(65536);
    expect(getsockopt(s, SOL_SOCKET, SO_SNDBUF)).toBe(65536);
  });

  it('read-only ints: SO_TYPE, SO_ERROR, SO_ACCEPTCONN; TCP timers and TCP_MAXSEG', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    expect(getsockopt(cli, SOL_SOCKET, SO_TYPE)).toBe(SOCK_STREAM);
    expect(getsockopt(cli, SOL_SOCKET, SO_ERROR)).toBe(0);
    expect(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    expect(getsockopt(cli, SOL_SOCKET, SO_ACCEPTCONN)).toBe(0);
    setsockopt(cli, IPPROTO_TCP, TCP_KEEPIDLE!, 11);
    setsockopt(cli, IPPROTO_TCP, TCP_KEEPINTVL!, 3);
    setsockopt(cli, IPPROTO_TCP, TCP_KEEPCNT!, 5);
    setsockopt(cli, IPPROTO_TCP, TCP_USER_TIMEOUT!, 4000);
    setsockopt(cli, IPPROTO_TCP, TCP_QUICKACK!, 1);
    expect([TCP_KEEPIDLE!, TCP_KEEPINTVL!, TCP_KEEPCNT!, TCP_USER_TIMEOUT!].map((o) => getsockopt(cli, IPPROTO_TCP, o))).toEqual([11, 3, 5, 4000]);
    expect(getsockopt(cli, IPPROTO_TCP, TCP_MAXSEG!)).toBeGreaterThan(500);
  });

  it('IPV6_V6ONLY on an IPv6 socket', () => {
    const s = track(socket(AF_INET6, SOCK_STREAM, 0));
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    expect(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
  });
});

describe('structured options', () => {
  it('SO_RCVTIMEO / SO_SNDTIMEO take milliseconds or a timeval and read back a timeval', () => {
    const s = tcp();
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, 1500);
    expect(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO)).toEqual({ tv_sec: 1, tv_usec: 500_000 });
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 2, tv_usec: 500_000 });
    expect(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO)).toEqual({ tv_sec: 2, tv_usec: 500_000 });
    // The kernel keeps timeouts in clock ticks and rounds up: 2.25 s reads back as at least 2.25 s.
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 2, tv_usec: 250_000 });
    const back = getsockopt(s, SOL_SOCKET, SO_SNDTIMEO);
    expect(back.tv_sec * 1e6 + back.tv_usec).toBeGreaterThanOrEqual(2_250_000);
    expect(back.tv_sec * 1e6 + back.tv_usec).toBeLessThan(2_261_000);
    expect(() => setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 1, tv_usec: 2_000_000 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('SO_LINGER takes and returns { l_onoff, l_linger }', () => {
    const s = tcp();
    expect(getsockopt(s, SOL_SOCKET, SO_LINGER)).toEqual({ l_onoff: 0, l_linger: 0 });
    setsockopt(s, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 7 });
    expect(getsockopt(s, SOL_SOCKET, SO_LINGER)).toEqual({ l_onoff: 1, l_linger: 7 });
  });

  it('SO_LINGER {1, 0} makes close() reset the connection: the peer reads ECONNRESET', () => {
    const { cli, conn, srv } = tcpPair();
    track(conn);
    track(srv);
    setsockopt(cli, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 });
    cli.close();
    expect(() => read(conn, Buffer.alloc(4))).toThrow(expect.objectContaining({ code: 'ECONNRESET' }));
  });

  it('SO_PEERCRED names the process at the other end of an AF_UNIX socket', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    expect(getsockopt(a, SOL_SOCKET, SO_PEERCRED)).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    expect(b.closed).toBe(false);
  });

  it('TCP_CONGESTION is a string, and can be set to reno', () => {
    const s = tcp();
    expect(typeof getsockopt(s, IPPROTO_TCP, TCP_CONGESTION!)).toBe('string');
    setsockopt(s, IPPROTO_TCP, TCP_CONGESTION!, 'reno');
    expect(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION!)).toBe('reno');
  });

  it('TCP_INFO decodes an established connection: state, rtt, segments, bytes', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    write(cli, 'x'.repeat(1000));
    read(conn, Buffer.alloc(1000));
    const info = getsockopt(cli, IPPROTO_TCP, TCP_INFO!);
    expect(info.state).toBe(TCP_ESTABLISHED);
    expect(info.stateName).toBe('ESTABLISHED');
    expect(info.rtt).toBeGreaterThan(0);
    expect(info.snd_mss).toBeGreaterThan(500);
    expect(info.segs_out).toBeGreaterThanOrEqual(2);
    expect(info.bytes_acked).toBeGreaterThanOrEqual(1000);
    expect(info.probes).toBe(0);
    expect(getsockopt(srv, IPPROTO_TCP, TCP_INFO!).stateName).toBe('LISTEN');
  });

  it('IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP with ip_mreq and ip_mreqn; IPV6_JOIN_GROUP', () => {
    const s = udp();
    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, { imr_multiaddr: '239.1.2.3', imr_interface: '127.0.0.1' });
    // Joining twice is EADDRINUSE: proof the first join took effect.
    expect(() => setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, { imr_multiaddr: '239.1.2.3', imr_interface: '127.0.0.1' }))
      .toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    setsockopt(s, IPPROTO_IP, IP_DROP_MEMBERSHIP, { imr_multiaddr: '239.1.2.3', imr_interface: '127.0.0.1' });
    expect(() => setsockopt(s, IPPROTO_IP, IP_DROP_MEMBERSHIP, { imr_multiaddr: '239.1.2.3', imr_interface: '127.0.0.1' }))
      .toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, { imr_multiaddr: '239.1.2.4', imr_ifindex: if_nametoindex('lo') });
    const s6 = track(socket(AF_INET6, SOCK_DGRAM, 0));
    setsockopt(s6, IPPROTO_IPV6, IPV6_JOIN_GROUP, { ipv6mr_multiaddr: 'ff02::1:3', ipv6mr_interface: if_nametoindex('lo') });
    expect(() => setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, { imr_multiaddr: 'not an address' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it.runIf(canRun('SO_BINDTODEVICE needs root (CAP_NET_RAW)', isRoot))('SO_BINDTODEVICE takes and returns an interface name', () => {
    const s = udp();
    setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE!, 'lo');
    expect(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE!)).toBe('lo');
    expect(() => setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE!, 'no-such-if0')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
  });
});

describe('option errors and the raw form', () => {
  it('rejects a value of the wrong type for the option', () => {
    const s = tcp();
    expect(() => setsockopt(s, SOL_SOCKET, SO_LINGER, 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, 'soon' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 'yes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => setsockopt(s, IPPROTO_TCP, TCP_INFO!, {} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('reports an unknown option as the kernel does (ENOPROTOOPT)', () => {
    const s = tcp();
    expect(optionKind(SOL_SOCKET, 9999)).toBeUndefined();
    expect(() => getsockopt(s, SOL_SOCKET, 9999)).toThrow(expect.objectContaining({ code: 'ENOPROTOOPT', syscall: 'getsockopt' }));
    expect(() => setsockopt(s, SOL_SOCKET, 9999, 1)).toThrow(expect.objectContaining({ code: 'ENOPROTOOPT', syscall: 'setsockopt' }));
  });

  it('gives and takes raw bytes for any option', () => {
    const s = tcp();
    setsockopt(s, SOL_SOCKET, SO_LINGER, Buffer.from([1, 0, 0, 0, 9, 0, 0, 0]));
    expect(getsockopt(s, SOL_SOCKET, SO_LINGER)).toEqual({ l_onoff: 1, l_linger: 9 });
    const raw = getsockopt(s, SOL_SOCKET, SO_LINGER, 8);
    expect([...raw]).toEqual([1, 0, 0, 0, 9, 0, 0, 0]);
  });
});

describe('setKeepAlive / getKeepAlive', () => {
  it('sets all timers in one call and reads back what the kernel applied', () => {
    const s = tcp();
    setKeepAlive(s, { idle: 7, interval: 3, count: 4, userTimeout: 9000 });
    expect(getKeepAlive(s)).toEqual({ enable: true, idle: 7, interval: 3, count: 4, userTimeout: 9000 });
    setKeepAlive(s, { enable: false });
    expect(getKeepAlive(s)).toMatchObject({ enable: false, idle: 7 });
  });

  it('checks every value before changing anything', () => {
    const s = tcp();
    setKeepAlive(s, { idle: 5, interval: 5, count: 5 });
    expect(() => setKeepAlive(s, { idle: 2, interval: 0, count: 9 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(getKeepAlive(s)).toMatchObject({ idle: 5, interval: 5, count: 5 });
  });
});
