// A capture socket: packet(7) with the library's own calls, opened as libpcap opens one on Linux, and
// each packet it reads turned into a decoded packet with the kernel's timestamp. Synchronous: the
// promises API's capture() waits on it without blocking the event loop (stream.ts), and a program
// can poll(2) its descriptor and read what is queued.
import { constants as osConstants } from 'node:os';
import { native, silently } from '../binding';
import {
  AF_INET, AF_PACKET, ARPHRD_ETHER, ARPHRD_LOOPBACK, ETH_P_ALL, MSG_DONTWAIT, MSG_TRUNC, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC,
  PACKET_OUTGOING, SCM_TIMESTAMPNS, SOCK_DGRAM, SOCK_RAW, SOL_PACKET, SOL_SOCKET, SO_ATTACH_FILTER, SO_TIMESTAMPNS,
} from '../constants';
import { SystemError, errnoException, invalidArgType, invalidArgValue } from '../errors';
import type { SockFilter } from '../filter';
import type { SocketHandle } from '../handle';
import { type ReceivedMessage, type RecvMsgOptions, prepareRecvmsg } from '../message';
import { sendto } from '../io';
import { setsockopt } from '../options';
import type { PacketAddress } from '../packet';
import { if_nametoindex } from '../resolve';
import { bind, getsockname, socket } from '../socket';
import { checkInt } from '../validate';
import { type FilterSpec, MAXIMUM_SNAPLEN, compileFilter, parseFilter } from './compile';
import { type DecodedPacket, decodePacket } from './decode';

/** What a capture takes besides the interface: a filter, and how much of each packet to keep. */
export interface CaptureOptions extends FilterSpec {
  /**
   * A filter expression in pcap-filter(7)'s syntax, of the forms compileFilter knows (`'tcp and port
   * 8080'`), joined with `host`/`port`/`protocol` if also given; or a classic BPF program of your own.
   */
  filter?: string | SockFilter[];
  /** Bytes kept of each packet, 1..262144 (default 262144, tcpdump's); `length` still says how long it was. */
  snaplen?: number;
  /** Also see frames for other hosts: PACKET_ADD_MEMBERSHIP with PACKET_MR_PROMISC (tcpdump's default; -p turns it off). */
  promiscuous?: boolean;
}

/** A packet as the capture saw it: when, where, how long, its bytes, and the decoded headers. */
export interface CapturedPacket extends DecodedPacket {
  /** The kernel's timestamp (SCM_TIMESTAMPNS, socket(7)): CLOCK_REALTIME when the interface handed it over. */
  time: { tv_sec: number; tv_nsec: number };
  /** The same in milliseconds since the Epoch (a float, to about a microsecond): `new Date(ms)`. */
  ms: number;
  /** The interface (if_nametoindex(3)). */
  ifindex: number;
  /** PACKET_HOST (for this host), PACKET_OUTGOING (sent by it), PACKET_BROADCAST… (packet(7) sll_pkttype). */
  pkttype: number;
  /** The link type the bytes start with: ARPHRD_ETHER, ARPHRD_LOOPBACK… (sll_hatype). */
  hatype: number;
  /** The packet's length on the wire (tcpdump's "len"). */
  length: number;
  /** How many of its bytes were kept (at most `snaplen`: tcpdump's "caplen"). */
  captured: number;
  /** Those bytes, from the link-level header on. */
  data: Buffer;
}

const ENODEV = osConstants.errno.ENODEV;
const EAFNOSUPPORT = osConstants.errno.EAFNOSUPPORT;

/** The filter program for these options, or undefined for none (every packet). */
function programOf(options: CaptureOptions): SockFilter[] | undefined {
  const { filter, host, port, protocol } = options;
  const fields: FilterSpec = {};
  if (host !== undefined) fields.host = host;
  if (port !== undefined) fields.port = port;
  if (protocol !== undefined) fields.protocol = protocol;
  if (Array.isArray(filter)) {
    if (Object.keys(fields).length > 0) throw invalidArgValue('options', options, 'has a BPF program as filter and host/port/protocol too: compile them into it (compileFilter)');
    return filter;
  }
  if (filter !== undefined && typeof filter !== 'string') throw invalidArgType('options.filter', 'a filter expression or an array of { code, jt, jf, k }', filter);
  const spec = filter === undefined ? fields : parseFilter(filter);
  for (const key of Object.keys(fields) as (keyof FilterSpec)[]) {
    if (filter !== undefined && spec[key] !== undefined) throw invalidArgValue('options', options, `gives ${key} in the filter and as an option`);
    (spec as Record<string, unknown>)[key] = fields[key];
  }
  if (Object.keys(spec).length === 0) return undefined;
  return compileFilter(spec);
}

