// Errors shaped like Node's own: kernel failures are SystemErrors with code/errno/syscall (and the
// address when one was involved); bad arguments are TypeError/RangeError with Node's ERR_* codes.
import { constants as osConstants } from 'node:os';
import { getSystemErrorName, inspect } from 'node:util';

/** Where a failing call was aimed, for the error message and the `address`/`port`/`path` fields. */
export interface ErrorTarget {
  address?: string;
  port?: number;
  /** An AF_UNIX name: a Buffer when its bytes are not UTF-8 (see UnixAddress). */
  path?: string | Buffer;
}

/**
 * A failed system call, with the same fields Node puts on `net`/`fs` errors:
 * `code` ('EADDRINUSE'), `errno` (negative, as Node does: -98), `syscall` ('bind'), and `address`/`port`
 * (or `path` for AF_UNIX) where the call had one. The message reads `bind EADDRINUSE 127.0.0.1:3400`.
 */
export class SystemError extends Error {
  /** Symbolic error name: 'ECONNREFUSED', or 'EAI_NONAME' for resolver failures. */
  readonly code: string;
  /** Negative errno (-111), or the resolver's EAI_* value for getaddrinfo/getnameinfo failures. */
  readonly errno: number;
  /** The system call that failed, as strace names it ('connect', 'accept4' is reported as 'accept'). */
  readonly syscall: string;
  declare readonly address?: string;
  declare readonly port?: number;
  declare readonly path?: string | Buffer;
  /** The host name given to getaddrinfo, when that is what failed. */
  declare readonly hostname?: string;

  constructor(code: string, errno: number, syscall: string, target?: ErrorTarget, detail?: string) {
    let where = '';
    // A name that is not UTF-8 is shown byte for byte (latin1 maps each byte to one character).
    if (target?.path !== undefined) where = ` ${typeof target.path === 'string' ? target.path : target.path.toString('latin1')}`;
    else if (target?.address !== undefined) {
      // As Node's exceptionWithHostPort: port 0 (let the kernel choose) is not shown.
      where = target.port ? ` ${fmtHost(target.address)}:${target.port}` : ` ${target.address}`;
    } else if (detail !== undefined) where = ` ${detail}`;
    super(`${syscall} ${code}${where}`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    if (target?.address !== undefined) (this as { address?: string }).address = target.address;
    if (target?.port) (this as { port?: number }).port = target.port;
    if (target?.path !== undefined) (this as { path?: string | Buffer }).path = target.path;
  }

}
Object.defineProperty(SystemError.prototype, 'name', { value: 'SystemError', writable: true, configurable: true });

function fmtHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

// libuv names only the errors it maps (not EINPROGRESS, ENETRESET, ESTALE…): the rest are named from
// this platform's errno table, which Node exports from the same C headers.
let errnoNames: Map<number, string> | undefined;
export function errnoName(errno: number): string | undefined {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, value] of Object.entries(osConstants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);
  }
  return errnoNames.get(errno);
}

/** The error for a native result `rc < 0` (which is -errno). */
export function errnoException(rc: number, syscall: string, target?: ErrorTarget): SystemError {
  let code: string | undefined;
  try {
    code = getSystemErrorName(rc);
  } catch {
    code = undefined;
  }
  if (code === undefined || code.startsWith('Unknown system error')) code = errnoName(-rc) ?? `Unknown system error ${rc}`;
  return new SystemError(code, rc, syscall, target);
}

interface CodedError extends Error {
  code: string;
}

function coded<E extends Error>(err: E, code: string): E & CodedError {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return err as E & CodedError;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `Received an instance of ${ctor}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/** Node's ERR_INVALID_ARG_TYPE. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & CodedError {
  return coded(new TypeError(`The "${name}" argument must be ${expected}. ${describe(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** Node's ERR_OUT_OF_RANGE. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & CodedError {
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(actual)}`),
    'ERR_OUT_OF_RANGE',
  );
}

/** Node's ERR_INVALID_ARG_VALUE. */
export function invalidArgValue(name: string, actual: unknown, reason = 'is invalid'): TypeError & CodedError {
  let shown = inspect(actual);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return coded(new TypeError(`The argument '${name}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE');
}
