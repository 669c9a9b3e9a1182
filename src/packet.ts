// packet(7) addresses: struct sockaddr_ll, the link-level address of an AF_PACKET socket (Linux). The
// plain object every call takes and returns, and the C struct with its sll_ fields. As for AF_INET,
// the object form holds the protocol in host order (as `port`), the C struct in network order (as
// `sin_port`): `{ protocol: ETH_P_ALL }` is `sll_protocol = htons(ETH_P_ALL)`. The layout is the
// compiler's (native/constants.cc); where the platform has no AF_PACKET it is absent, and encoding
// one is an ERR_INVALID_ARG_VALUE.
import { native } from './binding';
import { LITTLE } from './byteorder';
import { AF_PACKET } from './constants';
import { invalidArgValue, outOfRange } from './errors';
import { INT32_MAX, checkBytes, checkInt } from './validate';

const L = native.layout;

/** A link-level endpoint (packet(7)), as recvfrom, recvmsg and getsockname return it for AF_PACKET. */
export interface PacketAddress {
  family: number;
  /** The Ethernet protocol (ETH_P_IP, ETH_P_ARP…) in host byte order, as `port` is: sll_protocol is htons(protocol). */
  protocol: number;
  /** The interface (if_nametoindex(3)). */
  ifindex: number;
  /** The device's hardware type: ARPHRD_ETHER, ARPHRD_LOOPBACK… */
  hatype: number;
  /** Whom the packet was for: PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING. */
  pkttype: number;
  /** The hardware address's length (6 on Ethernet and on lo). */
  halen: number;
  /** The hardware address: its `halen` bytes, or as many of them as the kernel returned. */
  addr: Buffer;
}

/**
 * A link-level address as bind(2) and sendto(2) take it: fields left out are 0, `halen` defaults to
 * the length of `addr` (at most 8 bytes, sizeof sll_addr). To bind: `{ family: AF_PACKET, protocol:
 * ETH_P_ALL, ifindex: if_nametoindex('lo') }`.
 */
export interface PacketAddressInput {
  family: number;
  /** Host byte order, as PacketAddress.protocol. */
  protocol?: number;
  ifindex?: number;
  hatype?: number;
  pkttype?: number;
  halen?: number;
  addr?: Uint8Array | readonly number[];
}

/** `struct sockaddr_ll`'s fields (packet(7)). */
export interface SockaddrLlStruct {
  sll_family: number;
  /** Network byte order: write `htons(ETH_P_ALL)`. */
  sll_protocol: number;
  sll_ifindex: number;
  sll_hatype: number;
  sll_pkttype: number;
  sll_halen: number;
  /** 8 bytes (the first sll_halen of them are the address). */
  sll_addr: Uint8Array;
}

interface LlLayout {
  size: number;
  family: number;
  protocol: number;
  ifindex: number;
  hatype: number;
  pkttype: number;
  halen: number;
  addr: number;
  addrSize: number;
}

const LL: LlLayout | undefined = L.sockaddr_ll === undefined ? undefined : {
  size: L.sockaddr_ll,
  family: L.sll_family!,
  protocol: L.sll_protocol!,
  ifindex: L.sll_ifindex!,
  hatype: L.sll_hatype!,
  pkttype: L.sll_pkttype!,
  halen: L.sll_halen!,
  addr: L.sll_addr!,
  addrSize: L.sll_addr_size!,
};

function layout(): LlLayout {
  if (LL === undefined) throw invalidArgValue('address.family', AF_PACKET, 'is AF_PACKET, which this platform does not have');
  return LL;
}

/** sizeof(struct sockaddr_ll), or undefined where there is none. */
export const SOCKADDR_LL_SIZE = LL?.size;

function hardwareAddress(value: unknown, name: string, size: number): Uint8Array {
  let bytes: Uint8Array;
  if (Array.isArray(value)) {
    bytes = Uint8Array.from(value, (x, i) => checkInt(x, `${name}[${i}]`, 0, 0xff));
  } else {
    bytes = checkBytes(value, name);
  }
  if (bytes.length > size) throw outOfRange(name, `at most ${size} bytes (sizeof sll_addr)`, `${bytes.length} bytes`);
  return bytes;
}

function write(l: LlLayout, family: number, protocolBE: number, ifindex: number, hatype: number, pkttype: number, halen: number, addr: Uint8Array): Buffer {
  const b = Buffer.alloc(l.size);
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  v.setUint16(l.family, family, LITTLE);
  v.setUint16(l.protocol, protocolBE, false);
  v.setInt32(l.ifindex, ifindex, LITTLE);
  v.setUint16(l.hatype, hatype, LITTLE);
  b[l.pkttype] = pkttype;
  b[l.halen] = halen;
  b.set(addr, l.addr);
  return b;
}

