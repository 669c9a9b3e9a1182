// Packet capture's parts that need no socket (src/capture/): the filter compiler against tcpdump's
// (the same program for one form, the same verdicts for forms joined by and), and the decoder on
// frames built by hand.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, ARPHRD_LOOPBACK, ARPHRD_NONE, BPF_A, BPF_H, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP,
  BPF_JSET, BPF_LD, BPF_LDX, BPF_MSH, BPF_RET, BPF_W, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_RARP, IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, type SockFilter,
  compileFilter, decodePacket, inet_pton, parseFilter,
} from '../src/index';
import { canRun, hasCommand, thrown } from './helpers';

const linux = process.platform === 'linux';
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
    const flag = (bits: number) => decodePacket(ether(ETH_P_IP!, ip4(IPPROTO_TCP, '1.1.1.1', '2.2.2.2', tcpSeg(1, 2, bits))), ARPHRD_LOOPBACK!).tcp!.flagString;
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
