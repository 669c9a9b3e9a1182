// Packet capture with the library's own packet sockets (src/capture/): the filter compiler against
// tcpdump's (the same program for one form, the same verdicts for forms joined by and), the decoder
// on frames built by hand, and captures on lo checked against tcpdump -w in the same run — every
// packet, in the same order, with the same bytes, lengths and microsecond timestamps, and tcpdump's
// own reading of them. Capturing needs CAP_NET_RAW: those tests run as root (CI) and are skipped
// elsewhere with the reason printed; without the capability, capture fails with EPERM.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AF_PACKET, ARPHRD_LOOPBACK, ARPHRD_NONE, BPF_A, BPF_H, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_LD, BPF_LDX, BPF_MSH, BPF_RET, BPF_W, type CapturedPacket, ETH_P_ALL, ETH_P_ARP, ETH_P_IP,
  ETH_P_IPV6, ETH_P_RARP, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
  IPPROTO_TCP, IPPROTO_UDP, MSG_DONTWAIT, PACKET_HOST, PACKET_OUTGOING, POLLIN, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, SOL_SOCKET,
  SO_ATTACH_FILTER, type SockFilter, SystemError, type TcpOption, accept, bind, close, compileFilter, connect,
  decodePacket, getsockname, htons, inet_pton, listen, openCapture, parseFilter, poll, recv, recvfrom, send, sendto,
  setsockopt, socket,
} from '../src/index';
import { type PacketStream, capture } from '../src/promises';
import { canRun, hasCommand, isRoot, jsonReport, noLeakedFds, systemError, thrown, trackHandles } from './helpers';
import { startTcpdump as tcpdump } from './tcpdump';

const linux = process.platform === 'linux';
const dist = path.join(__dirname, '..', 'dist');
const track = trackHandles();
noLeakedFds();

const asRoot = linux && canRun('capturing needs CAP_NET_RAW: run as root', isRoot);
const withTcpdump = linux && canRun('comparing with tcpdump needs root and tcpdump', isRoot && hasCommand('tcpdump'));
const hasTcpdump = linux && canRun('comparing with tcpdump\'s compiler needs tcpdump', hasCommand('tcpdump'));

// ── A classic BPF interpreter (the kernel's semantics for what these programs use) ─────────────────

/** What `prog` returns for `pkt`: the bytes to keep, 0 to drop; a load past the end drops, as in the kernel. */
function runBpf(prog: SockFilter[], pkt: Uint8Array): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc];
    const cls = code & 0x07;
    if (cls === BPF_LD) {
      const size = code & 0x18;
      const at = (code & 0xe0) === BPF_IND ? x + k : k;
      const n = size === BPF_W ? 4 : size === BPF_H ? 2 : 1;
      if (at + n > pkt.length) return 0;
      a = n === 4 ? Buffer.from(pkt).readUInt32BE(at) : n === 2 ? (pkt[at] << 8) | pkt[at + 1] : pkt[at];
    } else if (cls === BPF_LDX) {
      expect(code & 0xe0).toBe(BPF_MSH);
      if (k >= pkt.length) return 0;
      x = (pkt[k] & 0x0f) * 4;
    } else if (cls === BPF_JMP) {
      const op = code & 0xf0;
      if (op === BPF_JA) {
        pc += k;
        continue;
      }
      const t = op === BPF_JEQ ? a === k : op === BPF_JSET ? (a & k) !== 0 : op === BPF_JGT ? a > k : op === BPF_JGE ? a >= k : NaN;
      expect(t, `opcode 0x${code.toString(16)}`).not.toBeNaN();
      pc += t ? jt : jf;
    } else if (cls === BPF_RET) {
      return (code & 0x18) === BPF_A ? a : k;
    } else {
      throw new Error(`opcode 0x${code.toString(16)} is not interpreted here`);
    }
  }
  return 0;
}

/** The program `tcpdump -dd` compiles for `expr` on lo. */
function tcpdumpProgram(expr: string, snaplen?: number): SockFilter[] {
  const args = ['-dd', '-i', 'lo', ...(snaplen ? ['-s', String(snaplen)] : []), expr];
  const out = execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return [...out.matchAll(/\{ (0x[0-9a-f]+), (\d+), (\d+), (0x[0-9a-f]+) \}/g)].map((m) => ({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) }));
}

