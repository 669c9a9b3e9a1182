// sendmsg(2) / recvmsg(2): scatter/gather I/O with an address and ancillary data (cmsg(3)), the calls
// that pass descriptors between processes (SCM_RIGHTS), prove who the peer is (SCM_CREDENTIALS), say
// where a datagram arrived (IP_PKTINFO) and when (SCM_TIMESTAMPNS). The cmsghdr records are encoded and
// decoded here, with the layout the addon measured (native/constants.cc); the addon only makes the
// system call.
//
// A received descriptor is owned from the first moment: the kernel creates it close-on-exec
// (MSG_CMSG_CLOEXEC, always passed) and decoding wraps it in a SocketHandle before anything else, so
// every descriptor the kernel installed reaches the caller as a handle, whatever else the message held.
// Linux's packet sockets refuse that flag (EINVAL); they receive no descriptors, so the addon reads them
// without it, and a handle remembers not to ask again (native/message.cc).
import { native } from './binding';
import { LITTLE } from './byteorder';
import { ptonInto } from './inet';
import {
  AF_INET, AF_UNIX, IPPROTO_IP, IP_PKTINFO, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_TRUNC, SCM_CREDENTIALS, SCM_RIGHTS,
  SCM_TIMESTAMPNS, SOL_SOCKET,
} from './constants';
import { errnoException, invalidArgType, invalidArgValue } from './errors';
import type { AddressOf } from './family';
import { type Fd, SocketHandle, newHandle, checkFd } from './handle';
import { type Data, bytesOf } from './io';
import { addrOut, takeAddrOut, targetOf } from './addrout';
import { type SockaddrInput, sockaddrBytes } from './sockaddr';
import { INT32_MAX, checkBytes, checkInt, checkInt32 } from './validate';

const L = native.layout;
const INT = L.sizeof_int;

// ---------------------------------------------------------------------------------------------
// Types

/**
 * SCM_RIGHTS (unix(7)): descriptors passed over an AF_UNIX socket. Received, each is a new descriptor
 * in this process (close-on-exec) owned by its handle: close it, or `release()` it to hand it on.
 */
export interface RightsMessage {
  level: number;
  type: number;
  fds: SocketHandle[];
}

/** SCM_RIGHTS to send: handles or descriptor numbers. The sender keeps its own copies (the kernel dups them). */
export interface RightsMessageInput {
  level: number;
  type: number;
  fds: Fd[];
}

/**
 * SCM_CREDENTIALS (unix(7), Linux): the sender's process, user and group ids, checked by the kernel.
 * A receiver gets one with every message once it sets SO_PASSCRED; a sender may state its own.
 */
export interface CredentialsMessage {
  level: number;
  type: number;
  pid: number;
  uid: number;
  gid: number;
}

/**
 * IP_PKTINFO (ip(7)), `struct in_pktinfo`: received on a socket with the IP_PKTINFO option set,
 * `ifindex` is the interface the datagram arrived on, `spec_dst` the local address it was for (routing),
 * and `addr` the destination address in its header. Sent, `spec_dst` chooses the source address and
 * `ifindex` the outgoing interface.
 */
export interface PktInfoMessage {
  level: number;
  type: number;
  ifindex: number;
  spec_dst: string;
  addr: string;
}

/** IP_PKTINFO to send: unset fields are 0 / '0.0.0.0' (let the kernel choose). */
export interface PktInfoMessageInput {
  level: number;
  type: number;
  ifindex?: number;
  spec_dst?: string;
  addr?: string;
}

/**
 * SCM_TIMESTAMPNS (socket(7)): when the packet or datagram arrived, as a `struct timespec` since the
 * Epoch (CLOCK_REALTIME), on a socket with SO_TIMESTAMPNS set. In milliseconds: `tv_sec * 1e3 + tv_nsec / 1e6`.
 */
export interface TimestampNsMessage {
  level: number;
  type: number;
  tv_sec: number;
  tv_nsec: number;
}

/** Any other control message: its data bytes, undecoded (or a known one too short to decode). */
export interface RawControlMessage {
  level: number;
  type: number;
  data: Buffer;
}

