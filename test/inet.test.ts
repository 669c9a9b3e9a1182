// inet_pton(3), inet_ntop(3), inet_addr(3), inet_aton(3), inet_ntoa(3): text <-> binary addresses.
// Expected bytes come from the RFCs (network order = the order the address is written in), and
// expected text from RFC 5952; the glibc-specific leniencies are checked only where glibc is the libc.
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { thrown } from './helpers';
import {
  AF_INET, AF_INET6, AF_UNIX, INADDR_LOOPBACK, INADDR_NONE, SystemError, htonl, in6_addr, in_addr, inet_addr, inet_aton,
  inet_ntoa, inet_ntop, inet_pton,
} from '../src/index';

const LITTLE = endianness() === 'LE';
const isGlibc = process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime);

/** The s_addr a C program sees for four bytes in memory. */
function sAddrOf(bytes: number[]): number {
  const b = Buffer.from(bytes);
  return LITTLE ? b.readUInt32LE(0) : b.readUInt32BE(0);
}


describe('inet_pton, two-argument form', () => {
  it('returns the 4 bytes of an IPv4 address in the order they are written', () => {
    const b = inet_pton(AF_INET, '127.0.0.1');
    expect(Buffer.isBuffer(b)).toBe(true);
    expect([...b]).toEqual([127, 0, 0, 1]);
    expect([...inet_pton(AF_INET, '10.0.2.255')]).toEqual([10, 0, 2, 255]);
    expect([...inet_pton(AF_INET, '0.0.0.0')]).toEqual([0, 0, 0, 0]);
  });

  it('returns the 16 bytes of ::1 and of the v4-mapped ::ffff:127.0.0.1', () => {
    expect([...inet_pton(AF_INET6, '::1')]).toEqual([...Array(15).fill(0), 1]);
    expect([...inet_pton(AF_INET6, '::')]).toEqual(Array(16).fill(0));
    expect([...inet_pton(AF_INET6, '::ffff:127.0.0.1')]).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
  });

  it('reads the long, uppercase and compressed spellings of one IPv6 address alike', () => {
    const want = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1];
    for (const s of ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:DB8:0:0::1', '2001:db8:0:0:0:0:0:1']) {
      expect([...inet_pton(AF_INET6, s)], s).toEqual(want);
    }
  });

  it('does not hand back a buffer that a later call overwrites', () => {
    const a = inet_pton(AF_INET, '10.1.2.3');
    inet_pton(AF_INET, '127.0.0.1');
    expect([...a]).toEqual([10, 1, 2, 3]);
  });

  it.each([
    ['1.2.3', 'three parts (inet_pton wants exactly four)'],
    ['127.256.1.1', 'a part above 255'],
    ['10.2.3.4.5', 'five parts'],
    ['127.1', 'the historical short form'],
    ['0x7f.0.0.1', 'hex'],
    [' 127.0.0.1', 'leading space'],
    ['127.0.0.1 ', 'trailing space'],
    ['', 'empty'],
    ['localhost', 'a name'],
    ['::1', 'an IPv6 address for AF_INET'],
  ])('fails with ERR_INVALID_ARG_VALUE for IPv4 %j (%s)', (src) => {
    const err = thrown(() => inet_pton(AF_INET, src));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  // POSIX leaves leading zeros in inet_pton unspecified; glibc rejects them as possibly octal.
  it.skipIf(!isGlibc)('rejects a leading zero such as 127.01.0.1 (glibc refuses it as possibly octal)', () => {
    expect(thrown(() => inet_pton(AF_INET, '127.01.0.1')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_pton(AF_INET, '127.2.3.04')).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('rejects "127.0.0.1\\0x" instead of stopping at the NUL as a C string would', () => {
    expect(thrown(() => inet_pton(AF_INET, '127.0.0.1\0x')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_pton(AF_INET6, '::1\0')).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it.each(['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3', 'fe80::1%lo', '12345::1', 'g::1', '127.0.0.1'])(
    'fails with ERR_INVALID_ARG_VALUE for IPv6 %j',
    (src) => {
      expect(thrown(() => inet_pton(AF_INET6, src)).code).toBe('ERR_INVALID_ARG_VALUE');
    },
  );

  it('accepts the longest IPv6 text (INET6_ADDRSTRLEN - 1 chars) and rejects one char more', () => {
    const longest = 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255';
    expect(longest.length).toBe(45);
    expect([...inet_pton(AF_INET6, longest)]).toEqual(Array(16).fill(0xff));
    // Cut to 45 characters this would be valid again: the extra digit must not be silently dropped.
    expect(thrown(() => inet_pton(AF_INET6, `${longest}5`)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_pton(AF_INET, `10.2.3.4${' '.repeat(60)}`)).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('fails with an EAFNOSUPPORT SystemError for a family that has no text form', () => {
    for (const af of [AF_UNIX, 12345]) {
      const err = thrown(() => inet_pton(af, '127.0.0.1'));
      expect(err).toBeInstanceOf(SystemError);
      expect(err.code).toBe('EAFNOSUPPORT');
      expect(err.syscall).toBe('inet_pton');
      expect(err.errno).toBeLessThan(0);
    }
  });

  it('fails with ERR_INVALID_ARG_TYPE for a non-string src or a non-integer af', () => {
    expect(thrown(() => inet_pton(AF_INET, 0x7f000001 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => inet_pton('2' as never, '127.0.0.1')).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => inet_pton(2.5, '127.0.0.1')).code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('inet_pton, three-argument C form', () => {
  it('fills an in_addr with s_addr in network byte order and returns 1', () => {
    const a = new in_addr();
    expect(inet_pton(AF_INET, '127.0.0.1', a)).toBe(1);
    expect(a.s_addr).toBe(htonl(INADDR_LOOPBACK));
    expect(a.s_addr).toBe(sAddrOf([127, 0, 0, 1]));
    expect(inet_pton(AF_INET, '10.2.3.4', a)).toBe(1);
    expect(a.s_addr).toBe(sAddrOf([10, 2, 3, 4]));
  });

  it('fills an in6_addr and returns 1', () => {
    const a = new in6_addr();
    expect(inet_pton(AF_INET6, '2001:db8::ff', a)).toBe(1);
    expect([...a.s6_addr]).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0xff]);
  });

  it('fills a Uint8Array at its start and leaves the rest alone', () => {
    const buf = new Uint8Array(20).fill(0xee);
    expect(inet_pton(AF_INET, '10.0.0.7', buf)).toBe(1);
    expect([...buf.subarray(0, 5)]).toEqual([10, 0, 0, 7, 0xee]);
    const b6 = Buffer.alloc(16);
    expect(inet_pton(AF_INET6, '::1', b6)).toBe(1);
    expect(b6[15]).toBe(1);
  });

  it('returns 0 and leaves dst untouched for text that is not an address', () => {
    const a = new in_addr(0x11223344);
    for (const bad of ['1.2.3', '127.256.1.1', '127.0.0.1\0x', 'localhost', '']) {
      expect(inet_pton(AF_INET, bad, a), bad).toBe(0);
    }
    expect(a.s_addr).toBe(0x11223344);
    const b = new Uint8Array(16).fill(9);
    expect(inet_pton(AF_INET6, '1::2::3', b)).toBe(0);
    expect([...b]).toEqual(Array(16).fill(9));
  });

  it('still throws EAFNOSUPPORT for a bad family (C returns -1 with errno set)', () => {
    const err = thrown(() => inet_pton(AF_UNIX, '127.0.0.1', new in_addr()));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EAFNOSUPPORT');
  });

  it('refuses a destination too small or of the wrong kind', () => {
    expect(thrown(() => inet_pton(AF_INET6, '::1', new Uint8Array(4))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_pton(AF_INET6, '::1', new in_addr())).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_pton(AF_INET, '10.2.3.4', new in6_addr())).code).toBe('ERR_INVALID_ARG_VALUE');
  });
});

describe('inet_ntop', () => {
  it('prints 4 network-order bytes as a dotted quad', () => {
    expect(inet_ntop(AF_INET, Uint8Array.from([127, 0, 0, 1]))).toBe('127.0.0.1');
    expect(inet_ntop(AF_INET, Uint8Array.from([255, 255, 255, 255]))).toBe('255.255.255.255');
  });

  it('prints an in_addr from its s_addr (network byte order) and a bare s_addr number', () => {
    expect(inet_ntop(AF_INET, new in_addr(htonl(INADDR_LOOPBACK)))).toBe('127.0.0.1');
    expect(inet_ntop(AF_INET, { s_addr: sAddrOf([10, 0, 2, 1]) })).toBe('10.0.2.1');
    expect(inet_ntop(AF_INET, sAddrOf([10, 9, 8, 7]) as never)).toBe('10.9.8.7');
  });

  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // longest zero run compressed, no leading zeros
    ['2001:DB8:0:0:0:0:0:ABCD', '2001:db8::abcd'], // lowercase
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run, not the first
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'], // v4-mapped keeps the dotted quad
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
  ])('prints %s as %s (RFC 5952)', (input, want) => {
    expect(inet_ntop(AF_INET6, inet_pton(AF_INET6, input))).toBe(want);
  });

  it('prints an in6_addr filled by inet_pton, and round-trips RFC 5952 text unchanged', () => {
    const a = new in6_addr();
    inet_pton(AF_INET6, 'ff02::1:ff00:1', a);
    expect(inet_ntop(AF_INET6, a)).toBe('ff02::1:ff00:1');
    for (const s of ['::1', '2001:db8::1', '::ffff:127.0.0.1', 'fe80::fc:ff:fe00:1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']) {
      expect(inet_ntop(AF_INET6, inet_pton(AF_INET6, s))).toBe(s);
    }
  });

  it('reads only the first 4 or 16 bytes of a longer array, from its byteOffset', () => {
    const big = Buffer.from([9, 9, 127, 0, 0, 1, 9, 9]);
    expect(inet_ntop(AF_INET, big.subarray(2))).toBe('127.0.0.1');
  });

  it('fails with ERR_INVALID_ARG_VALUE when src is too short for the family', () => {
    expect(thrown(() => inet_ntop(AF_INET6, new Uint8Array(4))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => inet_ntop(AF_INET, new Uint8Array(3))).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('fails with an EAFNOSUPPORT SystemError for a bad af', () => {
    for (const af of [AF_UNIX, 12345]) {
      const err = thrown(() => inet_ntop(af, new Uint8Array(16)));
      expect(err).toBeInstanceOf(SystemError);
      expect(err.code).toBe('EAFNOSUPPORT');
      expect(err.syscall).toBe('inet_ntop');
    }
  });

  it('fails with ERR_INVALID_ARG_TYPE for a string src', () => {
    expect(thrown(() => inet_ntop(AF_INET, '127.0.0.1' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('inet_addr', () => {
  it('returns s_addr in network byte order', () => {
    expect(inet_addr('127.0.0.1')).toBe(htonl(INADDR_LOOPBACK));
    expect(inet_addr('10.2.3.4')).toBe(sAddrOf([10, 2, 3, 4]));
  });

  it('accepts the historical short, hex and octal forms that inet_pton refuses', () => {
    const lo = htonl(INADDR_LOOPBACK);
    expect(inet_addr('127.1')).toBe(lo); // a.b: b fills the low 24 bits
    expect(inet_addr('127.0.1')).toBe(lo); // a.b.c: c fills the low 16 bits
    expect(inet_addr('0x7f.0.0.1')).toBe(lo);
    expect(inet_addr('0177.0.0.1')).toBe(lo); // a leading 0 means octal: 0177 = 127
    expect(inet_addr('2130706433')).toBe(lo); // one 32-bit number
    expect(inet_addr('0177.0.0.010')).toBe(sAddrOf([127, 0, 0, 8])); // 010 octal = 8
  });

  it('returns INADDR_NONE both for garbage and for the valid 255.255.255.255 (the classic ambiguity)', () => {
    expect(INADDR_NONE).toBe(0xffffffff);
    expect(inet_addr('255.255.255.255')).toBe(INADDR_NONE);
    expect(inet_addr('not an address')).toBe(INADDR_NONE);
    expect(inet_addr('127.256.1.1')).toBe(INADDR_NONE);
    expect(inet_addr('')).toBe(INADDR_NONE);
    // inet_aton tells them apart
    expect(inet_aton('255.255.255.255')).toEqual({ s_addr: 0xffffffff });
    expect(inet_aton('not an address')).toBeNull();
  });

  it('returns INADDR_NONE for "127.0.0.1\\0x" instead of parsing up to the NUL', () => {
    expect(inet_addr('127.0.0.1\0x')).toBe(INADDR_NONE);
  });

  it('fails with ERR_INVALID_ARG_TYPE for a number', () => {
    expect(thrown(() => inet_addr(127 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('inet_aton', () => {
  it('fills inp.s_addr and returns 1, or returns 0 and leaves inp alone', () => {
    const a = new in_addr();
    expect(inet_aton('127.1', a)).toBe(1);
    expect(a.s_addr).toBe(htonl(INADDR_LOOPBACK));
    expect(inet_aton('127.2.3.256', a)).toBe(0);
    expect(inet_aton('10.2.3.4.5', a)).toBe(0);
    expect(inet_aton('4294967296', a)).toBe(0);
    expect(a.s_addr).toBe(htonl(INADDR_LOOPBACK));
  });

  it('returns an in_addr, or null, without the second argument', () => {
    expect(inet_aton('10.0.0.1')).toEqual({ s_addr: sAddrOf([10, 0, 0, 1]) });
    expect(inet_aton('10.0.0.1.')).toBeNull();
    expect(inet_aton('4294967295')).toEqual({ s_addr: 0xffffffff });
  });

  it('fails with ERR_INVALID_ARG_TYPE for a non-object inp', () => {
    expect(thrown(() => inet_aton('10.2.3.4', 5 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => inet_aton(null as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('inet_ntoa', () => {
  it('prints an in_addr or an s_addr number as a dotted quad', () => {
    expect(inet_ntoa(new in_addr(htonl(INADDR_LOOPBACK)))).toBe('127.0.0.1');
    expect(inet_ntoa(htonl(0x0a000201))).toBe('10.0.2.1');
    expect(inet_ntoa(0)).toBe('0.0.0.0');
    expect(inet_ntoa(0xffffffff)).toBe('255.255.255.255');
  });

  it('is the inverse of inet_aton and agrees with inet_ntop', () => {
    for (const s of ['127.0.0.1', '10.20.30.40', '10.0.2.254', '127.0.0.2']) {
      const a = inet_aton(s);
      expect(a).not.toBeNull();
      expect(inet_ntoa(a!)).toBe(s);
      expect(inet_ntop(AF_INET, a!)).toBe(s);
    }
  });

  it('fails with a RangeError for an s_addr outside 32 bits', () => {
    const err = thrown(() => inet_ntoa(-1));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => inet_ntoa(2 ** 32)).code).toBe('ERR_OUT_OF_RANGE');
  });
});
