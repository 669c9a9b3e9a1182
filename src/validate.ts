// Argument checks, cheap enough for the hot path: a typeof and a comparison or two.
import { invalidArgType, outOfRange } from './errors';

/** An integer in [min, max], else ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE naming the argument. */
export function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, Number.isInteger(value) ? `>= ${min} && <= ${max}` : 'an integer', value);
  }
  return value;
}

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;

/** Any C `int` (flags, levels, option names, protocol numbers). */
export function checkInt32(value: unknown, name: string): number {
  if (typeof value === 'number' && (value | 0) === value) return value;
  return checkInt(value, name, INT32_MIN, INT32_MAX);
}

/** A Buffer / Uint8Array (any TypedArray or DataView is viewed as its bytes). */
export function checkBytes(value: unknown, name: string): Uint8Array {
  // ArrayBuffer.isView first: a Proxy of a Uint8Array is instanceof Uint8Array, but has no memory of
  // its own for the addon to read or write.
  if (!ArrayBuffer.isView(value)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  if (value instanceof Uint8Array) return value;
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** A count of bytes within `available` (defaulting to all of it), as C's `len` argument. */
export function checkCount(count: unknown, available: number, name = 'length'): number {
  if (count === undefined) return available;
  if (typeof count === 'number' && count >= 0 && count <= available && (count | 0) === count) return count;
  return checkInt(count, name, 0, available);
}