/**
 * An open capture on one interface. `read()` takes the next queued packet without waiting; `fd` is
 * there for poll(2); `close()` ends it (idempotent). On a loopback interface every packet leaves and
 * comes back, and packet(7) shows it twice, as PACKET_OUTGOING and PACKET_HOST: the outgoing copy is
 * skipped, as libpcap does (pcap-linux.c, linux_check_direction: "we'll see the packet as an incoming
 * packet as well, and we don't want to see it twice"), so the capture shows what tcpdump -i lo shows.
 */
export class CaptureSocket {
  /** The filter program the kernel runs on each packet (none: every packet). */
  readonly program: SockFilter[] | undefined;
  private readonly buf: Buffer;
  private readonly message: RecvMsgOptions;
  private readonly dontwait: RecvMsgOptions;

  /** @internal Use openCapture(). */
  constructor(
    /** The packet socket. */
    readonly fd: SocketHandle,
    /** The interface's index and hardware type (ARPHRD_ETHER, ARPHRD_LOOPBACK…). */
    readonly ifindex: number,
    readonly hatype: number,
    program: SockFilter[] | undefined,
    snaplen: number,
  ) {
    this.program = program;
    this.buf = Buffer.alloc(snaplen);
    // MSG_TRUNC: recvmsg returns the packet's real length even when the buffer holds less (packet(7)).
    this.message = { iov: this.buf, flags: MSG_TRUNC };
    this.dontwait = { iov: this.buf, flags: MSG_TRUNC | MSG_DONTWAIT! };
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.fd.closed;
  }

  /** @internal What recvmsg is given for one packet (the promises API's recvmsg, in capture()). */
  get recvmsgOptions(): RecvMsgOptions {
    return this.message;
  }

  /**
   * The next queued packet, or null when none is queued (recvmsg(2) with MSG_DONTWAIT: EAGAIN).
   * Loopback's outgoing copies are read and skipped.
   */
  read(): CapturedPacket | null {
    const call = prepareRecvmsg(this.fd, this.dontwait);
    for (;;) {
      const r = call.call();
      if (typeof r === 'number') {
        if (r === -osConstants.errno.EAGAIN || r === -osConstants.errno.EWOULDBLOCK) return null;
        throw errnoException(r, 'recvmsg');
      }
      const p = this.packetOf(r);
      if (p !== null) return p;
    }
  }

  /** @internal The packet a recvmsg of `recvmsgOptions` received, or null for a copy to skip. */
  packetOf(m: ReceivedMessage): CapturedPacket | null {
    const from = m.address as PacketAddress | null;
    const pkttype = from?.pkttype ?? 0;
    if (pkttype === PACKET_OUTGOING && this.hatype === ARPHRD_LOOPBACK) return null;
    const captured = Math.min(m.n, this.buf.length);
    const data = Buffer.from(this.buf.subarray(0, captured));
    let time: { tv_sec: number; tv_nsec: number } | undefined;
    for (const c of m.control) {
      if (c.level === SOL_SOCKET && c.type === SCM_TIMESTAMPNS && 'tv_sec' in c) time = { tv_sec: c.tv_sec, tv_nsec: c.tv_nsec };
    }
    // packet_recvmsg always adds it once SO_TIMESTAMPNS is on (sock_recv_timestamp); should it not,
    // the time of reading stands in, to the millisecond.
    if (time === undefined) {
      const now = Date.now();
      time = { tv_sec: Math.floor(now / 1000), tv_nsec: (now % 1000) * 1e6 };
    }
    return {
      time,
      ms: time.tv_sec * 1e3 + time.tv_nsec / 1e6,
      ifindex: from?.ifindex ?? this.ifindex,
      pkttype,
      hatype: from?.hatype ?? this.hatype,
      length: m.n,
      captured,
      data,
      ...decodePacket(data, from?.hatype ?? this.hatype),
    };
  }

  /** close(2) on the packet socket (idempotent). */
  close(): void {
    this.fd.close();
  }
}

