// Every option of the registry, on a real socket: the settable ones round-trip (set, then get what the
// kernel applied), the read-only ones read, and the table below must name every registry entry.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as B from '../src/index';
import { OPTION_TABLE } from '../src/option-table';
import { isRoot, tcpPair } from './helpers';

const C = B as unknown as Record<string, number | undefined>;
type Make = () => B.SocketHandle;
const tcp: Make = () => B.socket(B.AF_INET, B.SOCK_STREAM, 0);
const udp: Make = () => B.socket(B.AF_INET, B.SOCK_DGRAM, 0);
const tcp6: Make = () => B.socket(B.AF_INET6, B.SOCK_STREAM, 0);
const udp6: Make = () => B.socket(B.AF_INET6, B.SOCK_DGRAM, 0);
const unix: Make = () => B.socket(B.AF_UNIX, B.SOCK_STREAM, 0);
const raw: Make = () => B.socket(B.AF_INET, B.SOCK_RAW, B.IPPROTO_UDP);
const listener: Make = () => {
  const s = tcp();
  B.bind(s, { family: B.AF_INET, address: '127.0.0.1', port: 0 });
  B.listen(s);
  return s;
};

/** [option, socket, value to set, what getsockopt must then return (default: the value)]. */
const roundTrips: [string, Make, unknown, unknown?][] = [
  ['SO_REUSEADDR', tcp, 1], ['SO_REUSEPORT', tcp, 1], ['SO_DONTROUTE', tcp, 1], ['SO_BROADCAST', udp, 1],
  ['SO_SNDBUF', tcp, 8192, 16384], ['SO_RCVBUF', tcp, 8192, 16384], ['SO_KEEPALIVE', tcp, 1],
  ['SO_OOBINLINE', tcp, 1], ['SO_RCVLOWAT', tcp, 10], ['SO_PRIORITY', tcp, 3], ['SO_NO_CHECK', udp, 1],
  ['SO_TIMESTAMP', udp, 1], ['SO_TIMESTAMPNS', udp, 1], ['SO_PASSCRED', unix, 1], ['SO_INCOMING_CPU', tcp, 0],
  ['SO_LOCK_FILTER', udp, 1],
  // Read back as SO_GET_FILTER (the same number): the program the kernel keeps.
  ['SO_ATTACH_FILTER', udp, [B.BPF_STMT(B.BPF_RET | B.BPF_K, 0xffff)]],
  ['SO_LINGER', tcp, { l_onoff: 1, l_linger: 5 }], ['SO_RCVTIMEO', tcp, 2500, { tv_sec: 2, tv_usec: 500_000 }],
  ['SO_SNDTIMEO', tcp, { tv_sec: 3, tv_usec: 0 }],
  ['TCP_NODELAY', tcp, 1], ['TCP_CORK', tcp, 1], ['TCP_KEEPIDLE', tcp, 30], ['TCP_KEEPINTVL', tcp, 10],
  ['TCP_KEEPCNT', tcp, 4], ['TCP_SYNCNT', tcp, 3], ['TCP_LINGER2', tcp, 20], ['TCP_USER_TIMEOUT', tcp, 5000],
  ['TCP_NOTSENT_LOWAT', tcp, 16384], ['TCP_FASTOPEN', listener, 5], ['TCP_WINDOW_CLAMP', tcp, 20000],
  ['TCP_MAXSEG', tcp, 1000], ['TCP_CONGESTION', tcp, 'reno'],
  ['IP_TOS', udp, 0x10], ['IP_TTL', udp, 9], ['IP_RECVERR', udp, 1], ['IP_PKTINFO', udp, 1], ['IP_RECVTTL', udp, 1],
  ['IP_RECVTOS', udp, 1], ['IP_MTU_DISCOVER', udp, 0], ['IP_FREEBIND', udp, 1], ['IP_BIND_ADDRESS_NO_PORT', tcp, 1],
  ['IP_MULTICAST_TTL', udp, 4], ['IP_MULTICAST_LOOP', udp, 0], ['IP_MULTICAST_ALL', udp, 0],
  ['IPV6_V6ONLY', tcp6, 1], ['IPV6_UNICAST_HOPS', udp6, 9], ['IPV6_MULTICAST_HOPS', udp6, 4],
  ['IPV6_MULTICAST_LOOP', udp6, 0], ['IPV6_RECVPKTINFO', udp6, 1], ['IPV6_TCLASS', udp6, 0x20],
  ['IPV6_RECVERR', udp6, 1], ['IPV6_RECVHOPLIMIT', udp6, 1], ['IPV6_RECVTCLASS', udp6, 1],
];
/** Options that need CAP_NET_ADMIN / CAP_NET_RAW (root in CI). */
const privileged: [string, Make, unknown, unknown?][] = [
  ['SO_DEBUG', tcp, 1], ['SO_MARK', tcp, 7], ['SO_BUSY_POLL', tcp, 50], ['IP_TRANSPARENT', tcp, 1],
  ['IP_HDRINCL', raw, 1], ['SO_BINDTODEVICE', udp, 'lo'],
];
/** Read-only options: what they must read on the given socket. */
const readOnly: [string, Make, (v: unknown) => boolean][] = [
  ['SO_TYPE', udp, (v) => v === B.SOCK_DGRAM], ['SO_ERROR', tcp, (v) => v === 0],
  ['SO_ACCEPTCONN', listener, (v) => v === 1], ['SO_PROTOCOL', tcp, (v) => v === B.IPPROTO_TCP],
  ['SO_DOMAIN', tcp6, (v) => v === B.AF_INET6], ['TCP_INFO', listener, (v) => (v as B.TcpInfo).stateName === 'LISTEN'],
  ['SO_GET_FILTER', udp, (v) => Array.isArray(v) && v.length === 0],
];
/** Covered elsewhere, for the reason given. */
const elsewhere: Record<string, string> = {
  SO_PEERCRED: 'options.test.ts (needs a connected AF_UNIX pair)',
  SO_SNDBUFFORCE: 'write-only: below, read back through SO_SNDBUF', SO_RCVBUFFORCE: 'write-only: below',
  SO_SNDLOWAT: 'not changeable on Linux (socket(7)): below', SO_BSDCOMPAT: 'ignored by Linux (socket(7))',
  TCP_DEFER_ACCEPT: 'the kernel rounds it to retransmission periods: below',
  TCP_QUICKACK: 'reports the current ack mode, not the setting (tcp(7)): below',
  IP_MTU: 'needs a connected socket: below', IPV6_MTU: 'needs a connected socket: below',
  IPV6_MULTICAST_IF: 'takes an interface index: below',
  IPV6_HOPLIMIT: 'the type of the control message IPV6_RECVHOPLIMIT asks for (RFC 3542): message.test.ts',
  IP_ADD_MEMBERSHIP: 'options.test.ts', IP_DROP_MEMBERSHIP: 'options.test.ts',
  IPV6_JOIN_GROUP: 'options.test.ts', IPV6_LEAVE_GROUP: 'options.test.ts',
  SO_NOSIGPIPE: 'macOS only', TCP_KEEPALIVE: 'macOS only (TCP_KEEPIDLE elsewhere)',
  SO_DETACH_FILTER: 'write-only, ENOENT without a filter: packet.test.ts',
  PACKET_ADD_MEMBERSHIP: 'packet.test.ts (an AF_PACKET socket needs CAP_NET_RAW)',
  PACKET_DROP_MEMBERSHIP: 'packet.test.ts (an AF_PACKET socket needs CAP_NET_RAW)',
};