// ── Frames built by hand ───────────────────────────────────────────────────────────────────────────

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const MAC_A = Buffer.from([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B = Buffer.from([0x02, 0, 0, 0, 0, 0x0b]);
const ether = (type: number, payload: Buffer) => Buffer.concat([MAC_B, MAC_A, u16(type), payload]);

function ip4(proto: number, src: string, dst: string, payload: Buffer, o: { frag?: number; options?: Buffer } = {}): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ((20 + opt.length) / 4);
  h.writeUInt16BE(20 + opt.length + payload.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(o.frag ?? 0x4000, 6); // DF
  h[8] = 64;
  h[9] = proto;
  inet_pton(AF_INET, src).copy(h, 12);
  inet_pton(AF_INET, dst).copy(h, 16);
  return Buffer.concat([h, opt, payload]);
}

function ip6(next: number, src: string, dst: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x6001_2345, 0); // version 6, traffic class 0, flow label 0x12345
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = 63;
  inet_pton(AF_INET6, src).copy(h, 8);
  inet_pton(AF_INET6, dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function tcpSeg(sport: number, dport: number, flags = 0x02, options = Buffer.alloc(0), data = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(0xfffffff0, 4);
  h.writeUInt32BE(7, 8);
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(512, 14);
  return Buffer.concat([h, options, data]);
}

function udpDg(sport: number, dport: number, data = Buffer.from('hi')): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + data.length, 4);
  return Buffer.concat([h, data]);
}

/** An extension header: next header, length in 8-byte units beyond the first, padding. */
const ext = (next: number, units = 0) => Buffer.concat([Buffer.from([next, units]), Buffer.alloc(6 + units * 8)]);
const frag6 = (next: number, offset: number) => Buffer.concat([Buffer.from([next, 0]), u16(offset | 1), Buffer.from([0, 0, 0, 9])]);

function arpPkt(op: number, spa: string, tpa: string): Buffer {
  return Buffer.concat([u16(1), u16(ETH_P_IP!), Buffer.from([6, 4]), u16(op), MAC_A, inet_pton(AF_INET, spa), Buffer.alloc(6), inet_pton(AF_INET, tpa)]);
}

const FRAMES: Record<string, Buffer> = {
  'v4 tcp 1234 > 8080 to .2': ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.1', '127.0.0.2', tcpSeg(1234, 8080))),
  'v4 tcp 8080 > 1234 from .2': ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.2', '127.0.0.1', tcpSeg(8080, 1234, 0x12))),
  'v4 tcp 80 > 9': ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.1', '127.0.0.1', tcpSeg(80, 9))),
  'v4 tcp 8080 with IP options': ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.1', '127.0.0.1', tcpSeg(5, 8080), { options: Buffer.from([1, 1, 1, 0]) })),
  'v4 udp 53 from .2': ether(ETH_P_IP!, ip4(IPPROTO_UDP, '127.0.0.2', '127.0.0.1', udpDg(53, 4000))),
  'v4 udp 8080': ether(ETH_P_IP!, ip4(IPPROTO_UDP, '127.0.0.1', '127.0.0.1', udpDg(4000, 8080))),
  'v4 sctp 8080': ether(ETH_P_IP!, ip4(IPPROTO_SCTP!, '127.0.0.1', '127.0.0.1', Buffer.concat([u16(8080), u16(1), Buffer.alloc(8)]))),
  'v4 icmp echo from .2': ether(ETH_P_IP!, ip4(IPPROTO_ICMP, '127.0.0.2', '127.0.0.1', Buffer.from([8, 0, 0, 0, 0, 1, 0, 2]))),
  'v4 later fragment, ports 8080 where a header would be': ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.2', '127.0.0.1', tcpSeg(8080, 8080), { frag: 0x2001 })),
  'v6 tcp 8080 ::1': ether(ETH_P_IPV6!, ip6(IPPROTO_TCP, '::1', '::1', tcpSeg(4321, 8080))),
  'v6 udp 53 fe80::1:2': ether(ETH_P_IPV6!, ip6(IPPROTO_UDP, 'fe80::1:2', '::1', udpDg(53, 4000))),
  'v6 icmp6 echo': ether(ETH_P_IPV6!, ip6(IPPROTO_ICMPV6!, '::1', '::1', Buffer.from([128, 0, 0, 0, 0, 1, 0, 2]))),
  'v6 first fragment, tcp 8080': ether(ETH_P_IPV6!, ip6(IPPROTO_FRAGMENT!, '::1', '::2', Buffer.concat([frag6(IPPROTO_TCP, 0), tcpSeg(8080, 1)]))),
  'v6 hop-by-hop, then udp 53': ether(ETH_P_IPV6!, ip6(IPPROTO_HOPOPTS!, '::1', 'fe80::1:2', Buffer.concat([ext(IPPROTO_UDP, 1), udpDg(53, 53)]))),
  'arp .2 asks for .1': ether(ETH_P_ARP!, arpPkt(1, '127.0.0.2', '127.0.0.1')),
  'rarp about .2': ether(ETH_P_RARP!, arpPkt(3, '127.0.0.3', '127.0.0.2')),
  'EtherType 0x88b5': ether(0x88b5, Buffer.from('hello wire')),
  'cut short': ether(ETH_P_IP!, Buffer.from([0x45, 0])),
};

// ── The filter compiler ────────────────────────────────────────────────────────────────────────────

// One form alone (and these forms joined) compile to tcpdump's very program.
const SAME_PROGRAM = [
  '', 'tcp', 'udp', 'icmp', 'icmp6', 'port 8080', 'port 53', 'host 127.0.0.2', 'host ::1', 'host fe80::1:2',
  'tcp and port 8080', 'udp and port 53', 'tcp and port 8080 and host 127.0.0.2', 'port 80 and host ::1',
  'tcp and host 127.0.0.1', 'icmp and host 127.0.0.2',
];
// These mean the same, and tcpdump's optimizer lays them out otherwise: `tcp port 8080` tests IPv6
// first (the library: IPv4 first, as for `tcp and port 8080`); `port 80 and host 127.0.0.2` and
// `udp and host ::1` keep a test of the other family that can only jump to the drop (the host rules
// that family out, which the library sees before emitting it); `host … and port …` in that order.
const SAME_VERDICTS = [
  'tcp port 8080', 'udp port 53', 'port 80 and host 127.0.0.2', 'udp and host ::1', 'port 8080 and host 127.0.0.2',
  'host 127.0.0.2 and port 8080', 'host ::1 and tcp', 'icmp6 and host ::1', 'tcp and port 8080 and host ::1', 'udp && host 127.0.0.2',
];

describe.runIf(linux)('compileFilter: pcap-filter forms to classic BPF', () => {
  it.runIf(hasTcpdump)('compiles each form alone to the program tcpdump -dd prints for it', () => {
    for (const expr of SAME_PROGRAM) expect(compileFilter(expr), expr).toEqual(tcpdumpProgram(expr));
    expect(compileFilter({ protocol: 'tcp', port: 8080 })).toEqual(tcpdumpProgram('tcp and port 8080'));
    expect(compileFilter('udp', 96)).toEqual(tcpdumpProgram('udp', 96)); // snaplen: what `ret` keeps
  });

  it.runIf(hasTcpdump)('gives every frame the verdict tcpdump\'s program gives, for forms joined by and', () => {
    const frames = Object.entries(FRAMES);
    for (const expr of [...SAME_PROGRAM, ...SAME_VERDICTS]) {
      const ours = compileFilter(expr);
      const theirs = tcpdumpProgram(expr);
      const differ = frames.filter(([, f]) => runBpf(ours, f) !== runBpf(theirs, f)).map(([name]) => name);
      expect(differ, expr).toEqual([]);
    }
    // The verdicts themselves, for a few: what each form means.
    const accepted = (expr: string) => frames.filter(([, f]) => runBpf(compileFilter(expr), f) > 0).map(([n]) => n);
    expect(accepted('port 8080')).toEqual([
      'v4 tcp 1234 > 8080 to .2', 'v4 tcp 8080 > 1234 from .2', 'v4 tcp 8080 with IP options', 'v4 udp 8080', 'v4 sctp 8080', 'v6 tcp 8080 ::1',
    ]);
    expect(accepted('host 127.0.0.2')).toEqual([
      'v4 tcp 1234 > 8080 to .2', 'v4 tcp 8080 > 1234 from .2', 'v4 udp 53 from .2', 'v4 icmp echo from .2',
      'v4 later fragment, ports 8080 where a header would be', 'arp .2 asks for .1', 'rarp about .2',
    ]);
    expect(accepted('tcp')).toEqual([
      'v4 tcp 1234 > 8080 to .2', 'v4 tcp 8080 > 1234 from .2', 'v4 tcp 80 > 9', 'v4 tcp 8080 with IP options',
      'v4 later fragment, ports 8080 where a header would be', 'v6 tcp 8080 ::1', 'v6 first fragment, tcp 8080',
    ]);
    expect(accepted('udp and port 53')).toEqual(['v4 udp 53 from .2', 'v6 udp 53 fe80::1:2']); // not behind hop-by-hop
  });

  it('takes the object form and the expression alike, and refuses what it does not compile', () => {
    expect(parseFilter('tcp port 80 and host ::1')).toEqual({ protocol: 'tcp', port: 80, host: '::1' });
    expect(parseFilter('  ')).toEqual({});
    expect(compileFilter({ host: '127.0.0.2', port: 80 })).toEqual(compileFilter('port 80 and host 127.0.0.2'));
    for (const bad of ['tcp or udp', 'not tcp', 'port http', 'host localhost', 'host', 'tcp and', 'tcp udp', 'port 1 and port 2', 'ip']) {
      expect(thrown(() => compileFilter(bad)), bad).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    }
    expect(thrown(() => compileFilter('port 65536'))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => compileFilter({ protocol: 'sctp' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => compileFilter('tcp', 0))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    // No packet passes these: tcpdump says "expression rejects all packets", and so does the library.
    for (const never of ['icmp and port 53', 'icmp6 and host 127.0.0.1', 'icmp and host ::1']) {
      expect(thrown(() => compileFilter(never)).message, never).toMatch(/rejects every packet/);
    }
  });

  it.runIf(hasTcpdump)('refuses what tcpdump refuses as rejecting every packet', () => {
    const r = spawnSync('tcpdump', ['-dd', '-i', 'lo', 'icmp and port 53'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rejects all packets/);
  });
});

// ── The decoder ────────────────────────────────────────────────────────────────────────────────────

describe.runIf(linux)('decodePacket: headers from a frame', () => {
  it('decodes Ethernet, IPv4 and TCP with its flags and options, as tcpdump names them', () => {
    const opts = Buffer.from([2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    const d = decodePacket(ether(ETH_P_IP!, ip4(IPPROTO_TCP, '10.0.0.1', '10.0.0.2', tcpSeg(1, 2, 0x12, Buffer.concat([opts, Buffer.alloc(2)]), Buffer.from('abc')))), ARPHRD_LOOPBACK!);
    expect(d.eth).toEqual({ dst: '02:00:00:00:00:0b', src: '02:00:00:00:00:0a', type: ETH_P_IP });
    expect(d.ip).toMatchObject({ version: 4, src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, protocol: IPPROTO_TCP, length: 20 + 52 + 3, id: 0x1234, flags: { DF: true, MF: false }, fragmentOffset: 0 });
    expect(d.tcp).toMatchObject({ srcPort: 1, dstPort: 2, seq: 0xfffffff0, ack: 7, flagString: 'S.', window: 512, headerLength: 52, payloadLength: 3 });
    expect(d.tcp!.flags).toEqual({ FIN: false, SYN: true, RST: false, PSH: false, ACK: true, URG: false, ECE: false, CWR: false });
    expect(d.tcp!.options).toEqual([
      { kind: 2, name: 'mss', mss: 65495 }, { kind: 4, name: 'sackOK', sackOK: true }, { kind: 8, name: 'TS', timestamp: { val: 1, ecr: 0 } },
      { kind: 1, name: 'nop' }, { kind: 3, name: 'wscale', wscale: 7 }, { kind: 5, name: 'sack', sack: [{ left: 1, right: 2 }] }, { kind: 0, name: 'eol' },
    ]);
    expect(d.undecoded).toBeUndefined();
    const flag = (bits: number) => decodePacket(ether(ETH_P_IP!, ip4(IPPROTO_TCP, '10.0.0.1', '10.0.0.2', tcpSeg(1, 2, bits))), ARPHRD_LOOPBACK!).tcp!.flagString;
    expect([0x02, 0x10, 0x18, 0x11, 0x04, 0x14, 0x00, 0xff].map(flag)).toEqual(['S', '.', 'P.', 'F.', 'R', 'R.', 'none', 'FSRPUEW.']);
  });

  it('walks IPv6 extension headers to the transport, and says where it stops', () => {
    const d = decodePacket(FRAMES['v6 hop-by-hop, then udp 53'], ARPHRD_LOOPBACK!);
    expect(d.ip).toMatchObject({ version: 6, src: '::1', dst: 'fe80::1:2', hopLimit: 63, nextHeader: IPPROTO_HOPOPTS, protocol: IPPROTO_UDP, extensions: [IPPROTO_HOPOPTS], headerLength: 56, length: 40 + 16 + 10, flowLabel: 0x12345 });
    expect(d.udp).toEqual({ srcPort: 53, dstPort: 53, length: 10, checksum: 0, payloadLength: 2 });
    const f = decodePacket(FRAMES['v6 first fragment, tcp 8080'], ARPHRD_LOOPBACK!);
    expect(f.ip).toMatchObject({ protocol: IPPROTO_TCP, extensions: [IPPROTO_FRAGMENT], fragment: { offset: 0, MF: true, id: 9 } });
    expect(f.tcp).toMatchObject({ srcPort: 8080, dstPort: 1 });
    const later = decodePacket(ether(ETH_P_IPV6!, ip6(IPPROTO_DSTOPTS!, '::1', '::1', Buffer.concat([ext(IPPROTO_FRAGMENT!), frag6(IPPROTO_TCP, 64), Buffer.alloc(8)]))), ARPHRD_LOOPBACK!);
    expect(later).toMatchObject({ ip: { extensions: [IPPROTO_DSTOPTS, IPPROTO_FRAGMENT] }, undecoded: 'IPv6 fragment at offset 64' });
    expect(later.tcp).toBeUndefined();
    expect(decodePacket(ether(ETH_P_IPV6!, ip6(51, '::1', '::1', Buffer.alloc(16))), ARPHRD_LOOPBACK!).undecoded).toBe('IP protocol 51'); // AH
    expect(decodePacket(FRAMES['v6 icmp6 echo'], ARPHRD_LOOPBACK!).icmp).toEqual({ type: 128, code: 0, checksum: 0, id: 1, seq: 2 });
  });

  it('decodes ARP, an ICMP error\'s quoted datagram, raw IP (ARPHRD_NONE), and names what it does not decode', () => {
    expect(decodePacket(FRAMES['arp .2 asks for .1'], ARPHRD_LOOPBACK!).arp).toEqual({ op: 1, senderMac: '02:00:00:00:00:0a', senderIp: '127.0.0.2', targetMac: '00:00:00:00:00:00', targetIp: '127.0.0.1' });
    const quoted = ip4(IPPROTO_UDP, '127.0.0.1', '127.0.0.1', udpDg(4000, 9, Buffer.from('hello')));
    const unreachable = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), quoted]);
    const e = decodePacket(ip4(IPPROTO_ICMP, '127.0.0.1', '127.0.0.1', unreachable), ARPHRD_NONE!);
    expect(e.eth).toBeUndefined();
    expect(e.icmp).toMatchObject({ type: 3, code: 3, original: { ip: { protocol: IPPROTO_UDP, length: 33 }, udp: { srcPort: 4000, dstPort: 9, length: 13 } } });
    expect(decodePacket(FRAMES['EtherType 0x88b5'], ARPHRD_LOOPBACK!).undecoded).toBe('EtherType 0x88b5');
    expect(decodePacket(FRAMES['cut short'], ARPHRD_LOOPBACK!).undecoded).toBe('IPv4 header cut short');
    expect(decodePacket(FRAMES['v4 later fragment, ports 8080 where a header would be'], ARPHRD_LOOPBACK!)).toMatchObject({ undecoded: 'IPv4 fragment at offset 8' });
    expect(decodePacket(Buffer.alloc(20), 0xffff).undecoded).toBe('link type 65535 (sll_hatype)');
    // Cut inside the TCP options (a small snaplen): the fixed header is there, the lengths are the IP header's.
    const cut = FRAMES['v4 tcp 1234 > 8080 to .2'];
    const full = Buffer.from(ether(ETH_P_IP!, ip4(IPPROTO_TCP, '127.0.0.1', '127.0.0.2', tcpSeg(1, 2, 0x18, Buffer.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]), Buffer.alloc(100)))));
    expect(decodePacket(full.subarray(0, 14 + 20 + 24), ARPHRD_LOOPBACK!)).toMatchObject({ tcp: { payloadLength: 100, options: [{ name: 'nop' }, { name: 'nop' }] }, undecoded: 'TCP options cut short' });
    expect(decodePacket(cut, ARPHRD_LOOPBACK!).undecoded).toBeUndefined();
    expect(thrown(() => decodePacket('x' as never, 1))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

// ── tcpdump -w, read back ──────────────────────────────────────────────────────────────────────────

interface PcapRecord {
  sec: number;
  usec: number;
  caplen: number;
  len: number;
  data: Buffer;
}

/** A pcap file (tcpdump -w): 24-byte header, then 16-byte record headers, in this machine's byte order. */
function readPcap(file: string): PcapRecord[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4); // microseconds, little-endian
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET: lo's frames
  const out: PcapRecord[] = [];
  for (let at = 24; at + 16 <= b.length;) {
    const caplen = b.readUInt32LE(at + 8);
    if (at + 16 + caplen > b.length) break; // a record still being written
    out.push({ sec: b.readUInt32LE(at), usec: b.readUInt32LE(at + 4), caplen, len: b.readUInt32LE(at + 12), data: b.subarray(at + 16, at + 16 + caplen) });
    at += 16 + caplen;
  }
  return out;
}

/** tcpdump's own reading of the file (-nn -tt -S -v), one string per packet. */
function tcpdumpText(file: string): string[] {
  const text = execFileSync('tcpdump', ['-r', file, '-nn', '-tt', '-S', '-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\d/.test(line)) out.push(line);
    else if (line.trim() && out.length) out[out.length - 1] += ` ${line.trim()}`;
  }
  return out;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * tcpdump on lo for `expr`, listening; stop(enough) waits (at most 5 s) until it wrote that many packets
 * (or the packets `enough` accepts: another program's may come first), ends it and reads its file.
 */
async function startTcpdump(expr: string): Promise<{ file: string; stop(enough: number | ((written: PcapRecord[]) => boolean)): Promise<PcapRecord[]> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-capture-'));
  dirs.push(dir);
  const dump = await tcpdump(expr, dir);
  children.add(dump.child);
  return {
    file: dump.file,
    async stop(enough) {
      const done = typeof enough === 'number' ? (written: PcapRecord[]) => written.length >= enough : enough;
      for (let i = 0; i < 100 && !done(readPcap(dump.file)); i++) await sleep(50);
      await dump.stop();
      children.delete(dump.child);
      expect(dump.stderr()).toMatch(/packets? captured/);
      const written = readPcap(dump.file);
      // Once in CI (ASan run, a loaded machine) tcpdump wrote none of an exchange it was listening for:
      // its own counts (captured, received by filter, dropped by kernel) say which side lost them.
      if (typeof enough === 'number') expect(written.length, `tcpdump: ${dump.stderr()}`).toBeGreaterThanOrEqual(enough);
      return written;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The packets of `stream` until `enough` says so, at most 5 s and 500 packets; the stream is closed. */
async function collect(stream: PacketStream, enough: (got: CapturedPacket[]) => boolean, ms = 5000): Promise<CapturedPacket[]> {
  const got: CapturedPacket[] = [];
  const timer = setTimeout(() => stream.close(), ms);
  try {
    for await (const p of stream) {
      got.push(p);
      if (enough(got) || got.length >= 500) break;
    }
  } finally {
    clearTimeout(timer);
  }
  expect(stream.socket?.closed).toBe(true);
  return got;
}

/**
 * Each captured packet equals tcpdump's record: bytes, lengths, and the timestamp to the microsecond
 * (tcpdump -w keeps microseconds: libpcap truncates the kernel's nanoseconds, pcap-linux.c). A UDP or
 * ICMP packet is stamped once, as lo hands it to the receive path (netif_rx: skb->tstamp), and both
 * sockets read that one stamp. A TCP segment instead carries TCP's departure time (EDT, a CLOCK_MONOTONIC
 * skb->tstamp, RFC 9293 pacing) through lo, so each packet socket reads CLOCK_REALTIME itself as the
 * segment reaches it (packet_rcv: skb_clear_delivery_time; tpacket_rcv: skb_tstamp() is 0, so
 * ktime_get_real()): the socket bound last is first in lo's list (dev_add_pack adds at the head), so
 * tcpdump's, started after ours, reads the clock first — the same microsecond or a few later for ours.
 */
function expectSameAsTcpdump(ours: CapturedPacket[], theirs: PcapRecord[], clock: 'shared' | 'each'): void {
  expect(ours.map((p) => `${p.length} ${p.tcp?.flagString ?? ''}`)).toEqual(theirs.map((r) => `${r.len} ${decodePacket(r.data, ARPHRD_LOOPBACK!).tcp?.flagString ?? ''}`));
  ours.forEach((p, i) => {
    const r = theirs[i];
    expect(p.data.equals(r.data), `packet ${i}: the same bytes`).toBe(true);
    expect([p.length, p.captured]).toEqual([r.len, r.caplen]);
    const us = p.time.tv_sec * 1e6 + Math.floor(p.time.tv_nsec / 1000);
    if (clock === 'shared') expect(us - (r.sec * 1e6 + r.usec), `packet ${i}: the same microsecond`).toBe(0);
    else expect(us - (r.sec * 1e6 + r.usec), `packet ${i}: read after tcpdump's socket, within 2 ms`).toBeGreaterThanOrEqual(0);
    expect(us - (r.sec * 1e6 + r.usec)).toBeLessThan(2000);
    expect(p.pkttype).toBe(PACKET_HOST);
  });
}

/** Our TCP options as tcpdump prints them. */
const optionText = (o: TcpOption) => (o.name === 'mss' ? `mss ${o.mss}` : o.name === 'wscale' ? `wscale ${o.wscale}` : o.name === 'TS' ? `TS val ${o.timestamp!.val} ecr ${o.timestamp!.ecr}` : o.name);

/** What tcpdump says of an IPv4 packet, read back into the decoder's names. */
function ipOf(text: string) {
  const m = /^(\d+)\.(\d{6}) IP \(tos (0x[0-9a-f]+), ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], proto \w+ \((\d+)\), length (\d+)\)/.exec(text);
  expect(m, text).not.toBeNull();
  return { tos: Number(m![3]), ttl: Number(m![4]), id: Number(m![5]), fragmentOffset: Number(m![6]), DF: m![7] === 'DF', protocol: Number(m![8]), length: Number(m![9]) };
}

function tcpExchange(port: number, srv: ReturnType<typeof socket>): void {
  const cli = track(socket(AF_INET, SOCK_STREAM, 0));
  connect(cli, { family: AF_INET, address: '127.0.0.1', port });
  const conn = track(accept(srv).fd);
  const buf = Buffer.alloc(16);
  send(cli, 'hello');
  expect(buf.toString('latin1', 0, recv(conn, buf))).toBe('hello');
  send(conn, buf.subarray(0, 5));
  expect(buf.toString('latin1', 0, recv(cli, buf))).toBe('hello');
  close(cli);
  expect(recv(conn, buf)).toBe(0);
  close(conn);
}

describe.runIf(withTcpdump)('capture on lo, against tcpdump -w in the same run', () => {
  it('sees a TCP exchange as tcpdump does: every segment in order, same flags, seq/ack, lengths and microseconds', async () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
    listen(srv, 4);
    const { port } = getsockname(srv);
    // Ours first: SO_TIMESTAMPNS turns the kernel's receive timestamps on (net_enable_timestamp, from a
    // work queue), which tcpdump's start leaves time for; and its socket is then second in lo's list.
    const stream = capture('lo', { protocol: 'tcp', port });
    const dump = await startTcpdump(`tcp port ${port}`);
    tcpExchange(port, srv);
    // Done when both FINs are seen and the last of them is acknowledged.
    const ours = await collect(stream, (got) => {
      const fins = got.filter((p) => p.tcp?.flags.FIN);
      const last = got[got.length - 1];
      return fins.length === 2 && !last.tcp!.flags.FIN && last.tcp!.ack === fins[1].tcp!.seq + 1;
    });
    const theirs = await dump.stop(ours.length);
    expect(ours.length).toBeGreaterThanOrEqual(8); // 3 handshake, 2 data, their ACKs (or piggybacked), 2 FINs and the last ACK
    expectSameAsTcpdump(ours, theirs, 'each');
    expect(ours.slice(0, 3).map((p) => p.tcp!.flagString)).toEqual(['S', 'S.', '.']);
    expect(ours.filter((p) => p.tcp!.payloadLength === 5).map((p) => p.tcp!.flagString)).toEqual(['P.', 'P.']);
    // tcpdump's own reading of its file, field by field, against the decoder's reading of ours.
    const text = tcpdumpText(dump.file);
    expect(text).toHaveLength(ours.length);
    ours.forEach((p, i) => {
      const m = /(\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]+)\], cksum 0x[0-9a-f]+ \([^)]*\), (?:seq (\d+)(?::(\d+))?, )?(?:ack (\d+), )?win (\d+), (?:options \[([^\]]*)\], )?length (\d+)/.exec(text[i]);
      expect(m, text[i]).not.toBeNull();
      const [, src, sport, dst, dport, flags, seq, , ack, win, options, length] = m!;
      const { tcp, ip } = p;
      expect({ src: ip!.src, sport: tcp!.srcPort, dst: ip!.dst, dport: tcp!.dstPort, flags: tcp!.flagString, win: tcp!.window, length: tcp!.payloadLength })
        .toEqual({ src, sport: Number(sport), dst, dport: Number(dport), flags, win: Number(win), length: Number(length) });
      // tcpdump leaves seq out of a segment that takes no sequence space (a bare ACK).
      if (seq === undefined) expect(tcp!.payloadLength + Number(tcp!.flags.SYN) + Number(tcp!.flags.FIN)).toBe(0);
      else expect(tcp!.seq).toBe(Number(seq));
      if (tcp!.flags.ACK) expect(tcp!.ack).toBe(Number(ack));
      expect(tcp!.options.map(optionText).join(',')).toBe(options ?? '');
      const { DF, ...fields } = ipOf(text[i]);
      expect({ tos: ip!.version === 4 && ip!.tos, ttl: ip!.version === 4 && ip!.ttl, id: ip!.version === 4 && ip!.id, fragmentOffset: ip!.version === 4 && ip!.fragmentOffset, protocol: ip!.protocol, length: ip!.length }).toEqual(fields);
      expect(ip!.version === 4 && ip!.flags.DF).toBe(DF);
      expect(p.eth).toEqual({ src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00', type: ETH_P_IP });
    });
    // The kernel's clock, not a stand-in: within a few seconds of now, in order.
    expect(Math.abs(ours[0].ms - Date.now())).toBeLessThan(10_000);
    for (let i = 1; i < ours.length; i++) expect(ours[i].ms).toBeGreaterThanOrEqual(ours[i - 1].ms);
  });

  it('sees a UDP exchange, two datagrams each way, as tcpdump does', async () => {
    const a = track(socket(AF_INET, SOCK_DGRAM, 0));
    const b = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(a, { family: AF_INET, address: '127.0.0.1', port: 0 });
    bind(b, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const pa = getsockname(a).port;
    const pb = getsockname(b).port;
    const stream = capture('lo', { filter: `udp and port ${pb}` });
    const dump = await startTcpdump(`udp port ${pb}`);
    const buf = Buffer.alloc(64);
    for (const [from, to, port, text] of [[a, b, pb, 'one'], [b, a, pa, 'ONE'], [a, b, pb, 'two!'], [b, a, pa, 'TWO!']] as const) {
      sendto(from, text, { family: AF_INET, address: '127.0.0.1', port });
      expect(buf.toString('latin1', 0, recvfrom(to, buf).n)).toBe(text);
    }
    const ours = await collect(stream, (got) => got.length === 4);
    const theirs = await dump.stop(4);
    expectSameAsTcpdump(ours, theirs, 'shared');
    expect(ours.map((p) => [p.udp!.srcPort, p.udp!.dstPort, p.udp!.payloadLength, p.data.toString('latin1', 42)])).toEqual([
      [pa, pb, 3, 'one'], [pb, pa, 3, 'ONE'], [pa, pb, 4, 'two!'], [pb, pa, 4, 'TWO!'],
    ]);
    const text = tcpdumpText(dump.file);
    ours.forEach((p, i) => {
      expect(text[i]).toContain(`127.0.0.1.${p.udp!.srcPort} > 127.0.0.1.${p.udp!.dstPort}: UDP, length ${p.udp!.payloadLength}`);
      expect(ipOf(text[i])).toMatchObject({ length: p.ip!.length, id: p.ip!.version === 4 && p.ip!.id, protocol: IPPROTO_UDP });
    });
  });

  it('sees the ICMP port unreachable a datagram to a closed port causes, with protocol icmp, as tcpdump does', async () => {
    const closed = socket(AF_INET, SOCK_DGRAM, 0);
    bind(closed, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const port = getsockname(closed).port;
    closed.close(); // nothing listens there now
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    const stream = capture('lo', { protocol: 'icmp' });
    const dump = await startTcpdump('icmp');
    sendto(u, 'knock', { family: AF_INET, address: '127.0.0.1', port });
    // Other ICMP on lo (another program's) would be in both captures: compare the packets about this port.
    const mine = (p: CapturedPacket) => p.icmp?.original?.udp?.dstPort === port;
    const ours = (await collect(stream, (got) => got.some(mine))).filter(mine);
    const minePcap = (r: PcapRecord) => mine({ ...decodePacket(r.data, ARPHRD_LOOPBACK!) } as CapturedPacket);
    const theirs = (await dump.stop((written) => written.some(minePcap))).filter(minePcap);
    expect(ours).toHaveLength(1);
    expectSameAsTcpdump(ours, theirs, 'shared');
    expect(ours[0]).toMatchObject({ ip: { protocol: IPPROTO_ICMP, src: '127.0.0.1', dst: '127.0.0.1' }, icmp: { type: 3, code: 3, original: { ip: { protocol: IPPROTO_UDP }, udp: { dstPort: port, length: 13 } } } });
    const text = tcpdumpText(dump.file).filter((t) => t.includes(`udp port ${port} unreachable`));
    expect(text).toHaveLength(1);
    expect(text[0]).toContain(`ICMP 127.0.0.1 udp port ${port} unreachable, length ${ours[0].ip!.length - 20}`);
    expect(ipOf(text[0])).toMatchObject({ length: ours[0].ip!.length, protocol: IPPROTO_ICMP, tos: ours[0].ip!.version === 4 && ours[0].ip!.tos });
  });
});

// ── Filters on the wire, lo's double view, ending, and privileges ─────────────────────────────────

describe.runIf(asRoot)('capture: filters, loopback and the end of an iteration', () => {
  const dgram = (address: string) => {
    const s = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(s, { family: AF_INET, address, port: 0 });
    return { s, port: getsockname(s).port };
  };

  it.runIf(canRun('a flood from another process needs python3', hasCommand('python3')))('stamps the first packets it captures when they arrived, also when its own SO_TIMESTAMPNS is what turns the kernel\'s stamping on', async () => {
    // The kernel turns receive timestamps on for the first socket that asks (net_enable_timestamp) from
    // a work queue; a packet that arrives before then is stamped when it is read. A flood from another
    // process (each datagram carrying time.time_ns() at its sendto) meets each capture as it opens;
    // between captures none is open, so the kernel may turn stamping off again (when no other test
    // holds a timestamping socket). Each capture reads its packets 60 ms after it opened: one stamped
    // when read would be 60 ms late.
    const rx = dgram('127.0.0.1');
    const flood = spawn('python3', ['-c', `
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 8
while time.time() < end:
    s.sendto(struct.pack('<q', time.time_ns()), ('127.0.0.1', ${rx.port}))
    time.sleep(0.0002)
`], { stdio: 'ignore' });
    children.add(flood);
    try {
      expect(poll([{ fd: rx.s, events: POLLIN }], 10_000), 'the flood has begun within 10 s').toBe(1);
      const nap = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      const lateness: number[] = [];
      for (let trial = 0; trial < 8; trial++) {
        await new Promise((r) => setTimeout(r, 60)); // no capture open: stamping may go off
        const cap = openCapture('lo', { filter: `udp and port ${rx.port}` });
        try {
          nap(60);
          let worst = 0;
          let n = 0;
          for (let p; n < 20 && (p = cap.read()) !== null; n++) {
            worst = Math.max(worst, p.ms - Number(p.data.readBigInt64LE(p.data.length - 8)) / 1e6);
          }
          expect(n, 'datagrams of the flood captured').toBeGreaterThan(0);
          lateness.push(Math.round(worst));
        } finally {
          cap.close();
        }
      }
      expect(lateness.every((ms) => ms < 25), `ms between each capture's first packets' sendto and their stamps: ${lateness}`).toBe(true);
    } finally {
      flood.kill('SIGKILL');
      children.delete(flood);
    }
  });

  it('with port N, only that port\'s packets come; with host 127.0.0.2, only those to or from it', async () => {
    const x = dgram('127.0.0.1');
    const y = dgram('127.0.0.1');
    const z = dgram('127.0.0.2');
    const byPort = capture('lo', { port: y.port });
    const byHost = capture('lo', { filter: 'host 127.0.0.2' });
    for (let i = 0; i < 3; i++) {
      sendto(x.s, `to y ${i}`, { family: AF_INET, address: '127.0.0.1', port: y.port });
      sendto(x.s, `to x ${i}`, { family: AF_INET, address: '127.0.0.1', port: x.port });
      sendto(x.s, `to z ${i}`, { family: AF_INET, address: '127.0.0.2', port: z.port });
    }
    const ports = await collect(byPort, (got) => got.filter((p) => p.udp?.dstPort === y.port).length === 3);
    const hosts = await collect(byHost, (got) => got.filter((p) => p.udp?.dstPort === z.port).length === 3);
    expect(ports.length).toBeGreaterThanOrEqual(3);
    // Another program's TCP on lo may use the same number: `port N` takes TCP, UDP and SCTP alike.
    for (const p of ports) expect([p.udp?.srcPort, p.udp?.dstPort, p.tcp?.srcPort, p.tcp?.dstPort]).toContain(y.port);
    expect(ports.filter((p) => p.udp?.dstPort === y.port).map((p) => p.data.toString('latin1', 42))).toEqual(['to y 0', 'to y 1', 'to y 2']);
    for (const p of hosts) expect([p.ip?.src, p.ip?.dst, p.arp?.senderIp, p.arp?.targetIp]).toContain('127.0.0.2');
    expect(hosts.filter((p) => p.udp?.dstPort === z.port)).toHaveLength(3);
    expect(hosts.filter((p) => p.udp?.dstPort === x.port || p.udp?.dstPort === y.port)).toEqual([]);
  });

  it('shows each packet on lo once, as tcpdump -i lo: packet(7) delivers it twice, PACKET_OUTGOING then PACKET_HOST', async () => {
    const x = dgram('127.0.0.1');
    const raw = track(socket(AF_PACKET!, SOCK_RAW, htons(ETH_P_ALL!)));
    setsockopt(raw, SOL_SOCKET, SO_ATTACH_FILTER!, compileFilter({ protocol: 'udp', port: x.port }));
    // What it queued before the filter (it receives from socket(2) on: other tests' packets) is drained.
    for (let i = 0, junk = Buffer.alloc(2048); i < 10000; i++) { try { recv(raw, junk, 2048, MSG_DONTWAIT); } catch { break; } }
    const lo = openCapture('lo', { protocol: 'udp', port: x.port });
    try {
      expect(lo.read()).toBeNull(); // nothing queued: MSG_DONTWAIT
      sendto(x.s, 'twice?', { family: AF_INET, address: '127.0.0.1', port: x.port });
      const buf = Buffer.alloc(2048);
      const seen: number[] = [];
      for (let i = 0; i < 2 && poll([{ fd: raw, events: POLLIN }], 2000) > 0; i++) {
        const { address } = recvfrom(raw, buf);
        seen.push((address as { pkttype: number }).pkttype);
      }
      expect(seen).toEqual([PACKET_OUTGOING, PACKET_HOST]);
      expect(poll([{ fd: lo.fd, events: POLLIN }], 2000)).toBe(1);
      const p = lo.read();
      expect(p).toMatchObject({ pkttype: PACKET_HOST, hatype: ARPHRD_LOOPBACK, ifindex: lo.ifindex, udp: { dstPort: x.port, payloadLength: 6 } });
      expect(lo.read()).toBeNull(); // the outgoing copy was read and skipped
      expect(lo.program).toEqual(compileFilter({ protocol: 'udp', port: x.port }));
    } finally {
      lo.close();
      lo.close();
    }
    expect(thrown(() => lo.read())).toMatchObject({ code: 'EBADF' });
  });

  it('keeps snaplen bytes and reports the length on the wire', async () => {
    const x = dgram('127.0.0.1');
    const stream = capture('lo', { port: x.port, snaplen: 50 });
    sendto(x.s, Buffer.alloc(1000, 'x'), { family: AF_INET, address: '127.0.0.1', port: x.port });
    const [p] = await collect(stream, (got) => got.length === 1);
    expect([p.length, p.captured, p.data.length]).toEqual([14 + 20 + 8 + 1000, 50, 50]);
    expect(p).toMatchObject({ ip: { length: 1028 }, udp: { length: 1008, payloadLength: 1000 } });
  });

  it('ends on break, on return() with a next() pending, on close(), and on abort, with the socket closed each time', async () => {
    const x = dgram('127.0.0.1');
    const send3 = () => { for (let i = 0; i < 3; i++) sendto(x.s, `d${i}`, { family: AF_INET, address: '127.0.0.1', port: x.port }); };
    const s1 = capture('lo', { port: x.port });
    send3();
    let n = 0;
    for await (const p of s1) {
      expect(p.udp!.dstPort).toBe(x.port);
      if (++n === 2) break;
    }
    expect(s1.socket!.closed).toBe(true);

    const s2 = capture('lo', { port: x.port });
    const pending = s2.next();
    await sleep(20);
    expect(await s2.return(undefined)).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(s2.socket!.closed).toBe(true);

    const s3 = capture('lo', { port: x.port });
    const waiting = s3.next();
    s3.close();
    expect(await waiting).toEqual({ done: true, value: undefined });

    const ac = new AbortController();
    const s4 = capture('lo', { port: x.port, signal: ac.signal });
    send3();
    expect((await s4.next()).value?.udp?.dstPort).toBe(x.port);
    setTimeout(() => ac.abort(), 20);
    const got: CapturedPacket[] = [];
    for await (const p of s4) got.push(p); // the two queued, then waits until the abort ends it
    expect(got).toHaveLength(2);
    expect(s4.socket!.closed).toBe(true);

    const s5 = capture('lo', { signal: AbortSignal.abort() });
    expect(s5.socket).toBeUndefined(); // aborted before it began: nothing opened
    expect(await s5.next()).toEqual({ done: true, value: undefined });
  });

  it('rejects the first next() when it cannot open: ENODEV for no such interface, bad options', async () => {
    const e = await capture('nosuch0').next().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SystemError);
    expect(e).toMatchObject({ code: 'ENODEV', syscall: 'if_nametoindex', message: 'if_nametoindex ENODEV nosuch0' });
    await expect(capture('lo', { filter: 'tcp or udp' }).next()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(capture('lo', { filter: 'tcp', protocol: 'udp' }).next()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(capture('lo', { snaplen: 0 }).next()).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => openCapture(1 as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe.runIf(linux)('capture without CAP_NET_RAW', () => {
  it('fails with a SystemError EPERM naming socket, and everything else still works', async () => {
    if (!isRoot) {
      await expect(capture('lo').next()).rejects.toMatchObject({ code: 'EPERM', syscall: 'socket', message: 'socket EPERM' });
      expect(systemError(() => openCapture('lo'))).toMatchObject({ code: 'EPERM', syscall: 'socket' });
      return;
    }
    if (!canRun('dropping CAP_NET_RAW needs setpriv (util-linux)', hasCommand('setpriv'))) return;
    // Root without CAP_NET_RAW: dropped from the bounding set (so exec does not grant it) and the inheritable set.
    const program = `
      const b = require(${JSON.stringify(path.join(dist, 'index.js'))});
      const p = require(${JSON.stringify(path.join(dist, 'promises.js'))});
      const fds = () => require('fs').readdirSync('/proc/self/fd').length;
      (async () => {
        const capEff = BigInt('0x' + /CapEff:\\s*(\\w+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
        const before = fds();
        const it = p.capture('lo', { port: 9 });
        const shape = (e) => ({ system: e instanceof b.SystemError, code: e.code, syscall: e.syscall, message: e.message });
        const asyncError = await it.next().then(() => null, shape);
        const after = await it.next();
        let syncError = null;
        try { b.openCapture('lo'); } catch (e) { syncError = shape(e); }
        // The rest of the library: a TCP exchange with the promises API, the compiler and the decoder.
        const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
        b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 }); b.listen(srv, 1);
        const cli = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
        const accepted = p.accept(srv);
        await p.connect(cli, b.getsockname(srv));
        const { fd: conn } = await accepted;
        await p.write(cli, 'still works');
        const buf = Buffer.alloc(32);
        const text = buf.toString('latin1', 0, await p.read(conn, buf));
        for (const h of [cli, conn, srv]) b.close(h);
        console.log(JSON.stringify({ netRaw: Number((capEff >> 13n) & 1n), asyncError, after, syncError, text,
          program: b.compileFilter('tcp').length, decoded: b.decodePacket(Buffer.alloc(14), b.ARPHRD_LOOPBACK).eth.type, leaked: fds() - before }));
      })();`;
    const r = await jsonReport<Record<string, unknown>>('setpriv', ['--inh-caps=-net_raw', '--bounding-set=-net_raw', process.execPath, '-e', program], 15_000);
    expect(r).toEqual({
      netRaw: 0,
      asyncError: { system: true, code: 'EPERM', syscall: 'socket', message: 'socket EPERM' },
      after: { done: true },
      syncError: { system: true, code: 'EPERM', syscall: 'socket', message: 'socket EPERM' },
      text: 'still works',
      program: 12,
      decoded: 0,
      leaked: 0,
    });
  });
});