/** Any control message given to sendmsg with its raw data bytes. */
export interface RawControlMessageInput {
  level: number;
  type: number;
  data: Uint8Array;
}

/**
 * An ancillary data item (cmsg(3)) as recvmsg returns it. Tell them apart by `level` and `type` as C
 * does (SOL_SOCKET/SCM_RIGHTS…), or by their fields (`'fds' in m`).
 */
export type ControlMessage = RightsMessage | CredentialsMessage | PktInfoMessage | TimestampNsMessage | RawControlMessage;

/** An ancillary data item as sendmsg takes it. A `data` field sends those bytes for any level/type. */
export type ControlMessageInput = RightsMessageInput | CredentialsMessage | PktInfoMessageInput | RawControlMessageInput;

/** What sendmsg() takes besides the socket. */
export interface SendMsgOptions {
  /** The bytes to send, gathered in order from each buffer (`struct iovec[]`). */
  iov: Data[] | Data;
  /** The destination (`msg_name`), for an unconnected datagram socket. */
  name?: SockaddrInput | null;
  /** Ancillary data (`msg_control`). */
  control?: ControlMessageInput[];
  /** MSG_DONTWAIT, MSG_EOR, MSG_MORE… (MSG_NOSIGNAL is always added). */
  flags?: number;
}

/** What recvmsg() takes besides the socket. */
export interface RecvMsgOptions {
  /** Where the bytes go, filled in order (`struct iovec[]`). */
  iov: Uint8Array[] | Uint8Array;
  /**
   * Bytes of room for ancillary data (`msg_controllen`); CMSG_SPACE() computes it. Default 1024: about
   * 250 descriptors on 64-bit Linux (the kernel passes at most 253 per message), or a few other records.
   * What does not fit is dropped and `controlTruncated` set; dropped descriptors are closed by the kernel.
   */
  controlLength?: number;
  /** MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_TRUNC… (MSG_CMSG_CLOEXEC is always added). */
  flags?: number;
}

/** What recvmsg() returns. */
export interface ReceivedMessage<F extends number = number> {
  /** Bytes received (0: end of file on a stream); with MSG_TRUNC in `flags`, a datagram's real length. */
  n: number;
  /** The sender (`msg_name`), or null when there is none (a connected stream, an unnamed socket). */
  address: AddressOf<F> | null;
  /** The ancillary data, decoded. Every SCM_RIGHTS descriptor is here, owned by a handle. */
  control: ControlMessage[];
  /** `msg_flags`: MSG_TRUNC, MSG_CTRUNC, MSG_EOR, MSG_OOB… */
  flags: number;
  /** MSG_TRUNC: the datagram was longer than the buffers, and the rest is gone. */
  truncated: boolean;
  /** MSG_CTRUNC: the control buffer was too small; some ancillary data (maybe descriptors) was dropped. */
  controlTruncated: boolean;
}

// ---------------------------------------------------------------------------------------------
// CMSG_* (cmsg(3)), from the measured layout

function align(n: number): number {
  return Math.ceil(n / L.cmsg_align) * L.cmsg_align;
}

/**
 * The largest data length CMSG_SPACE and CMSG_LEN take: the one whose CMSG_SPACE is still a
 * `controlLength` recvmsg accepts (at most INT32_MAX, a socklen_t the kernel reads as an int).
 */
const CMSG_MAX_DATA = Math.floor((INT32_MAX - align(L.cmsg_data)) / L.cmsg_align) * L.cmsg_align;

/** CMSG_SPACE(3): the bytes one control message with `length` data bytes takes, padding included. */
export function CMSG_SPACE(length: number): number {
  return align(L.cmsg_data) + align(checkInt(length, 'length', 0, CMSG_MAX_DATA));
}

/** CMSG_LEN(3): the `cmsg_len` of a control message with `length` data bytes (no trailing padding). */
export function CMSG_LEN(length: number): number {
  return L.cmsg_data + checkInt(length, 'length', 0, CMSG_MAX_DATA);
}

