// The native functions the trace does not print, and why: with the wrapper table in trace.ts, every
// function of the addon is either printed or named here (the types make a new one a compile error).
import type { Native } from '../binding';

/** The addon's functions (its classes, Reactor and Poller, are not calls). */
export type Calls = { [K in keyof Native as Native[K] extends (...args: never[]) => unknown ? K : never]: Native[K] };

/**
 * The native functions the trace does not print, each with its reason. Every other one must have a
 * wrapper below: the table's type makes a new native function without either a compile error.
 */
export const UNTRACED = {
  strerror: 'a C library function: no system call',
  gai_strerror: 'a C library function: no system call',
  inet_pton: 'a C library function: no system call',
  inet_ntop: 'a C library function: no system call',
  inet_aton: 'a C library function: no system call',
  getaddrinfo: 'the resolver makes its own calls (files, a DNS socket): strace shows them, not one call',
  getnameinfo: 'the resolver makes its own calls (files, a DNS socket): strace shows them, not one call',
  gethostname: 'uname(2) inside the C library; not a socket call',
  if_nametoindex: 'an ioctl on a socket of the C library\'s own',
  if_indextoname: 'an ioctl on a socket of the C library\'s own',
  if_nameindex: 'a netlink exchange of the C library\'s own',
  getpid: 'no socket, and nothing to show',
  getppid: 'no socket, and nothing to show',
  clock_realtime: 'the wire trace\'s own clock (vDSO: usually no system call), read around every call it stamps',
  _exit: 'ends the process: nothing would be printed after it',
  loopRequests: 'reads libuv\'s counters: no system call',
  setOwnedTable: 'bookkeeping of the addon: no system call',
  pollerSet: 'the async watchers\' bookkeeping: its epoll_ctl calls are libuv\'s, made at the loop\'s next turn',
  setSignalDispatcher: 'bookkeeping of the addon: no system call',
  registerThread: 'installs the Worker wake signal once (rt_sigaction): not a socket call',
  wakeThread: 'signals a Worker\'s thread (tgkill) from a helper thread: not a socket call',
  chainSignal: 'rt_sigaction on libuv\'s behalf: not a socket call',
  sigpipeGuard: 'rt_sigaction on Node\'s behalf: not a socket call',
} as const;
export type Untraced = keyof typeof UNTRACED;
