// The wire beside the calls (BSOCK_TRACE=wire): a capture on the loopback, read between the traced
// calls, each packet printed as a line of its own in tcpdump -nn -S's words, before the first call that
// began after the kernel stamped it. Both clocks are CLOCK_REALTIME: the kernel's packet timestamp
// (SO_TIMESTAMPNS, socket(7)) and the call's (clock_gettime, native/process.cc), so the order is the
// kernel's, not the order in which this file happened to read the packets.
import { native } from '../binding';
import type { CapturedPacket, CaptureSocket } from '../capture/source';
import { openCapture } from '../capture/source';
import { MAXIMUM_SNAPLEN } from '../capture/compile';
import { ARPHRD_ETHER, ARPHRD_LOOPBACK, SOL_SOCKET, SO_ATTACH_FILTER, SO_RCVBUF, SO_RCVBUFFORCE } from '../constants';
import { setsockopt } from '../options';
import { wireFilter } from './wire-filter';
import type { TcpHeader, TcpOption } from '../capture/decode';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../constants';

/** A CLOCK_REALTIME instant: [tv_sec, tv_nsec]. */
export type Instant = readonly [number, number];

const clockOut = new Float64Array(2);

/** clock_gettime(CLOCK_REALTIME): the clock the kernel stamps packets with. */
export function realtime(): Instant {
  native.clock_realtime(clockOut);
  return [clockOut[0], clockOut[1]];
}

const before = (a: Instant, b: Instant) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** The prefix that tells a packet line from a call line (strace never starts a line with it). */
export const PACKET_MARK = '  ── ';

/** `1733328301.123456`: tcpdump -tt's time, seconds and microseconds. */
export function formatTime(t: Instant): string {
  return `${t[0]}.${String(Math.floor(t[1] / 1000)).padStart(6, '0')}`;
}

function option(o: TcpOption): string {
  if (o.mss !== undefined) return `mss ${o.mss}`;
  if (o.wscale !== undefined) return `wscale ${o.wscale}`;
  if (o.sackOK) return 'sackOK';
  if (o.timestamp) return `TS val ${o.timestamp.val} ecr ${o.timestamp.ecr}`;
  if (o.sack) return `sack ${o.sack.length} ${o.sack.map((b) => `{${b.left}:${b.right}}`).join('')}`;
  return o.name;
}

/** The TCP part of tcpdump's line (print-tcp.c, with -S: absolute sequence numbers). */
function tcpLine(t: TcpHeader): string {
  const parts = [`Flags [${t.flagString}]`];
  // tcpdump shows seq for a segment that carries data or a SYN, FIN or RST; ack when ACK is set.
  if (t.payloadLength > 0 || t.flags.SYN || t.flags.FIN || t.flags.RST) {
    parts.push(`seq ${t.seq}${t.payloadLength > 0 ? `:${(t.seq + t.payloadLength) >>> 0}` : ''}`);
  }
  if (t.flags.ACK) parts.push(`ack ${t.ack}`);
  parts.push(`win ${t.window}`);
  if (t.flags.URG) parts.push(`urg ${t.urgent}`);
  if (t.options.length > 0) parts.push(`options [${t.options.map(option).join(',')}]`);
  parts.push(`length ${t.payloadLength}`);
  return parts.join(', ');
}

const ICMP_NAMES: Record<number, string> = { 0: 'echo reply', 8: 'echo request' };
const ICMP6_NAMES: Record<number, string> = { 128: 'echo request', 129: 'echo reply' };

/**
 * A packet as tcpdump -nn -S prints it (without the time): `IP 127.0.0.1.41234 > 127.0.0.1.3400:
 * Flags [S], seq 1, win 65495, options [mss 65495,…], length 0`, UDP's `UDP, length 5`, ICMP's
 * `ICMP echo request, id 1, seq 1, length 64`. Undefined for what is not IP.
 */
export function formatPacket(p: CapturedPacket): string | undefined {
  const ip = p.ip;
  if (ip === undefined) return undefined;
  const v = ip.version === 4 ? 'IP' : 'IP6';
  const payload = ip.length - ip.headerLength;
  if (p.tcp) return `${v} ${ip.src}.${p.tcp.srcPort} > ${ip.dst}.${p.tcp.dstPort}: ${tcpLine(p.tcp)}`;
  if (p.udp) return `${v} ${ip.src}.${p.udp.srcPort} > ${ip.dst}.${p.udp.dstPort}: UDP, length ${p.udp.payloadLength}`;
  if (p.icmp) {
    const i = p.icmp;
    const six = ip.protocol === IPPROTO_ICMPV6;
    const what = (six ? ICMP6_NAMES : ICMP_NAMES)[i.type];
    const q = i.original;
    if (what !== undefined) {
      return six
        ? `${v} ${ip.src} > ${ip.dst}: ICMP6, ${what}, id ${i.id}, seq ${i.seq}, length ${payload}`
        : `${v} ${ip.src} > ${ip.dst}: ICMP ${what}, id ${i.id}, seq ${i.seq}, length ${payload}`;
    }
    if (!six && ip.protocol === IPPROTO_ICMP && i.type === 3 && i.code === 3 && q?.udp && q.ip) {
      return `${v} ${ip.src} > ${ip.dst}: ICMP ${q.ip.dst} udp port ${q.udp.dstPort} unreachable, length ${payload}`;
    }
    return `${v} ${ip.src} > ${ip.dst}: ${six ? 'ICMP6' : 'ICMP'} type ${i.type}, code ${i.code}, length ${payload}`;
  }
  return `${v} ${ip.src} > ${ip.dst}: ip-proto-${ip.protocol} ${payload}`;
}