function readCmsgLen(v: DataView, off: number): number {
  if (L.cmsg_len_size === 8) {
    const lo = v.getUint32(off + L.cmsg_len + (LITTLE ? 0 : 4), LITTLE);
    const hi = v.getUint32(off + L.cmsg_len + (LITTLE ? 4 : 0), LITTLE);
    return hi * 0x100000000 + lo;
  }
  return v.getUint32(off + L.cmsg_len, LITTLE);
}

function writeCmsgLen(v: DataView, off: number, len: number): void {
  if (L.cmsg_len_size === 8) {
    v.setUint32(off + L.cmsg_len + (LITTLE ? 0 : 4), len, LITTLE);
    v.setUint32(off + L.cmsg_len + (LITTLE ? 4 : 0), 0, LITTLE);
  } else {
    v.setUint32(off + L.cmsg_len, len, LITTLE);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding (sendmsg)

const ip4 = new Uint8Array(16);

function ipv4(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (ptonInto(AF_INET, value, ip4) !== 1) throw invalidArgValue(name, value, 'must be a numeric IPv4 address');
  return ip4.slice(0, 4);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The data bytes of one control message to send. */
function encodePayload(m: ControlMessageInput, name: string): Uint8Array {
  if ((m as RawControlMessageInput).data !== undefined) return checkBytes((m as RawControlMessageInput).data, `${name}.data`);
  const { level, type } = m;
  if (level === SOL_SOCKET && type === SCM_RIGHTS) {
    const fds = (m as RightsMessageInput).fds;
    if (!Array.isArray(fds)) throw invalidArgType(`${name}.fds`, 'an array of SocketHandles or descriptor numbers', fds);
    const out = new Uint8Array(fds.length * INT);
    const v = view(out);
    fds.forEach((fd, i) => v.setInt32(i * INT, checkFd(fd, 'sendmsg'), LITTLE));
    return out;
  }
  if (level === SOL_SOCKET && type === SCM_CREDENTIALS && L.ucred !== undefined) {
    const c = m as CredentialsMessage;
    const out = new Uint8Array(L.ucred);
    const v = view(out);
    v.setInt32(L.ucred_pid!, checkInt(c.pid, `${name}.pid`, 0, INT32_MAX), LITTLE);
    v.setUint32(L.ucred_uid!, checkInt(c.uid, `${name}.uid`, 0, 0xffffffff), LITTLE);
    v.setUint32(L.ucred_gid!, checkInt(c.gid, `${name}.gid`, 0, 0xffffffff), LITTLE);
    return out;
  }
  if (level === IPPROTO_IP && type === IP_PKTINFO && L.in_pktinfo !== undefined) {
    const p = m as PktInfoMessageInput;
    const out = new Uint8Array(L.in_pktinfo);
    view(out).setInt32(L.ipi_ifindex!, checkInt(p.ifindex ?? 0, `${name}.ifindex`, 0, INT32_MAX), LITTLE);
    out.set(ipv4(p.spec_dst ?? '0.0.0.0', `${name}.spec_dst`), L.ipi_spec_dst!);
    out.set(ipv4(p.addr ?? '0.0.0.0', `${name}.addr`), L.ipi_addr!);
    return out;
  }
  throw invalidArgValue(name, m, 'is not a control message this platform can encode: give its bytes as `data`');
}

/** The `msg_control` bytes for a list of control messages, or null for none. */
function encodeControl(control: unknown): Uint8Array | null {
  if (control === undefined || control === null) return null;
  if (!Array.isArray(control)) throw invalidArgType('control', 'an array of control messages', control);
  if (control.length === 0) return null;
  const parts = control.map((m: unknown, i) => {
    const name = `control[${i}]`;
    if (m === null || typeof m !== 'object') throw invalidArgType(name, 'a control message object ({ level, type, … })', m);
    const { level, type } = m as ControlMessageInput;
    checkInt32(level, `${name}.level`);
    checkInt32(type, `${name}.type`);
    return { level, type, data: encodePayload(m as ControlMessageInput, name) };
  });
  // A fresh ArrayBuffer: aligned for struct cmsghdr, as CMSG_FIRSTHDR expects.
  const buf = new Uint8Array(parts.reduce((sum, p) => sum + CMSG_SPACE(p.data.length), 0));
  const v = view(buf);
  let off = 0;
  for (const p of parts) {
    writeCmsgLen(v, off, CMSG_LEN(p.data.length));
    v.setInt32(off + L.cmsg_level, p.level, LITTLE);
    v.setInt32(off + L.cmsg_type, p.type, LITTLE);
    buf.set(p.data, off + L.cmsg_data);
    off += CMSG_SPACE(p.data.length);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding (recvmsg)

function dotted(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** A control message other than SCM_RIGHTS; anything unknown or short stays raw bytes (copied). */
function decodeOther(level: number, type: number, data: Uint8Array): ControlMessage {
  try {
    const v = view(data);
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && L.ucred !== undefined && data.length >= L.ucred) {
      return {
        level, type,
        pid: v.getInt32(L.ucred_pid!, LITTLE),
        uid: v.getUint32(L.ucred_uid!, LITTLE),
        gid: v.getUint32(L.ucred_gid!, LITTLE),
      };
    }
    if (level === SOL_SOCKET && type === SCM_TIMESTAMPNS && data.length >= L.timespec) {
      const field = (off: number, size: number) => (size === 8 ? Number(v.getBigInt64(off, LITTLE)) : v.getInt32(off, LITTLE));
      return { level, type, tv_sec: field(L.tv_sec, L.tv_sec_size), tv_nsec: field(L.tv_nsec, L.tv_nsec_size) };
    }
    if (level === IPPROTO_IP && type === IP_PKTINFO && L.in_pktinfo !== undefined && data.length >= L.in_pktinfo) {
      return {
        level, type,
        ifindex: v.getInt32(L.ipi_ifindex!, LITTLE),
        spec_dst: dotted(data, L.ipi_spec_dst!),
        addr: dotted(data, L.ipi_addr!),
      };
    }
  } catch {
    // fall through: the caller still gets the bytes
  }
  return { level, type, data: Buffer.from(data) };
}

/**
 * The records in the first `length` bytes of `buf`, walked as CMSG_FIRSTHDR/CMSG_NXTHDR do. A record
 * the kernel cut short (MSG_CTRUNC) is decoded as far as it goes: for SCM_RIGHTS, the whole descriptors
 * in it are exactly the ones the kernel installed.
 */
function decodeControl(buf: Uint8Array, length: number): ControlMessage[] {
  const out: ControlMessage[] = [];
  const v = view(buf);
  const end = Math.min(length, buf.length);
  let off = 0;
  while (off + L.cmsghdr <= end) {
    const cmsgLen = readCmsgLen(v, off);
    if (cmsgLen < L.cmsg_data) break;
    const stop = Math.min(off + cmsgLen, end);
    const level = v.getInt32(off + L.cmsg_level, LITTLE);
    const type = v.getInt32(off + L.cmsg_type, LITTLE);
    const start = off + L.cmsg_data;
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      const fds: SocketHandle[] = [];
      for (let p = start; p + INT <= stop; p += INT) fds.push(newHandle(v.getInt32(p, LITTLE)));
      out.push({ level, type, fds });
    } else {
      out.push(decodeOther(level, type, buf.subarray(start, Math.max(start, stop))));
    }
    off += align(cmsgLen);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The calls

/**
 * sendmsg(2): sends the bytes of `iov` (gathered in order, one system call), to `name` if given, with
 * the ancillary data in `control`. MSG_NOSIGNAL is always added. Returns the bytes sent.
 * ```ts
 * sendmsg(unixSock, { iov: '\0', control: [{ level: SOL_SOCKET, type: SCM_RIGHTS, fds: [conn] }] });
 * conn.close(); // the receiver has its own descriptor for the same connection
 * ```
 * On a stream socket descriptors travel only with at least one byte of data.
 */
export function sendmsg(fd: Fd, msg: SendMsgOptions): number {
  const n = checkFd(fd, 'sendmsg');
  if (msg === null || typeof msg !== 'object') throw invalidArgType('msg', 'an object ({ iov, name?, control?, flags? })', msg);
  const iov = Array.isArray(msg.iov) ? Array.from(msg.iov, (d, i) => bytesOf(d, `iov[${i}]`)) : [bytesOf(msg.iov, 'iov')];
  const name = msg.name === undefined || msg.name === null ? null : sockaddrBytes(msg.name);
  const control = encodeControl(msg.control);
  const flags = checkInt32(msg.flags ?? 0, 'flags');
  const rc = native.sendmsg(n, iov, name, control, flags);
  if (rc < 0) throw errnoException(rc, 'sendmsg', name ? targetOf(name) : undefined);
  return rc;
}

const DEFAULT_CONTROL_LENGTH = 1024;
// Reused control space: decoding copies everything out of it before recvmsg returns.
let controlScratch: Uint8Array | undefined;
const info = new Int32Array(3);
// Whether a recvmsg's results are in the scratch and `info`, not yet decoded. A recvmsg made meanwhile
// (the wire trace reads its capture while the traced call's line is printed, inside the call) gets
// buffers of its own instead of overwriting them.
let scratchBusy = false;
/**
 * Handles of sockets that refused MSG_CMSG_CLOEXEC (AF_PACKET: EINVAL) and are not AF_UNIX, so receive no
 * descriptors: recvmsg asks them without the flag, as C does. A handle owns one descriptor for its life.
 */
const withoutCloexec = new WeakSet<SocketHandle>();

/**
 * recvmsg(2): receives into the buffers of `iov` (filled in order, one system call) and returns the
 * byte count, the sender, the decoded ancillary data and `msg_flags`. MSG_CMSG_CLOEXEC is always added:
 * received descriptors are close-on-exec, each owned by a SocketHandle in `control`. (A socket that
 * refuses the flag and cannot receive descriptors — packet(7) answers EINVAL — is read without it.)
 * Decoded: SCM_RIGHTS, SCM_CREDENTIALS, IP_PKTINFO, SCM_TIMESTAMPNS (`{ tv_sec, tv_nsec }`).
 */
export function recvmsg<F extends number>(fd: SocketHandle<F> | number, msg: RecvMsgOptions): ReceivedMessage<F> {
  const r = prepareRecvmsg<F>(fd, msg).call();
  if (typeof r === 'number') throw errnoException(r, 'recvmsg');
  return r;
}

/** @internal A recvmsg whose arguments are checked: `call()` makes the system call, as often as asked. */
export interface PreparedRecvmsg<F extends number> {
  /** The descriptor. */
  fd: number;
  flags: number;
  /** The message, or the call's -errno (EAGAIN on a non-blocking socket with nothing queued). */
  call(): ReceivedMessage<F> | number;
}

/**
 * @internal recvmsg's checks, once, and the call, which the promises API makes again each time the
 * descriptor is readable; a failure is returned as -errno rather than thrown.
 */
export function prepareRecvmsg<F extends number>(fd: SocketHandle<F> | number, msg: RecvMsgOptions): PreparedRecvmsg<F> {
  const n = checkFd(fd, 'recvmsg');
  if (msg === null || typeof msg !== 'object') throw invalidArgType('msg', 'an object ({ iov, controlLength?, flags? })', msg);
  // Array.from visits the holes of a sparse array (map would keep them, for the addon to trip on).
  const iov = Array.isArray(msg.iov) ? Array.from(msg.iov, (b, i) => checkBytes(b, `iov[${i}]`)) : [checkBytes(msg.iov, 'iov')];
  const length = msg.controlLength === undefined ? DEFAULT_CONTROL_LENGTH : checkInt(msg.controlLength, 'controlLength', 0, INT32_MAX);
  const flags = checkInt32(msg.flags ?? 0, 'flags');
  const handle = fd instanceof SocketHandle ? fd : undefined;
  return {
    fd: n,
    flags,
    call(): ReceivedMessage<F> | number {
      // The shared scratch is taken at each call, not kept: decoding copies everything out of it
      // before the call returns, so an async call waiting in between holds nothing another overwrites.
      const nested = scratchBusy;
      let control: Uint8Array;
      if (length <= DEFAULT_CONTROL_LENGTH && !nested) {
        controlScratch ??= new Uint8Array(DEFAULT_CONTROL_LENGTH);
        control = controlScratch.subarray(0, length);
      } else {
        control = new Uint8Array(length);
      }
      const out = nested ? new Int32Array(3) : info;
      let rc: number;
      let cmsgs: ControlMessage[];
      scratchBusy = true;
      try {
        rc = handle !== undefined && withoutCloexec.has(handle)
          ? native.recvmsg(n, iov, control, addrOut, flags, out, false)
          : native.recvmsg(n, iov, control, addrOut, flags, out);
        if (handle !== undefined && out[2] > 0 && out[2] !== AF_UNIX) withoutCloexec.add(handle);
        if (rc < 0) return rc;
        // Descriptors first: nothing between the system call and their handles can throw.
        cmsgs = decodeControl(control, out[0]);
      } finally {
        scratchBusy = nested;
      }
      // Linux echoes MSG_CMSG_CLOEXEC back in msg_flags (___sys_recvmsg seeds msg_flags with it); it is
      // ours, not news about the message.
      const msgFlags = out[1] & ~(MSG_CMSG_CLOEXEC ?? 0);
      return {
        n: rc,
        address: takeAddrOut() as AddressOf<F> | null,
        control: cmsgs,
        flags: msgFlags,
        truncated: (msgFlags & MSG_TRUNC) !== 0,
        controlTruncated: (msgFlags & MSG_CTRUNC) !== 0,
      };
    },
  };
}

/**
 * Sends descriptors over an AF_UNIX socket: sendmsg(2) with one SCM_RIGHTS message, carried by `data`
 * (default one NUL byte: a stream socket passes descriptors only along with data). The caller keeps its
 * own descriptors; close them once sent to hand the objects over. Returns the bytes sent.
 */
export function sendFds(fd: Fd, fds: Fd[] | Fd, data: Data = '\0'): number {
  const list = Array.isArray(fds) ? fds : [fds];
  const bytes = bytesOf(data);
  if (bytes.length === 0) {
    throw invalidArgValue('data', data, 'must not be empty (a stream socket sends descriptors only with data)');
  }
  return sendmsg(fd, { iov: bytes, control: [{ level: SOL_SOCKET, type: SCM_RIGHTS as number, fds: list }] });
}

/** What recvFds() returns. */
export interface ReceivedFds {
  /** The descriptors received (close-on-exec), each owned by its handle; [] at end of file. */
  fds: SocketHandle[];
  /** The data bytes that carried them (empty at end of file). */
  data: Buffer;
  /** MSG_CTRUNC: more descriptors were sent than `maxFds`; the kernel closed the extra ones. */
  controlTruncated: boolean;
}

/**
 * Receives descriptors sent with sendFds() (or any SCM_RIGHTS message): recvmsg(2) with room for
 * `maxFds` descriptors (default 16) and `length` data bytes (default 256). Blocks until a message
 * arrives; on a stream socket, a read never runs past a message that carried descriptors.
 */
export function recvFds(fd: Fd, options: { maxFds?: number; length?: number; flags?: number } = {}): ReceivedFds {
  const maxFds = checkInt(options.maxFds ?? 16, 'maxFds', 1, 0xffff);
  const data = Buffer.alloc(checkInt(options.length ?? 256, 'length', 1, INT32_MAX));
  const r = recvmsg(fd, { iov: data, controlLength: CMSG_SPACE(maxFds * INT), flags: options.flags });
  const fds: SocketHandle[] = [];
  for (const m of r.control) if ('fds' in m) fds.push(...m.fds);
  return { fds, data: data.subarray(0, Math.min(r.n, data.length)), controlTruncated: r.controlTruncated };
}
