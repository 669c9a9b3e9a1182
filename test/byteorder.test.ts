// htons(3), htonl(3), ntohs(3), ntohl(3): checked against what the host's own memory does with a
// big-endian (network order) value, never against a second copy of the swap.
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { htonl, htons, ntohl, ntohs } from '../src/index';

const LITTLE = endianness() === 'LE';

/** What a C program reads when it loads a 16-bit value stored in network order: the reference htons. */
function viaMemory16(x: number): number {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(x);
  return LITTLE ? b.readUInt16LE(0) : b.readUInt16BE(0);
}

function viaMemory32(x: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(x);
  return LITTLE ? b.readUInt32LE(0) : b.readUInt32BE(0);
}

// A deterministic spread of 32-bit values (xorshift), so failures reproduce.
function* sample32(n: number): Generator<number> {
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    yield s >>> 0;
  }
}

const fns16 = { htons, ntohs } as const;
const fns32 = { htonl, ntohl } as const;

describe('htons / ntohs', () => {
  it('swaps the two bytes of 0x1234 on a little-endian host and leaves it alone on a big-endian one', () => {
    expect(htons(0x1234)).toBe(LITTLE ? 0x3412 : 0x1234);
    expect(ntohs(0x1234)).toBe(LITTLE ? 0x3412 : 0x1234);
  });

  it('turns port 80 into the value whose memory bytes are 0x00 0x50', () => {
    const b = Buffer.alloc(2);
    if (LITTLE) b.writeUInt16LE(htons(80));
    else b.writeUInt16BE(htons(80));
    expect([...b]).toEqual([0x00, 0x50]);
    expect(htons(80)).toBe(LITTLE ? 20480 : 80);
  });

  it('maps the edges 0 and 0xffff to themselves and 0x00ff to 0xff00 on little-endian hosts', () => {
    expect(htons(0)).toBe(0);
    expect(htons(0xffff)).toBe(0xffff);
    expect(htons(0x00ff)).toBe(LITTLE ? 0xff00 : 0x00ff);
    expect(htons(0xff00)).toBe(LITTLE ? 0x00ff : 0xff00);
  });

  it('agrees with storing every 16-bit value big-endian and reading it in host order', () => {
    for (let x = 0; x <= 0xffff; x++) {
      const want = viaMemory16(x);
      if (htons(x) !== want || ntohs(x) !== want) {
        expect({ x, htons: htons(x), ntohs: ntohs(x) }).toEqual({ x, htons: want, ntohs: want });
      }
    }
  });

  it('round-trips every 16-bit value through htons then ntohs', () => {
    for (let x = 0; x <= 0xffff; x++) {
      if (ntohs(htons(x)) !== x) expect(ntohs(htons(x))).toBe(x);
    }
  });
});

describe('htonl / ntohl', () => {
  it('reverses the four bytes of 0x12345678 on a little-endian host', () => {
    expect(htonl(0x12345678)).toBe(LITTLE ? 0x78563412 : 0x12345678);
    expect(ntohl(0x12345678)).toBe(LITTLE ? 0x78563412 : 0x12345678);
  });

  it('returns an unsigned number when the top bit ends up set (never a negative int32)', () => {
    expect(htonl(0x000000ff)).toBe(LITTLE ? 0xff000000 : 0xff);
    expect(htonl(0x000000ff)).toBeGreaterThan(0);
    expect(htonl(0x80)).toBe(LITTLE ? 0x80000000 : 0x80);
    expect(htonl(0xffffffff)).toBe(0xffffffff);
    expect(htonl(0)).toBe(0);
  });

  it('gives s_addr for 127.0.0.1 whose memory bytes are 127 0 0 1', () => {
    const b = Buffer.alloc(4);
    if (LITTLE) b.writeUInt32LE(htonl(0x7f000001));
    else b.writeUInt32BE(htonl(0x7f000001));
    expect([...b]).toEqual([127, 0, 0, 1]);
  });

  it('agrees with storing a 32-bit value big-endian and reading it in host order', () => {
    for (const x of sample32(20000)) {
      const want = viaMemory32(x);
      if (htonl(x) !== want || ntohl(x) !== want) {
        expect({ x, htonl: htonl(x), ntohl: ntohl(x) }).toEqual({ x, htonl: want, ntohl: want });
      }
    }
  });

  it('round-trips 32-bit values through htonl then ntohl, and ntohl then htonl', () => {
    for (const x of [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, ...sample32(5000)]) {
      if (ntohl(htonl(x)) !== x) expect(ntohl(htonl(x))).toBe(x);
      if (htonl(ntohl(x)) !== x) expect(htonl(ntohl(x))).toBe(x);
    }
  });
});

describe('argument checks', () => {
  function rangeError(f: () => unknown, name: string): void {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect((err as { code?: string }).code).toBe('ERR_OUT_OF_RANGE');
    expect((err as Error).message).toContain(`"${name}"`);
  }

  it.each(Object.entries(fns16))('%s fails with ERR_OUT_OF_RANGE for -1, 0x10000, 1.5 and NaN', (name, f) => {
    const arg = name === 'htons' ? 'hostshort' : 'netshort';
    rangeError(() => f(-1), arg);
    rangeError(() => f(0x10000), arg);
    rangeError(() => f(1.5), arg);
    rangeError(() => f(Number.NaN), arg);
    rangeError(() => f(Infinity), arg);
  });

  it.each(Object.entries(fns32))('%s fails with ERR_OUT_OF_RANGE for -1, 2**32 and 1.5', (name, f) => {
    const arg = name === 'htonl' ? 'hostlong' : 'netlong';
    rangeError(() => f(-1), arg);
    rangeError(() => f(2 ** 32), arg);
    rangeError(() => f(1.5), arg);
  });

  it.each([...Object.entries(fns16), ...Object.entries(fns32)])(
    '%s fails with ERR_INVALID_ARG_TYPE for the string "80" instead of coercing it',
    (_name, f) => {
      for (const bad of ['80', null, undefined, 80n, {}]) {
        let err: unknown;
        try {
          (f as (x: unknown) => number)(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TypeError);
        expect((err as { code?: string }).code).toBe('ERR_INVALID_ARG_TYPE');
      }
    },
  );
});
