/**
 * berkeley-sockets: the Berkeley socket system calls on real file descriptors, with their C names.
 *
 * Every call here is synchronous and blocks like its C counterpart (accept waits for a client, read
 * for data) — what a teaching program wants, and what a worker thread can afford. The same calls that
 * never block the event loop are in `berkeley-sockets/promises`. Each function's doc names the man
 * page it wraps.
 */
import './signals'; // a signal with a listener interrupts a blocking call (see signals.ts)
export * from './constants';
export { htons, htonl, ntohs, ntohl } from './byteorder';
export { SystemError } from './errors';
export { type TraceOptions, type TraceSink, trace } from './trace/trace';
export { renderDiagram } from './trace/diagram';
import './trace/env'; // BSOCK_TRACE, read once at load
export type { ErrorTarget } from './errors';
export type { AddressFamily, AddressOf, SockOpt } from './family';
export { SocketHandle, fromFd } from './handle';
export type { Fd } from './handle';
export { inet_pton, inet_ntop, inet_addr, inet_aton, inet_ntoa } from './inet';
export { read, write, recv, send, recvfrom, sendto, writeAll, readExactly } from './io';
export type { Data, Received } from './io';
export { sendmsg, recvmsg, sendFds, recvFds, CMSG_SPACE, CMSG_LEN } from './message';
export type {
  ControlMessage, ControlMessageInput, RightsMessage, RightsMessageInput, CredentialsMessage, PktInfoMessage,
  PktInfoMessageInput, TimestampNsMessage, RawControlMessage, RawControlMessageInput, SendMsgOptions, RecvMsgOptions,
  ReceivedMessage, ReceivedFds,
} from './message';
export { setsockopt, getsockopt, optionKind } from './options';
export type {
  Timeval, Linger, Ucred, IpMreq, Ipv6Mreq, PacketMreq, TcpInfo, OptionKind, OptionValues, OptionInputs,
} from './options';
export { BPF_STMT, BPF_JUMP } from './filter';
export type { SockFilter } from './filter';
export { ioctl } from './ioctl';
export { compileFilter, parseFilter, MAXIMUM_SNAPLEN } from './capture/compile';
export type { FilterSpec, CaptureProtocol } from './capture/compile';
export { decodePacket } from './capture/decode';
export type {
  DecodedPacket, EthernetHeader, ArpPacket, IpHeader, Ipv4Header, Ipv6Header, TcpHeader, TcpFlags, TcpOption, UdpHeader,
  IcmpHeader, QuotedPacket,
} from './capture/decode';
export { openCapture, CaptureSocket } from './capture/source';
export type { CaptureOptions, CapturedPacket } from './capture/source';

export { setKeepAlive, getKeepAlive } from './keepalive';
export type { KeepAlive } from './keepalive';
export { fdOf, toNetSocket, toNetServer } from './interop';
export { select, poll, FdSet, FD_ZERO, FD_SET, FD_CLR, FD_ISSET } from './select';
export type { SelectTimeout, SelectResult, PollFd } from './select';
export { epoll_create1, epoll_ctl, epoll_wait, EpollEvents, EPOLL_MAX_EVENTS } from './epoll';
export type { EpollEvent, EpollEventInput } from './epoll';
export {
  getaddrinfo, getnameinfo, gethostname, if_nametoindex, if_indextoname, if_nameindex, strerror, gai_strerror,
} from './resolve';
export type { AddrInfo, AddrInfoHints, IfNameIndex } from './resolve';
export {
  sockaddr_in, sockaddr_in6, sockaddr_un, in_addr, in6_addr, encodeSockaddr, decodeSockaddr, toStruct,
} from './sockaddr';
export type {
  SocketAddress, InetAddress, Inet6Address, UnixAddress, OtherAddress, SockaddrInput, InetAddressInput,
  Inet6AddressInput, UnixAddressInput, SockaddrInStruct, SockaddrIn6Struct, SockaddrUnStruct, InAddr, In6Addr,
} from './sockaddr';
export { sockaddr_ll } from './packet';
export type { PacketAddress, PacketAddressInput, SockaddrLlStruct } from './packet';
export {
  socket, socketpair, bind, listen, accept, connect, close, shutdown, getsockname, getpeername, fcntl,
  setNonBlocking, getNonBlocking, setCloseOnExec, getCloseOnExec, ATOMIC_CLOEXEC,
} from './socket';
export type { Accepted } from './socket';
export { fork, _exit, getpid, getppid, waitpid, WNOHANG, WUNTRACED, WCONTINUED } from './fork';
export type { WaitStatus, ForkErrorCode } from './fork';
