// The only file that loads the addon. Everything native is typed here; nothing else touches it.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** Byte layout of the sockaddr structures, measured by the compiler (see native/constants.cc). */
export interface Layout {
  sockaddr_storage: number;
  sa_family_size: number;
  sa_family_offset: number;
  /** 1 on BSD/macOS, where every sockaddr starts with a length byte. */
  sa_len: number;
  sockaddr_in: number;
  sin_port: number;
  sin_addr: number;
  sockaddr_in6: number;
  sin6_port: number;
  sin6_flowinfo: number;
  sin6_addr: number;
  sin6_scope_id: number;
  sockaddr_un: number;
  sun_path: number;
  sun_path_size: number;
  /** Ancillary data (cmsg(3)): sizeof(struct cmsghdr), its field offsets, CMSG_LEN(0), CMSG_ALIGN(1). */
  cmsghdr: number;
  cmsg_len: number;
  /** 8 where cmsg_len is a size_t (Linux/glibc), 4 where it is a socklen_t (BSD, macOS). */
  cmsg_len_size: number;
  cmsg_level: number;
  cmsg_type: number;
  cmsg_data: number;
  cmsg_align: number;
  sizeof_int: number;
  /** struct ucred (SCM_CREDENTIALS): Linux only. */
  ucred?: number;
  ucred_pid?: number;
  ucred_uid?: number;
  ucred_gid?: number;
  /** struct sockaddr_ll (packet(7)): Linux only; sll_addr_size is sizeof sll_addr (8). */
  sockaddr_ll?: number;
  sll_family?: number;
  sll_protocol?: number;
  sll_ifindex?: number;
  sll_hatype?: number;
  sll_pkttype?: number;
  sll_halen?: number;
  sll_addr?: number;
  sll_addr_size?: number;
  /** struct timespec (SCM_TIMESTAMPNS): its size, field offsets and field sizes. */
  timespec: number;
  tv_sec: number;
  tv_sec_size: number;
  tv_nsec: number;
  tv_nsec_size: number;
  /** struct in_pktinfo (IP_PKTINFO): where the platform has it. */
  in_pktinfo?: number;
  ipi_ifindex?: number;
  ipi_spec_dst?: number;
  ipi_addr?: number;
}

/** Failure of getaddrinfo/getnameinfo: the EAI_* code, and -errno when it is EAI_SYSTEM. */
export interface ResolveFailure {
  eai: number;
  errno: number;
}

export type AddrInfoRow = [family: number, socktype: number, protocol: number, addr: Buffer, canonname?: string];

/**
 * The native functions. Each returns what the system call returned, or -errno (never throws for a
 * kernel error). Byte windows are (array, offset, length); addresses go in as sockaddr bytes and come
 * out in a scratch buffer laid out as [uint32 socklen][sockaddr bytes].
 */