function level(name: string): number {
  const row = OPTION_TABLE.find(([, n]) => n === name);
  return C[row![0]]!;
}

function roundTrip([name, make, value, expected]: [string, Make, unknown, unknown?]) {
  const s = make();
  try {
    B.setsockopt(s, level(name), C[name]!, value as never);
    expect(B.getsockopt(s, level(name), C[name]!)).toEqual(expected ?? value);
  } finally {
    s.close();
  }
}

describe('the option registry', () => {
  it('names every option this platform has in one of the tables', () => {
    const named = new Set([...roundTrips, ...privileged, ...readOnly].map(([n]) => n).concat(Object.keys(elsewhere)));
    const missing = OPTION_TABLE.filter(([, n]) => C[n] !== undefined && !named.has(n)).map(([, n]) => n);
    expect(missing).toEqual([]);
  });

  it.each(roundTrips.filter(([n]) => C[n] !== undefined))('%s round-trips', (...row) => roundTrip(row as never));

  it.each(privileged.filter(([n]) => C[n] !== undefined))('%s round-trips (root)', (...row) => {
    if (!isRoot) {
      expect(() => roundTrip(row as never)).toThrow(expect.objectContaining({ code: expect.stringMatching(/EPERM|EACCES/) }));
      return;
    }
    roundTrip(row as never);
  });

  it.each(readOnly.filter(([n]) => C[n] !== undefined))('%s reads what the socket is', (name, make, check) => {
    const s = make();
    try {
      expect(check(B.getsockopt(s, level(name), C[name]!))).toBe(true);
    } finally {
      s.close();
    }
  });

  it('the special cases: *FORCE, SNDLOWAT, DEFER_ACCEPT, QUICKACK, MTU, IPV6_MULTICAST_IF', () => {
    const s = tcp();
    const l = listener();
    const u6 = udp6();
    const { cli, conn, srv } = tcpPair();
    try {
      if (isRoot) {
        B.setsockopt(s, B.SOL_SOCKET, B.SO_SNDBUFFORCE!, 4096);
        expect(B.getsockopt(s, B.SOL_SOCKET, B.SO_SNDBUF)).toBe(8192);
      }
      expect(() => B.setsockopt(s, B.SOL_SOCKET, B.SO_SNDLOWAT, 10)).toThrow(expect.objectContaining({ code: 'ENOPROTOOPT' }));
      B.setsockopt(l, B.IPPROTO_TCP, B.TCP_DEFER_ACCEPT!, 5);
      expect(B.getsockopt(l, B.IPPROTO_TCP, B.TCP_DEFER_ACCEPT!)).toBeGreaterThanOrEqual(5);
      B.setsockopt(cli, B.IPPROTO_TCP, B.TCP_QUICKACK!, 1);
      expect([0, 1]).toContain(B.getsockopt(cli, B.IPPROTO_TCP, B.TCP_QUICKACK!));
      const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));
      // The path MTU over lo is lo's MTU, capped at IP_MAX_MTU (65535: an IPv4 length is 16 bits).
      expect(B.getsockopt(cli, B.IPPROTO_IP, B.IP_MTU!)).toBe(Math.min(loMtu, 65535));
      expect(() => B.getsockopt(s, B.IPPROTO_IP, B.IP_MTU!)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
      const lo = B.if_nametoindex('lo');
      B.setsockopt(u6, B.IPPROTO_IPV6, B.IPV6_MULTICAST_IF, lo);
      expect(B.getsockopt(u6, B.IPPROTO_IPV6, B.IPV6_MULTICAST_IF)).toBe(lo);
    } finally {
      [s, l, u6, cli, conn, srv].forEach((h) => h.close());
    }
  });
});
