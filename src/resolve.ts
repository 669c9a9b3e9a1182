// Names and numbers: getaddrinfo(3), getnameinfo(3), gethostname(2), if_nametoindex(3), and the
// error text tables strerror(3) / gai_strerror(3). These use the C library, so /etc/hosts,
// /etc/services and nsswitch.conf apply exactly as they do for a C program — and they block like it.
import { native, type ResolveFailure } from './binding';
import { SystemError, errnoException, invalidArgType, invalidArgValue, outOfRange } from './errors';
import { type Inet6Address, type InetAddress, decodeSockaddr, sockaddrBytes, type SockaddrInput } from './sockaddr';
import { checkInt, checkInt32 } from './validate';

/** One result of getaddrinfo, with the C field names of `struct addrinfo`. */
export interface AddrInfo {
  ai_family: number;
  ai_socktype: number;
  ai_protocol: number;
  /**
   * Ready for socket(ai_family, …) then connect(fd, ai_addr) or bind(fd, ai_addr). Always an IP
   * address (getaddrinfo returns only AF_INET / AF_INET6), so it type-checks as a connect() argument.
   */
  ai_addr: InetAddress | Inet6Address;
  /** Set on the first result when hints.ai_flags has AI_CANONNAME. */
  ai_canonname?: string;
}

/** The `hints` of getaddrinfo: each field 0 (the default) means "any". */
export interface AddrInfoHints {
  ai_flags?: number;
  ai_family?: number;
  ai_socktype?: number;
  ai_protocol?: number;
}

let eaiNames: Map<number, string> | undefined;

/** The name of an EAI_* code ('EAI_NONAME'), from this platform's values. */
function eaiName(code: number): string {
  if (!eaiNames) {
    eaiNames = new Map();
    for (const [k, v] of Object.entries(native.constants)) if (k.startsWith('EAI_')) eaiNames.set(v, k);
  }
  return eaiNames.get(code) ?? `EAI_${code}`;
}

function resolveError(f: ResolveFailure, syscall: string, detail?: string, hostname?: string): SystemError {
  // EAI_SYSTEM means "look at errno": report that errno, as a C program would with perror().
  if (f.eai === native.constants.EAI_SYSTEM && f.errno < 0) return errnoException(f.errno, syscall);
  const err = new SystemError(eaiName(f.eai), f.eai, syscall, undefined, detail);
  if (hostname !== undefined) Object.defineProperty(err, 'hostname', { value: hostname, enumerable: true });
  return err;
}

/** A string C will read to its end: a NUL would cut 'localhost\0.example.com' to 'localhost'. */
function checkNoNul(value: string, name: string): string {
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must be a string without null bytes');
  return value;
}

/**
 * getaddrinfo(3): resolves a host name and/or service (name like 'http' or number) into the addresses
 * to try, in order. `node` null with AI_PASSIVE gives the wildcard address to bind. A failure is a
 * SystemError whose code is the EAI_* name ('EAI_NONAME') and whose errno is the EAI_* value.
 * Blocks while the C library resolves (it may query DNS).
 */
export function getaddrinfo(node: string | null, service?: string | number | null, hints: AddrInfoHints = {}): AddrInfo[] {
  if (node !== null && typeof node !== 'string') throw invalidArgType('node', 'of type string or null', node);
  if (node !== null) checkNoNul(node, 'node');
  let serv: string | null = null;
  if (typeof service === 'number') serv = String(checkInt(service, 'service', 0, 0xffff));
  else if (typeof service === 'string') {
    serv = checkNoNul(service, 'service');
    // glibc keeps the low 16 bits of a numeric service ('70000' would become port 4464): refuse instead.
    if (/^\d+$/.test(serv) && Number(serv) > 0xffff) throw outOfRange('service', '>= 0 && <= 65535', service);
  }
  else if (service !== null && service !== undefined) throw invalidArgType('service', 'of type string, number or null', service);
  if (hints === null || typeof hints !== 'object') throw invalidArgType('hints', 'of type object', hints);
  const r = native.getaddrinfo(
    node, serv,
    checkInt32(hints.ai_family ?? 0, 'hints.ai_family'),
    checkInt32(hints.ai_socktype ?? 0, 'hints.ai_socktype'),
    checkInt32(hints.ai_protocol ?? 0, 'hints.ai_protocol'),
    checkInt32(hints.ai_flags ?? 0, 'hints.ai_flags'),
  );
  if (!Array.isArray(r)) throw resolveError(r, 'getaddrinfo', node ?? serv ?? undefined, node ?? undefined);
  return r.map(([family, socktype, protocol, addr, canon]) => {
    const info: AddrInfo = { ai_family: family, ai_socktype: socktype, ai_protocol: protocol, ai_addr: decodeSockaddr(addr) as InetAddress | Inet6Address };
    if (canon !== undefined) info.ai_canonname = canon;
    return info;
  });
}

/**
 * getnameinfo(3): the host and service names for an address (reverse lookup through /etc/hosts and
 * DNS; /etc/services for the port). `flags`: NI_NUMERICHOST, NI_NUMERICSERV, NI_NAMEREQD, NI_DGRAM…
 */
export function getnameinfo(addr: SockaddrInput, flags = 0): { host: string; service: string } {
  const bytes = sockaddrBytes(addr);
  checkInt32(flags, 'flags');
  const r = native.getnameinfo(bytes, flags);
  if (!Array.isArray(r)) throw resolveError(r, 'getnameinfo');
  return { host: r[0], service: r[1] };
}

/** gethostname(2): this machine's host name. */
export function gethostname(): string {
  const r = native.gethostname();
  if (typeof r === 'number') throw errnoException(r, 'gethostname');
  return r;
}

/** if_nametoindex(3): the index of a network interface ('lo' → 1), or 0 if there is none. */
export function if_nametoindex(ifname: string): number {
  if (typeof ifname !== 'string') throw invalidArgType('ifname', 'of type string', ifname);
  if (ifname.includes('\0')) return 0; // C would look up only the part before the NUL
  return native.if_nametoindex(ifname);
}

/** if_indextoname(3): the name of interface `ifindex`, or undefined if there is none. */
export function if_indextoname(ifindex: number): string | undefined {
  return native.if_indextoname(checkInt(ifindex, 'ifindex', 0, 0xffffffff) | 0);
}

/** One entry of if_nameindex(3): `struct if_nameindex`. */
export interface IfNameIndex {
  if_index: number;
  if_name: string;
}

/** if_nameindex(3): every network interface, with its index (what `scope_id` and `sll_ifindex` take). */
export function if_nameindex(): IfNameIndex[] {
  const rows = native.if_nameindex();
  if (typeof rows === 'number') throw errnoException(rows, 'if_nameindex');
  return rows.map(([if_index, if_name]) => ({ if_index, if_name }));
}

/** strerror(3): the C library's message for an errno (either sign): strerror(-111) → 'Connection refused'. */
export function strerror(errnum: number): string {
  return native.strerror(checkInt32(errnum, 'errnum'));
}

/** gai_strerror(3): the message for an EAI_* code, e.g. from a getaddrinfo SystemError's errno. */
export function gai_strerror(errcode: number): string {
  return native.gai_strerror(checkInt32(errcode, 'errcode'));
}
