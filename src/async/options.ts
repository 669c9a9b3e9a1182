// What every call of berkeley-sockets/promises takes ({ signal, timeout }), and the errors it ends with
// when it does not get the kernel's answer: aborted, or its socket closed while it waited.
import { invalidArgType, outOfRange } from '../errors';

/** Options every async call takes. */
export interface AsyncOptions {
  /** Rejects the call with an AbortError when aborted; the socket stays usable. */
  signal?: AbortSignal;
  /** Rejects with an ETIMEDOUT SystemError after this many milliseconds. */
  timeout?: number;
}

export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

const NO_OPTIONS: AsyncOptions = Object.freeze({});

export function checkOptions(options: AsyncOptions | undefined): AsyncOptions {
  if (options === undefined) return NO_OPTIONS;
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  if (options.timeout !== undefined && (typeof options.timeout !== 'number' || !(options.timeout >= 0) || !Number.isFinite(options.timeout))) {
    throw outOfRange('options.timeout', 'a finite number >= 0 (ms)', options.timeout);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', options.signal);
  }
  return options;
}

/** The error of a call still pending when its socket was closed. */
export function closedError(syscall: string): Error {
  return Object.assign(new Error(`${syscall}: the socket was closed while the call was pending`), { code: 'ERR_SOCKET_CLOSED', syscall });
}
