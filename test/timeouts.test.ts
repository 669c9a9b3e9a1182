// Timeouts for the synchronous API: SO_RCVTIMEO / SO_SNDTIMEO (socket(7)) make a blocking call give up
// with EAGAIN, reported as a SystemError like any other failure.
import { describe, expect, it } from 'vitest';
import {
  AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, SO_SNDBUF, SO_SNDTIMEO, close, read, setsockopt, socketpair, write,
  writeAll,
} from '../src/index';

/** struct timeval for 64-bit Linux: tv_sec and tv_usec as two longs. */
function timeval(ms: number): Buffer {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  return tv;
}

describe('SO_RCVTIMEO / SO_SNDTIMEO', () => {
  it('makes a blocking read fail with EAGAIN after the receive timeout, then read normally', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    try {
      setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, timeval(80));
      const t0 = process.hrtime.bigint();
      expect(() => read(a, Buffer.alloc(4))).toThrow(expect.objectContaining({ code: 'EAGAIN', syscall: 'read', name: 'SystemError' }));
      expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeGreaterThanOrEqual(70); // it blocked first
      write(b, 'ok');
      expect(read(a, Buffer.alloc(4))).toBe(2);
    } finally {
      close(a);
      close(b);
    }
  });

  it('makes writeAll fail with EAGAIN when the peer never reads, reporting the bytes that did go', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    try {
      setsockopt(a, SOL_SOCKET, SO_SNDBUF, 4096);
      setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, timeval(80));
      let err: (Error & { code?: string; bytesWritten?: number }) | undefined;
      try {
        writeAll(a, Buffer.alloc(8 * 1024 * 1024));
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.code).toBe('EAGAIN');
      expect(err?.bytesWritten).toBeGreaterThan(0);
      expect(err?.bytesWritten).toBeLessThan(8 * 1024 * 1024);
    } finally {
      close(a);
      close(b);
    }
  });
});