/** @internal The sockaddr_ll bytes of the object form (protocol in host order). */
export function encodePacket(a: PacketAddressInput): Buffer {
  const l = layout();
  const addr = a.addr === undefined ? new Uint8Array(0) : hardwareAddress(a.addr, 'addr', l.addrSize);
  return write(
    l,
    AF_PACKET!,
    checkInt(a.protocol ?? 0, 'protocol', 0, 0xffff),
    checkInt(a.ifindex ?? 0, 'ifindex', 0, INT32_MAX),
    checkInt(a.hatype ?? 0, 'hatype', 0, 0xffff),
    checkInt(a.pkttype ?? 0, 'pkttype', 0, 0xff),
    checkInt(a.halen ?? addr.length, 'halen', 0, 0xff),
    addr,
  );
}

/** @internal The bytes of the C struct form (sll_protocol already in network order, as C holds it). */
export function encodePacketStruct(s: SockaddrLlStruct): Buffer {
  const l = layout();
  const b = write(
    l,
    checkInt(s.sll_family, 'sll_family', 0, 0xffff),
    0,
    checkInt(s.sll_ifindex, 'sll_ifindex', 0, INT32_MAX),
    checkInt(s.sll_hatype, 'sll_hatype', 0, 0xffff),
    checkInt(s.sll_pkttype, 'sll_pkttype', 0, 0xff),
    checkInt(s.sll_halen, 'sll_halen', 0, 0xff),
    s.sll_addr === undefined ? new Uint8Array(0) : hardwareAddress(s.sll_addr, 'sll_addr', l.addrSize),
  );
  // Stored as the host reads it, as sin_port is: the number is already htons(protocol).
  new DataView(b.buffer, b.byteOffset, b.length).setUint16(l.protocol, checkInt(s.sll_protocol, 'sll_protocol', 0, 0xffff), LITTLE);
  return b;
}

/**
 * @internal The object form of `length` sockaddr_ll bytes at `offset` (the family already read), or
 * undefined when they stop before sll_addr. The kernel returns offsetof(sll_addr) + halen bytes from
 * getsockname (18 on lo), and may return more than sizeof: `addr` holds every address byte it wrote.
 */
export function decodePacketAt(b: Uint8Array, offset: number, length: number, family: number): PacketAddress | undefined {
  if (LL === undefined || length < LL.addr) return undefined;
  const v = new DataView(b.buffer, b.byteOffset + offset, length);
  const halen = b[offset + LL.halen];
  const start = offset + LL.addr;
  return {
    family,
    protocol: v.getUint16(LL.protocol, false),
    ifindex: v.getInt32(LL.ifindex, LITTLE),
    hatype: v.getUint16(LL.hatype, LITTLE),
    pkttype: b[offset + LL.pkttype],
    halen,
    addr: Buffer.from(b.subarray(start, start + Math.min(halen, length - LL.addr))),
  };
}

/**
 * `struct sockaddr_ll` (packet(7)), zeroed like `memset(&addr, 0, sizeof addr)`:
 * ```ts
 * const sll = new sockaddr_ll();
 * sll.sll_family = AF_PACKET;
 * sll.sll_protocol = htons(ETH_P_ALL);
 * sll.sll_ifindex = if_nametoindex('lo');
 * bind(fd, sll);
 * ```
 */
export class sockaddr_ll implements SockaddrLlStruct {
  sll_family = 0;
  sll_protocol = 0;
  sll_ifindex = 0;
  sll_hatype = 0;
  sll_pkttype = 0;
  sll_halen = 0;
  sll_addr = new Uint8Array(LL?.addrSize ?? 8);

  constructor(init?: Partial<SockaddrLlStruct>) {
    if (init) Object.assign(this, init);
  }

  /** The exact bytes the kernel reads (sizeof(struct sockaddr_ll)). */
  toBytes(): Buffer {
    return encodePacketStruct(this);
  }

  /**
   * Reads a sockaddr_ll from the kernel's bytes (what getsockname or recvfrom filled in); at least up to
   * sll_addr, of which it keeps the bytes there are (8 at most).
   */
  static fromBytes(bytes: Uint8Array): sockaddr_ll {
    const b = checkBytes(bytes, 'bytes');
    const l = layout();
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    if (b.length < l.addr || v.getUint16(l.family, LITTLE) !== AF_PACKET) throw invalidArgValue('bytes', b, 'is not a sockaddr_ll');
    const out = new sockaddr_ll({
      sll_family: AF_PACKET,
      sll_protocol: v.getUint16(l.protocol, LITTLE),
      sll_ifindex: v.getInt32(l.ifindex, LITTLE),
      sll_hatype: v.getUint16(l.hatype, LITTLE),
      sll_pkttype: b[l.pkttype],
      sll_halen: b[l.halen],
    });
    out.sll_addr.set(b.subarray(l.addr, Math.min(b.length, l.addr + l.addrSize)));
    return out;
  }
}

/** @internal Whether `value` looks like the C struct form (has sll_family). */
export function isSockaddrLl(value: object): value is SockaddrLlStruct {
  return 'sll_family' in value;
}
