// A read into a window of the caller's buffer: the call a waiting read makes when epoll reports the
// descriptor readable, and the window the native watcher fills itself when the read is armed.
import { native } from '../binding';
import { EAGAIN, EWOULDBLOCK } from '../constants';
import { errnoException } from '../errors';
import { addrOut, decodeAddrSlot, takeAddrOut } from '../addrout';

const { ARM_RECV, ARM_RECVFROM } = native.uv;

/** A non-blocking call's "not now": EAGAIN (or its alias EWOULDBLOCK where they differ). */
export function wouldBlock(rc: number): boolean {
  return rc === -EAGAIN || rc === -EWOULDBLOCK;
}

/**
 * A read(2) — or recv(2) or recvfrom(2) with no flags — into the window buf[offset, offset + length):
 * the call a waiting read makes, and the window the native watcher fills itself when it is armed
 * (Watch.armed). With `exact`, reads go on until the window is full or end of file (readExactly as one
 * operation), the window advancing by each read; the result is then the byte count of all of them.
 * recvfrom's result is `{ n, address }`.
 */
export class ReadWindow {
  /** Bytes read so far (exact). */
  got = 0;

  constructor(
    readonly fd: number,
    readonly buf: Uint8Array,
    public offset: number,
    public length: number,
    readonly kind: number,
    readonly exact: boolean,
  ) {}

  /** Counts a read's bytes: the result once settled, undefined while an exact read wants more. */
  take(rc: number): number | undefined {
    if (!this.exact) return rc;
    if (rc === 0) return this.got; // end of file
    this.got += rc;
    this.offset += rc;
    this.length -= rc;
    return this.length === 0 ? this.got : undefined;
  }

  /** The non-blocking call: the result, undefined while it would block, or a thrown SystemError. */
  call(): unknown {
    for (;;) {
      const kind = this.kind;
      const rc = kind === ARM_RECVFROM
        ? native.recvfrom(this.fd, this.buf, this.offset, this.length, 0, addrOut)
        : kind === ARM_RECV
          ? native.recv(this.fd, this.buf, this.offset, this.length, 0)
          : native.read(this.fd, this.buf, this.offset, this.length);
      if (rc < 0) {
        if (wouldBlock(rc)) return undefined;
        throw this.error(rc);
      }
      if (kind === ARM_RECVFROM) return { n: rc, address: takeAddrOut() };
      const v = this.take(rc);
      if (v !== undefined) return v;
    }
  }

  /** What the watcher's own call settles (the sender in `addrs` at `slot`), undefined while more is wanted. */
  result(rc: number, addrs: Uint8Array, slot: number): unknown {
    return this.kind === ARM_RECVFROM ? { n: rc, address: decodeAddrSlot(addrs, slot) } : this.take(rc);
  }

  error(rc: number): Error {
    const syscall = this.kind === ARM_RECVFROM ? 'recvfrom' : this.kind === ARM_RECV ? 'recv' : 'read';
    return this.progress(errnoException(rc, syscall));
  }

  /** An exact read's error tells how much of the window was filled before it (`bytesRead`). */
  progress(err: Error): Error {
    return this.exact ? Object.assign(err, { bytesRead: this.got }) : err;
  }
}
