// Reading a captured frame: the Ethernet header, IPv4 or IPv6, and TCP, UDP, ICMP or ICMPv6 on top
// (and ARP), into plain objects with the header fields' names, as tcpdump -v shows them. The layouts
// are the wire's (IEEE 802.3; RFC 791, 8200, 9293, 768, 792, 4443, 826), the same on every platform;
// the numbers that name things (EtherTypes, protocols, option kinds) come from the C headers.
//
// Not decoded, and said so in `undecoded`: link types other than Ethernet framing and raw IP (the
// frame's bytes are still there), EtherTypes other than IPv4, IPv6, ARP and RARP (802.1Q tags are not
// in the frame: the kernel moves them to PACKET_AUXDATA), IPv4 fragments after the first (no transport
// header), IPv6 extension headers other than hop-by-hop, routing, destination options and fragment
// (AH, ESP, mobility…: the walk stops there), protocols other than TCP, UDP, ICMP and ICMPv6, and any
// header cut short by the snapshot length. IPv4 and TCP options are decoded; IP options only skipped.
import {
  AF_INET6, ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_RARP, IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ROUTING, IPPROTO_TCP, IPPROTO_UDP,
  TCPOPT_EOL, TCPOPT_MAXSEG, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERMITTED, TCPOPT_TIMESTAMP, TCPOPT_WINDOW,
} from '../constants';
import { inet_ntop } from '../inet';
import { checkBytes, checkInt } from '../validate';

/** The Ethernet header (lo has one too, with zero addresses): addresses as `aa:bb:cc:dd:ee:ff`. */
export interface EthernetHeader {
  dst: string;
  src: string;
  /** The EtherType: ETH_P_IP, ETH_P_IPV6, ETH_P_ARP… */
  type: number;
}

/** The IPv4 header (RFC 791). */
export interface Ipv4Header {
  version: 4;
  src: string;
  dst: string;
  ttl: number;
  /** IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP… */
  protocol: number;
  /** The datagram's total length, header included (tcpdump's "length"). */
  length: number;
  /** The header's length in bytes (20 without options). */
  headerLength: number;
  id: number;
  tos: number;
  /** DF (don't fragment) and MF (more fragments). */
  flags: { DF: boolean; MF: boolean };
  /** In bytes (the field counts 8-byte units). */
  fragmentOffset: number;
  checksum: number;
}

/** The IPv6 header (RFC 8200), and the extension headers walked to reach the upper-layer protocol. */
export interface Ipv6Header {
  version: 6;
  src: string;
  dst: string;
  hopLimit: number;
  /** The upper-layer protocol after the extension headers (IPPROTO_TCP…), or the header the walk stopped at. */
  protocol: number;
  /** The datagram's length, the 40-byte header included (40 + the payload length field). */
  length: number;
  /** 40, plus the extension headers walked. */
  headerLength: number;
  trafficClass: number;
  flowLabel: number;
  /** The fixed header's Next Header field. */
  nextHeader: number;
  /** The extension headers walked, in order (IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS). */
  extensions: number[];
  /** From a fragment header: the offset in bytes, MF, and the identification. */
  fragment?: { offset: number; MF: boolean; id: number };
}

export type IpHeader = Ipv4Header | Ipv6Header;

/** TCP's flag bits (RFC 9293, 3168). */
export interface TcpFlags {
  FIN: boolean;
  SYN: boolean;
  RST: boolean;
  PSH: boolean;
  ACK: boolean;
  URG: boolean;
  ECE: boolean;
  CWR: boolean;
}

/**
 * A TCP option (`kind`: TCPOPT_MAXSEG…) and its value, `name` as tcpdump prints it: mss, wscale,
 * sackOK, TS, sack, nop, eol; another kind keeps its bytes in `data`.
 */
export interface TcpOption {
  kind: number;
  name: string;
  mss?: number;
  wscale?: number;
  sackOK?: true;
  timestamp?: { val: number; ecr: number };
  /** SACK blocks: [left edge, right edge) sequence numbers. */
  sack?: { left: number; right: number }[];
  data?: Buffer;
}

/** The TCP header (RFC 9293). */
export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  /** Absolute sequence numbers, as `tcpdump -S` prints them. */
  seq: number;
  ack: number;
  flags: TcpFlags;
  /** The flags as tcpdump prints them: "S", "S.", ".", "P.", "F.", "R", "R.", "none"… */
  flagString: string;
  window: number;
  urgent: number;
  checksum: number;
  /** The header's length in bytes (20 without options). */
  headerLength: number;
  options: TcpOption[];
  /** The data's length, from the IP header's length (captured or not): tcpdump's "length". */
  payloadLength: number;
}