/**
 * Opens a capture on interface `ifname` ('lo', 'eth0'), as libpcap does on Linux, with the library's
 * own calls (packet(7)); needs CAP_NET_RAW (else socket fails with EPERM):
 *
 * 1. `socket(AF_PACKET, SOCK_RAW, 0)`: protocol 0 receives nothing yet (packet_create hooks no protocol),
 * 2. `bind` to the interface with protocol 0, and `getsockname` for its hardware type (sll_hatype),
 * 3. `setsockopt(SO_ATTACH_FILTER)` with the compiled filter (compileFilter, for Ethernet framing),
 * 4. `setsockopt(SO_TIMESTAMPNS)`: each packet comes with the kernel's timestamp, stamped when it
 *    arrives once the kernel has turned stamping on (see below; this waits for it),
 * 5. `bind` with ETH_P_ALL: packets start to come, every one through the filter already — none was
 *    queued before it, so nothing needs draining (libpcap binds first and drains with a drop-all filter).
 *
 * The descriptor is closed on any failure. Read packets with `read()` (non-blocking), or iterate them
 * with capture() from berkeley-sockets/promises.
 *
 * Timestamps: the first socket on the system to ask for them turns receive timestamps on for every
 * packet (net_enable_timestamp), from a work queue; a packet that arrives in the moment before is
 * stamped when it is read instead (__sock_recv_timestamp stamps an unstamped skb), which put a
 * handshake read late after a FIN stamped on arrival. So before packets start to come, a datagram to
 * itself on 127.0.0.1 (socket, bind, setsockopt, getsockname, sendto, recvmsg, close) checks that
 * the kernel stamps on arrival, and is sent again, 1 ms apart, until it does (at most 500 times).
 */
export function openCapture(ifname: string, options: CaptureOptions = {}): CaptureSocket {
  if (typeof ifname !== 'string') throw invalidArgType('ifname', 'of type string', ifname);
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const snaplen = checkInt(options.snaplen ?? MAXIMUM_SNAPLEN, 'options.snaplen', 1, MAXIMUM_SNAPLEN);
  const program = programOf(options);
  if (AF_PACKET === undefined) throw errnoException(-EAFNOSUPPORT, 'socket');
  const fd = socket(AF_PACKET, SOCK_RAW, 0);
  try {
    const ifindex = if_nametoindex(ifname);
    if (ifindex === 0) throw new SystemError('ENODEV', -ENODEV, 'if_nametoindex', undefined, ifname);
    bind(fd, { family: AF_PACKET, protocol: 0, ifindex });
    const { hatype } = getsockname(fd) as PacketAddress;
    // The compiled forms read the EtherType at 12 and the IP header at 14; a program of the caller's
    // own is the caller's business.
    if (program !== undefined && !Array.isArray(options.filter) && hatype !== ARPHRD_ETHER && hatype !== ARPHRD_LOOPBACK) {
      throw invalidArgValue('ifname', ifname, `has link type ${hatype} (sll_hatype), and filters are compiled for Ethernet framing only`);
    }
    if (program !== undefined) setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER!, program);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS!, 1);
    silently(awaitArrivalStamps); // the library's own calls: a traced program did not make them
    if (options.promiscuous) setsockopt(fd, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: ifindex, mr_type: PACKET_MR_PROMISC! });
    bind(fd, { family: AF_PACKET, protocol: ETH_P_ALL!, ifindex });
    return new CaptureSocket(fd, ifindex, hatype, program, snaplen);
  } catch (e) {
    fd.close();
    throw e;
  }
}

/** Sleeps `ms` milliseconds without a system call of ours in between (futex). */
const nap = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Returns once the kernel stamps packets on arrival, or after 500 tries: a datagram sent to itself
 * on 127.0.0.1 whose SCM_TIMESTAMPNS is no later than the clock read right after sendto returned was
 * stamped on arrival (on the loopback it arrives inside sendto), not when recvmsg read it. Where it
 * cannot be sent (a network namespace whose lo is down), packets are captured all the same.
 */
function awaitArrivalStamps(): void {
  let rx: SocketHandle | undefined;
  let tx: SocketHandle | undefined;
  try {
    rx = socket(AF_INET, SOCK_DGRAM, 0);
    tx = socket(AF_INET, SOCK_DGRAM, 0);
    bind(rx, { family: AF_INET, address: '127.0.0.1', port: 0 });
    setsockopt(rx, SOL_SOCKET, SO_TIMESTAMPNS!, 1);
    const to = getsockname(rx);
    const clock = new Float64Array(2);
    const iov = Buffer.alloc(1);
    for (let i = 0; i < 500; i++) {
      sendto(tx, iov, to);
      native.clock_realtime(clock);
      const m = prepareRecvmsg(rx, { iov, controlLength: 64, flags: MSG_DONTWAIT }).call();
      if (typeof m !== 'number') {
        const ts = m.control.find((c) => c.level === SOL_SOCKET && c.type === SCM_TIMESTAMPNS) as { tv_sec: number; tv_nsec: number } | undefined;
        if (ts === undefined) return; // the kernel gives no stamp to wait for
        if (ts.tv_sec < clock[0] || (ts.tv_sec === clock[0] && ts.tv_nsec <= clock[1])) return;
      }
      nap(1);
    }
  } catch {
    // No 127.0.0.1 to send to: nothing to wait with.
  } finally {
    rx?.close();
    tx?.close();
  }
}