export interface Native {
  constants: Record<string, number>;
  layout: Layout;
  /** Structures carried by socket options: { size, fields: { name: [offset, size] } } (options.cc). */
  optionLayouts: Record<string, { size: number; fields: Record<string, [number, number]> }>;
  abi: { addrHeader: number };
  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number, out: Int32Array): number;
  close(fd: number): number;
  /**
   * The environment's table of owned descriptors (one byte per number, 1 = owned by a SocketHandle):
   * what the addon closes when the environment is torn down. 0, or -ENOMEM.
   */
  setOwnedTable(bytes: Uint8Array): number;
  shutdown(fd: number, how: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  bind(fd: number, addr: Uint8Array): number;
  connect(fd: number, addr: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  /** addrLen: the socklen_t passed (default sizeof(sockaddr_storage); -1: NULL, NULL). */
  accept(fd: number, flags: number, addrOut: Uint8Array, addrLen?: number): number;
  /** `addrLen`: the socklen_t passed (default sizeof(sockaddr_storage)), C's `sizeof addr`. */
  getsockname(fd: number, addrOut: Uint8Array, addrLen?: number): number;
  getpeername(fd: number, addrOut: Uint8Array, addrLen?: number): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  recv(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
  send(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
  recvfrom(fd: number, buf: Uint8Array, offset: number, length: number, flags: number, addrOut: Uint8Array, addrLen?: number): number;
  sendto(fd: number, buf: Uint8Array, offset: number, length: number, flags: number, addr: Uint8Array): number;
  /** sendmsg(2): gathers `iov`; `name` is sockaddr bytes, `control` raw cmsg records (message.ts). */
  sendmsg(fd: number, iov: Uint8Array[], name: Uint8Array | null, control: Uint8Array | null, flags: number): number;
  /**
   * recvmsg(2) with MSG_CMSG_CLOEXEC added (unless `cloexec` is false): scatters into `iov`, cmsg records
   * into `control`, the sender into `addrOut`; `info` receives [msg_controllen, msg_flags] and, always,
   * info[2]: 0, or what getsockopt(SO_DOMAIN) answered (the family, or -errno) after the added flag met
   * EINVAL — the call then made again without it when the family is not AF_UNIX (native/message.cc).
   */
  recvmsg(fd: number, iov: Uint8Array[], control: Uint8Array, addrOut: Uint8Array, flags: number, info: Int32Array, cloexec?: boolean): number;
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number;
  /** getsockopt(2) of an int option: its value, or -errno - 2^32 (below every int). */
  getsockoptInt(fd: number, level: number, name: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /**
   * setsockopt(2) with a struct sock_fprog pointing at `program`, whole struct sock_filter (SO_ATTACH_FILTER):
   * 0, or -errno (-ENOSYS off Linux). A RangeError if `program` is not 0..65535 whole instructions.
   */
  setsockoptFprog(fd: number, level: number, name: number, program: Uint8Array): number;
  /**
   * ioctl(2) for FIONREAD/SIOCINQ, SIOCOUTQ and SIOCATMARK only: the int the kernel wrote, or -errno.
   * Any other request is a RangeError, and never reaches the kernel (native/ioctl.cc).
   */
  ioctl(fd: number, request: number): number;
  getaddrinfo(
    node: string | null, service: string | null, family: number, socktype: number, protocol: number, flags: number,
  ): AddrInfoRow[] | ResolveFailure;
  getnameinfo(addr: Uint8Array, flags: number): [host: string, service: string] | ResolveFailure;
  gethostname(): string | number;
  inet_pton(af: number, src: string, out: Uint8Array): number;
  inet_ntop(af: number, src: Uint8Array): string | number;
  inet_aton(src: string): number;
  if_nametoindex(name: string): number;
  if_indextoname(index: number): string | undefined;
  /** if_nameindex(3): [if_index, if_name] per interface, or -errno. */
  if_nameindex(): [index: number, name: string][] | number;
  strerror(errno: number): string;
  gai_strerror(code: number): string;
  /** poll(2) over [fd, events, revents] triples; revents written back. */
  poll(triples: Int32Array, timeoutMs: number): number;
  /**
   * select(2): the three arrays of descriptors (null: C's NULL); those not ready come back as -1.
   * `nfds`: C's first argument; by default one more than the largest descriptor given.
   */
  select(read: Int32Array | null, write: Int32Array | null, except: Int32Array | null, timeoutUs: number, nfds?: number): number;
  /** epoll_create1(2) with EPOLL_CLOEXEC always added: a descriptor, or -errno (-ENOSYS off Linux). */
  epoll_create1(flags: number): number;
  /**
   * epoll_ctl(2). `events` undefined passes NULL (EPOLL_CTL_DEL); else the event is { events (as a
   * uint32), data.u64 = dataHi * 2^32 + dataLo }. 0, or -errno.
   */
  epoll_ctl(epfd: number, op: number, fd: number, events?: number, dataLo?: number, dataHi?: number): number;
  /**
   * epoll_wait(2): the kernel writes up to `maxevents` struct epoll_event into `out` (laid out as
   * `epollLayout` says); the count, or -errno. EINTR retried with the time left.
   */
  epoll_wait(epfd: number, out: Uint32Array, maxevents: number, timeoutMs: number): number;
  /** struct epoll_event: its size and the offsets of `events` and `data` (all 0 off Linux). */
  epollLayout: { size: number; events: number; data: number };
  /**
   * This environment's reporter of readiness (native/watcher.cc): once per loop turn, after the poll
   * phase, `flush` gets every watcher epoll reported, as `count` entries of five int32s in `batch`:
   * [fd, serial, status, events, result] (result: an armed read's byte count or -errno, when events
   * has uv.READ_DONE); `addrs` has a uv.ADDR_SLOT-byte slot per entry, [socklen][sockaddr], where an
   * armed recvfrom leaves its sender.
   */
  Reactor: new (flush: (batch: Int32Array, count: number, addrs: Uint8Array) => void) => object;
  /** A uv_poll_t watcher of `fd` reporting to `reactor`; makes the descriptor non-blocking. */
  Poller: new (reactor: object, fd: number, serial: number) => Poller;
  /**
   * Brings Poller number `id` (setup()'s last entry), made for the watcher `serial`, in line in one
   * call: `flags` holds the uv events to watch (low byte; 0 stops), uv.SET_HOLD when it keeps the loop
   * alive, and for an armed read its kind << uv.ARM_SHIFT — a window of `buf` that the Reactor fills
   * with read(2) (uv.ARM_READ), recv(2) (uv.ARM_RECV) or recvfrom(2) (uv.ARM_RECVFROM) as soon as the
   * descriptor is readable; uv.ARM_RELEASE: stop holding the loop once that read is made. No read when
   * `buf` is undefined. 0, or a negative errno (-EBADF: that Poller has closed).
   */
  pollerSet(id: number, serial: number, flags: number, buf?: Uint8Array, offset?: number, length?: number): number;
  uv: {
    UV_READABLE: number; UV_WRITABLE: number; UV_DISCONNECT: number; UV_PRIORITIZED: number;
    READ_DONE: number; ARM_READ: number; ARM_RECV: number; ARM_RECVFROM: number; ARM_RELEASE: number; ADDR_SLOT: number;
    SET_HOLD: number; ARM_SHIFT: number;
    /** int32s per reported entry of the Reactor's batch: [fd, serial, status, events, result]. */
    ENTRY: number;
  };
  /** _exit(2): never returns. */
  _exit(status: number): never;
  getpid(): number;
  getppid(): number;
  /** clock_gettime(2) with CLOCK_REALTIME: 0 or -errno; `out` gets [tv_sec, tv_nsec]. */
  clock_realtime(out: Float64Array): number;
  /** waitpid(2): pid, 0, or -errno; `out` gets [status, exited, code, signaled, signal, core, stopped, stopsig]. */
  waitpid(pid: number, options: number, out: Int32Array): number;
  /** pidfd_open(2): a close-on-exec descriptor readable once the process ends, or -errno (-ENOSYS). */
  pidfd_open(pid: number): number;
  /** Requests in flight on this thread's libuv loop (fs, dns, stream writes…). */
  loopRequests(): number;
  process: { WNOHANG: number; WUNTRACED: number; WCONTINUED: number };
  /**
   * Registers the function that runs the listeners of signals that interrupted a blocking call
   * (native/interrupt.h). 0, or -EBUSY when another environment has it. Main thread only.
   */
  setSignalDispatcher(dispatch: (signums: number[]) => void): number;
  /** Chains libuv's handler of `signum` without SA_RESTART: 1 chained, 0 no handler to chain, -errno. */
  chainSignal(signum: number): number;
  /**
   * Reads SIGPIPE's disposition and has write(2) guard against the signal while it is not ignored
   * (1) or not (0); with `restoreIgnore`, SIG_DFL is first turned back into SIG_IGN.
   */
  sigpipeGuard(restoreIgnore: boolean): number;
  /** A Worker thread that uses the library (its worker_threads.threadId): 0, or -ENOTSUP (no wake signal). */
  registerThread(threadId: number): number;
  /** Interrupts the blocking call of Worker `threadId` (-1: every Worker), which is being terminated. */
  wakeThread(threadId: number): number;
}

export interface Poller {
  /** Stops for good and releases the uv handle; must come before close(2) of the descriptor. */
  close(): void;
  /**
   * What the constructor's calls saw: [getsockopt(SO_TYPE)'s answer or -errno, the loop's epoll
   * descriptor, the epoll probe's or uv_poll_init's result (0 or -errno), the call that failed (0 none,
   * 1 getsockopt, 2 epoll_ctl, 3 uv_poll_init), the number native.pollerSet knows it by (-1 when a
   * call failed)]. A Poller that failed watches nothing.
   */
  setup(): [number, number, number, number, number];
}

/** The fork target (native/fork_linux.cc, berkeley_sockets_fork.node): built per Node ABI, loaded on demand. */
export interface ForkNative {
  /** The NODE_MODULE_VERSION it was compiled against; nothing else in it may be called unless it is the running Node's. */
  abi: number;
  /**
   * fork(2) made survivable for Node: the child's pid, 0 in the child, or -errno (-EBUSY: V8's workers
   * did not park within `parkMs`; -EPERM: not the main thread). In the child, `onExit` is called when
   * its loop has no work left: 'beforeExit', then 'exit'.
   */
  fork(onExit: (event: 'beforeExit' | 'exit') => void, parkMs: number): number;
}

const requireHere = createRequire(__filename);
// The package root is one level up from both src/ (tests) and dist/ (published code). Like
// node-gyp-build, BERKELEY_SOCKETS_PREBUILD=<dir> loads the addons of another tree (test:asan does).
const root = process.env.BERKELEY_SOCKETS_PREBUILD ?? path.join(__dirname, '..');

// node-gyp-build picks build/Release (compiled by `npm install`), else prebuilds/<platform>-<arch>/*.napi.node.
const load = requireHere('node-gyp-build') as (dir: string) => unknown;
// Copied by spread into an object of our own: the addon's exports object, filled by napi_set_named_property
// from C++, is a dictionary-mode object in V8, so every `native.read` of a hot path would be a hash
// lookup (Builtins_LoadIC, 73 instructions per call under callgrind); an object made by spread has fast
// properties, and the load is inlined. The trace swaps the copy's functions, as it did the original's.
export const native = { ...(load(path.join(__dirname, '..')) as Native) };

// Calls the library makes for itself, not for the program (the wire trace's capture, openCapture's wait
// for the kernel's timestamps): the trace (trace/trace.ts) prints none of them.
export const ownCalls = { depth: 0 };

/** Runs `fn` as the library's own calls, which the trace does not print. */
export function silently<T>(fn: () => T): T {
  ownCalls.depth++;
  try {
    return fn();
  } finally {
    ownCalls.depth--;
  }
}

/** Where the fork target may be, in order: a source build for the running Node, then its prebuild. */
export function forkCandidates(abi = process.versions.modules): string[] {
  return [
    path.join(root, 'build', 'Release', 'berkeley_sockets_fork.node'),
    path.join(root, 'build', 'Debug', 'berkeley_sockets_fork.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'fork', `berkeley_sockets_fork.abi${abi}.node`),
  ];
}

let forkLoaded: ForkNative | string | undefined;

/**
 * The fork target for the running Node, or why there is none (a sentence naming each file tried).
 * Loaded once, on the first call: a process that never forks never maps it. Loading one built for
 * another ABI runs only its N-API init, which reports its `abi`; it is then passed over, unused.
 */
export function loadFork(): ForkNative | string {
  if (forkLoaded !== undefined) return forkLoaded;
  const abi = Number(process.versions.modules);
  const tried: string[] = [];
  for (const file of forkCandidates()) {
    if (!existsSync(file)) continue;
    try {
      const mod = requireHere(file) as ForkNative;
      if (mod.abi === abi) return (forkLoaded = mod);
      tried.push(`${file} is for ABI ${mod.abi}`);
    } catch (e) {
      tried.push(`${file} does not load (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return (forkLoaded = tried.length > 0 ? tried.join('; ') : `none of ${forkCandidates().join(', ')} exists`);
}