/** The ports a packet involves: TCP's and UDP's, and those of the datagram an ICMP error quotes. */
function portsOf(p: CapturedPacket): number[] {
  const t = p.tcp ?? p.udp;
  if (t) return [t.srcPort, t.dstPort];
  const q = p.icmp?.original;
  const qt = q?.tcp ?? q?.udp;
  return qt ? [qt.srcPort, qt.dstPort] : [];
}

const PORT = /sin6?_port=htons\((\d+)\)/g;
const WIRE_QUEUE = 8 * 1024 * 1024;

/**
 * The packets of the program's own sockets, read from a capture between its calls. The ports come
 * from the trace's own lines (bind's and connect's addresses, getsockname's, getpeername's and
 * accept's answers, and the destination of connect, sendto and sendmsg before the call): a packet with
 * one of them at either end is the program's. A port learnt late counts for the packets still held;
 * with the trace's kernel filter, those of a port no line had named yet were not kept, but for SYN, FIN
 * and RST (a socket used before the trace began shows from the first line that names its port). Another
 * program's packets on one of those ports would show too (a port is all a packet says of its socket).
 * Between calls the packets wait in the capture socket's receive queue (SO_RCVBUF, packet(7)), 8 MiB,
 * behind a kernel filter that keeps other programs' traffic out of it (wire-filter.ts).
 */
export class Wire {
  private readonly held: CapturedPacket[] = [];
  private readonly ports = new Set<number>();

  // Whether the capture's link is Ethernet-framed, as the kernel filter (wire-filter.ts) reads it.
  private readonly filtered: boolean;

  /**
   * `byPort`: give the kernel a filter that keeps only what may be the program's (wire-filter.ts),
   * re-attached as ports are learnt — for a reader that learns a destination port before the call that
   * sends to it, as the trace does. Without it every packet is queued until read.
   */
  constructor(private readonly capture: CaptureSocket, byPort = false) {
    this.filtered = byPort && (capture.hatype === ARPHRD_ETHER || capture.hatype === ARPHRD_LOOPBACK);
    if (this.filtered) this.refilter();
    // Room for what waits between two calls: 8 MiB where CAP_NET_ADMIN allows more than rmem_max (root),
    // else as much of it as net.core.rmem_max grants (SO_RCVBUF is capped there, not refused).
    // Neither is needed to capture: a refusal leaves the default queue.
    try {
      setsockopt(capture.fd, SOL_SOCKET, SO_RCVBUFFORCE!, WIRE_QUEUE);
    } catch {
      try {
        setsockopt(capture.fd, SOL_SOCKET, SO_RCVBUF, WIRE_QUEUE);
      } catch {}
    }
  }

  /** Opens the capture on `ifname`: the loopback, where a program talking to itself sends everything. */
  static open(ifname: string): Wire {
    return new Wire(openCapture(ifname), true);
  }

  /** Gives the kernel the filter for the ports learnt so far (wire-filter.ts says what it keeps). */
  private refilter(): void {
    if (!this.filtered || this.capture.closed) return;
    try {
      setsockopt(this.capture.fd, SOL_SOCKET, SO_ATTACH_FILTER!, wireFilter(this.ports, MAXIMUM_SNAPLEN));
    } catch {
      // Not needed to capture (ENOMEM for the program): the last filter, or none, stays.
    }
  }

  /** Learns the ports named in one trace line. */
  learn(line: string): void {
    for (const m of line.matchAll(PORT)) this.watch(Number(m[1]));
  }

  /** Counts `port` as the program's (socklab's capture learns its sockets' ports from getsockname(2)). */
  watch(port: number): void {
    if (port === 0 || this.ports.has(port)) return;
    this.ports.add(port);
    this.refilter();
  }

  /** Reads what is queued (at most `max` packets, so a flood cannot hold the program) into `held`. */
  private take(max = 10000): void {
    for (let i = 0; i < max; i++) {
      const p = this.capture.read();
      if (p === null) break;
      this.held.push(p);
    }
    this.held.sort((a, b) => a.time.tv_sec - b.time.tv_sec || a.time.tv_nsec - b.time.tv_nsec);
  }

  /**
   * The lines of the program's packets stamped before `until` (all of them without it), in the kernel's
   * order; later ones stay held for the next call.
   */
  drain(until?: Instant): string[] {
    if (!this.capture.closed) this.take();
    const out: string[] = [];
    while (this.held.length > 0) {
      const p = this.held[0];
      const t: Instant = [p.time.tv_sec, p.time.tv_nsec];
      if (until !== undefined && !before(t, until)) break;
      this.held.shift();
      if (!portsOf(p).some((port) => this.ports.has(port))) continue;
      const text = formatPacket(p);
      if (text !== undefined) out.push(`${PACKET_MARK}${formatTime(t)} ${text}`);
    }
    return out;
  }

  /**
   * Reads what is left (for a last drain()), then closes the capture (idempotent). A forked child
   * closes its copy unread: the packets are its parent's to print.
   */
  close(read = true): void {
    if (this.capture.closed) return;
    if (read) this.take();
    this.capture.close();
  }
}