/** The UDP header (RFC 768). */
export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** The UDP length field: header and data. */
  length: number;
  checksum: number;
  payloadLength: number;
}

/**
 * An ICMP (RFC 792) or ICMPv6 (RFC 4443) message — which, the IP header's `protocol` says. Echo
 * requests and replies carry `id` and `seq`; errors (unreachable, time exceeded, parameter problem,
 * too big) the start of the datagram that caused them, decoded in `original`.
 */
export interface IcmpHeader {
  type: number;
  code: number;
  checksum: number;
  id?: number;
  seq?: number;
  original?: QuotedPacket;
}

/** The start of the datagram an ICMP error quotes: its IP header and the first 8 bytes after it. */
export interface QuotedPacket {
  ip?: IpHeader;
  tcp?: Pick<TcpHeader, 'srcPort' | 'dstPort' | 'seq'>;
  udp?: UdpHeader;
  icmp?: IcmpHeader;
}

/** ARP or RARP for IPv4 over Ethernet (RFC 826). */
export interface ArpPacket {
  /** 1 request, 2 reply (3, 4: RARP). */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** What decodePacket finds in a frame: each layer it could read. */
export interface DecodedPacket {
  eth?: EthernetHeader;
  arp?: ArpPacket;
  ip?: IpHeader;
  tcp?: TcpHeader;
  udp?: UdpHeader;
  icmp?: IcmpHeader;
  /** Why decoding stopped before the transport layer's end (see the list at the top of decode.ts). */
  undecoded?: string;
}

const ETH_HLEN = 14;

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const mac = (b: Uint8Array, at: number) => Array.from(b.subarray(at, at + 6), hex2).join(':');
const ipv4 = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const ipv6 = (b: Uint8Array, at: number) => inet_ntop(AF_INET6!, b.subarray(at, at + 16));

/**
 * Decodes a captured frame: `bytes` as recvfrom/recvmsg on a SOCK_RAW packet socket return it, and the
 * interface's hardware type (`sll_hatype`, packet(7)): ARPHRD_ETHER and ARPHRD_LOOPBACK frames start
 * with an Ethernet header; ARPHRD_NONE (tun) with the IP header. What it could not decode, and why, is
 * in `undecoded`; lengths come from the headers, so a frame cut short still reports what was sent.
 */
export function decodePacket(bytes: Uint8Array, hatype: number): DecodedPacket {
  const b = checkBytes(bytes, 'bytes');
  checkInt(hatype, 'hatype', 0, 0xffff);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: DecodedPacket = {};
  if (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) {
    if (b.length < ETH_HLEN) return { undecoded: `Ethernet header cut short (${b.length} bytes)` };
    const type = v.getUint16(12);
    out.eth = { dst: mac(b, 0), src: mac(b, 6), type };
    if (type === ETH_P_IP || type === ETH_P_IPV6) network(b, v, ETH_HLEN, out);
    else if (type === ETH_P_ARP || type === ETH_P_RARP) arp(b, v, ETH_HLEN, out);
    else out.undecoded = `EtherType 0x${type.toString(16).padStart(4, '0')}`;
  } else if (hatype === ARPHRD_NONE) {
    network(b, v, 0, out);
  } else {
    out.undecoded = `link type ${hatype} (sll_hatype)`;
  }
  return out;
}

function arp(b: Uint8Array, v: DataView, at: number, out: DecodedPacket): void {
  // hardware type 1 (Ethernet), protocol IPv4, address lengths 6 and 4: the only form read here.
  if (b.length < at + 28 || v.getUint16(at + 2) !== ETH_P_IP || b[at + 4] !== 6 || b[at + 5] !== 4) {
    out.undecoded = 'ARP other than IPv4 over Ethernet, or cut short';
    return;
  }
  out.arp = { op: v.getUint16(at + 6), senderMac: mac(b, at + 8), senderIp: ipv4(b, at + 14), targetMac: mac(b, at + 18), targetIp: ipv4(b, at + 24) };
}

/** IPv4 or IPv6 at `at` (by the version nibble), then its transport; `quoted`: inside an ICMP error. */
function network(b: Uint8Array, v: DataView, at: number, out: DecodedPacket, quoted = false): void {
  if (b.length < at + 1) {
    out.undecoded = 'IP header cut short';
    return;
  }
  const version = b[at] >> 4;
  let payload: number; // where the transport header starts
  let payloadLength: number; // the transport's length, by the IP header
  let protocol: number;
  if (version === 4) {
    const hl = (b[at] & 0x0f) * 4;
    if (b.length < at + 20 || hl < 20) {
      out.undecoded = 'IPv4 header cut short';
      return;
    }
    const frag = v.getUint16(at + 6);
    const ip: Ipv4Header = {
      version: 4, src: ipv4(b, at + 12), dst: ipv4(b, at + 16), ttl: b[at + 8], protocol: b[at + 9],
      length: v.getUint16(at + 2), headerLength: hl, id: v.getUint16(at + 4), tos: b[at + 1],
      flags: { DF: (frag & 0x4000) !== 0, MF: (frag & 0x2000) !== 0 }, fragmentOffset: (frag & 0x1fff) * 8,
      checksum: v.getUint16(at + 10),
    };
    out.ip = ip;
    if (ip.fragmentOffset !== 0) {
      out.undecoded = `IPv4 fragment at offset ${ip.fragmentOffset}`;
      return;
    }
    payload = at + hl;
    payloadLength = ip.length - hl;
    protocol = ip.protocol;
  } else if (version === 6) {
    if (b.length < at + 40) {
      out.undecoded = 'IPv6 header cut short';
      return;
    }
    const first = v.getUint32(at);
    const ip: Ipv6Header = {
      version: 6, src: ipv6(b, at + 8), dst: ipv6(b, at + 24), hopLimit: b[at + 7], protocol: b[at + 6],
      length: 40 + v.getUint16(at + 4), headerLength: 40, trafficClass: (first >>> 20) & 0xff, flowLabel: first & 0xfffff,
      nextHeader: b[at + 6], extensions: [],
    };
    out.ip = ip;
    // The extension headers whose length is in their second byte (RFC 8200 §4), and the fragment header.
    let next = ip.nextHeader;
    let p = at + 40;
    while (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_FRAGMENT) {
      if (b.length < p + 8) {
        out.undecoded = 'IPv6 extension header cut short';
        return;
      }
      const len = next === IPPROTO_FRAGMENT ? 8 : (b[p + 1] + 1) * 8;
      ip.extensions.push(next);
      if (next === IPPROTO_FRAGMENT) {
        const off = v.getUint16(p + 2);
        ip.fragment = { offset: off & 0xfff8, MF: (off & 1) !== 0, id: v.getUint32(p + 4) };
      }
      next = b[p];
      p += len;
    }
    ip.protocol = next;
    ip.headerLength = p - at;
    if (ip.fragment !== undefined && ip.fragment.offset !== 0) {
      out.undecoded = `IPv6 fragment at offset ${ip.fragment.offset}`;
      return;
    }
    payload = p;
    payloadLength = ip.length - ip.headerLength;
    protocol = next;
  } else {
    out.undecoded = `IP version ${version}`;
    return;
  }
  if (protocol === IPPROTO_TCP) tcp(b, v, payload, payloadLength, out, quoted);
  else if (protocol === IPPROTO_UDP) udp(b, v, payload, payloadLength, out, quoted);
  else if (protocol === IPPROTO_ICMP || protocol === IPPROTO_ICMPV6) icmp(b, v, payload, protocol, out, quoted);
  else out.undecoded = `IP protocol ${protocol}`;
}

// tcpdump's order and letters (print-tcp.c tcp_flag_values): "F", "S", "R", "P", "U", "E", "W", then ".".
const FLAG_BITS: [keyof TcpFlags, number, string][] = [
  ['FIN', 0x01, 'F'], ['SYN', 0x02, 'S'], ['RST', 0x04, 'R'], ['PSH', 0x08, 'P'],
  ['URG', 0x20, 'U'], ['ECE', 0x40, 'E'], ['CWR', 0x80, 'W'], ['ACK', 0x10, '.'],
];

function tcp(b: Uint8Array, v: DataView, at: number, ipPayload: number, out: DecodedPacket, quoted: boolean): void {
  // An ICMP error quotes only 8 bytes of the transport header: ports and sequence number.
  if (quoted && b.length >= at + 8) {
    (out as QuotedPacket).tcp = { srcPort: v.getUint16(at), dstPort: v.getUint16(at + 2), seq: v.getUint32(at + 4) };
    return;
  }
  if (b.length < at + 20) {
    out.undecoded = 'TCP header cut short';
    return;
  }
  const hl = (b[at + 12] >> 4) * 4;
  const bits = b[at + 13];
  const flags = {} as TcpFlags;
  let flagString = '';
  for (const [name, bit, letter] of FLAG_BITS) {
    flags[name] = (bits & bit) !== 0;
    if (flags[name]) flagString += letter;
  }
  out.tcp = {
    srcPort: v.getUint16(at), dstPort: v.getUint16(at + 2), seq: v.getUint32(at + 4), ack: v.getUint32(at + 8),
    flags, flagString: flagString || 'none', window: v.getUint16(at + 14), checksum: v.getUint16(at + 16),
    urgent: v.getUint16(at + 18), headerLength: hl, options: tcpOptions(b, v, at + 20, Math.min(at + hl, b.length)),
    payloadLength: Math.max(0, ipPayload - hl),
  };
  if (hl < 20 || b.length < at + hl) out.undecoded = 'TCP options cut short';
}

function tcpOptions(b: Uint8Array, v: DataView, from: number, end: number): TcpOption[] {
  const opts: TcpOption[] = [];
  for (let p = from; p < end;) {
    const kind = b[p];
    if (kind === TCPOPT_EOL) {
      opts.push({ kind, name: 'eol' });
      break;
    }
    if (kind === TCPOPT_NOP) {
      opts.push({ kind, name: 'nop' });
      p += 1;
      continue;
    }
    const len = p + 1 < end ? b[p + 1] : 0;
    if (len < 2 || p + len > end) break; // malformed: stop, as the kernel does
    if (kind === TCPOPT_MAXSEG && len === 4) opts.push({ kind, name: 'mss', mss: v.getUint16(p + 2) });
    else if (kind === TCPOPT_WINDOW && len === 3) opts.push({ kind, name: 'wscale', wscale: b[p + 2] });
    else if (kind === TCPOPT_SACK_PERMITTED && len === 2) opts.push({ kind, name: 'sackOK', sackOK: true });
    else if (kind === TCPOPT_TIMESTAMP && len === 10) opts.push({ kind, name: 'TS', timestamp: { val: v.getUint32(p + 2), ecr: v.getUint32(p + 6) } });
    else if (kind === TCPOPT_SACK && (len - 2) % 8 === 0) {
      const sack: { left: number; right: number }[] = [];
      for (let q = p + 2; q < p + len; q += 8) sack.push({ left: v.getUint32(q), right: v.getUint32(q + 4) });
      opts.push({ kind, name: 'sack', sack });
    } else opts.push({ kind, name: `opt-${kind}`, data: Buffer.from(b.subarray(p + 2, p + len)) });
    p += len;
  }
  return opts;
}

function udp(b: Uint8Array, v: DataView, at: number, ipPayload: number, out: DecodedPacket, quoted: boolean): void {
  if (b.length < at + 8) {
    out.undecoded = 'UDP header cut short';
    return;
  }
  const length = v.getUint16(at + 4);
  out.udp = { srcPort: v.getUint16(at), dstPort: v.getUint16(at + 2), length, checksum: v.getUint16(at + 6), payloadLength: Math.max(0, (quoted ? length : Math.min(length, ipPayload)) - 8) };
}

// ICMP types that quote the datagram that caused them (RFC 792: unreachable, source quench, redirect,
// time exceeded, parameter problem; RFC 4443: unreachable, too big, time exceeded, parameter problem),
// and the echo request/reply pairs that carry an identifier and sequence number.
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);
const ICMP6_ERRORS = new Set([1, 2, 3, 4]);
const ICMP_ECHO = new Set([0, 8]);
const ICMP6_ECHO = new Set([128, 129]);

function icmp(b: Uint8Array, v: DataView, at: number, protocol: number, out: DecodedPacket, quoted: boolean): void {
  if (b.length < at + 4) {
    out.undecoded = 'ICMP header cut short';
    return;
  }
  const type = b[at];
  const m: IcmpHeader = { type, code: b[at + 1], checksum: v.getUint16(at + 2) };
  out.icmp = m;
  const v6 = protocol === IPPROTO_ICMPV6;
  if ((v6 ? ICMP6_ECHO : ICMP_ECHO).has(type) && b.length >= at + 8) {
    m.id = v.getUint16(at + 4);
    m.seq = v.getUint16(at + 6);
  } else if (!quoted && (v6 ? ICMP6_ERRORS : ICMP_ERRORS).has(type) && b.length > at + 8) {
    const original: DecodedPacket = {};
    network(b, v, at + 8, original, true);
    m.original = { ip: original.ip, tcp: original.tcp, udp: original.udp, icmp: original.icmp };
    for (const k of ['ip', 'tcp', 'udp', 'icmp'] as const) if (m.original[k] === undefined) delete m.original[k];
  }
}
