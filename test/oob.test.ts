// MSG_OOB on TCP over 127.0.0.1: TCP's urgent pointer marks one byte, the last one of the send, and
// recv(MSG_OOB) reads that byte out of band. Every expectation here is what Linux does, checked
// against the kernel by hand (the same sequences in C and Python give the same results). The library
// has no sockatmark()/SIOCATMARK; the mark is observed as a user would without it: poll's POLLPRI,
// select's exceptfds, and a normal read that stops at the mark.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, MSG_DONTWAIT, MSG_OOB, MSG_PEEK, POLLIN, POLLPRI, SOCK_DGRAM, SOL_SOCKET, SO_OOBINLINE, SO_RCVTIMEO,
  type PollFd, type SocketHandle, getsockopt, poll, recv, select, send, sendto, setsockopt, socket,
} from '../src/index';
import * as p from '../src/promises';
import { noLeakedFds, systemError, tcpPair, trackHandles, udpSocket } from './helpers';

const E = constants.errno;

noLeakedFds();
const track = trackHandles();

/** A connected TCP pair (the listener is closed at once); a blocking read can never hang the test. */
function pair(): { cli: SocketHandle; conn: SocketHandle } {
  const { cli, conn, srv } = tcpPair();
  srv.close();
  track(cli);
  track(conn);
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(5n, 0); // struct timeval { 5 s, 0 µs } (64-bit Linux)
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, tv);
  return { cli, conn };
}

const buf = Buffer.alloc(64);

/** recv() as a string: the bytes it returned. */
function recvText(fd: SocketHandle, flags = 0): string {
  const n = recv(fd, buf, undefined, flags);
  return buf.toString('latin1', 0, n);
}

/** poll() revents for POLLIN|POLLPRI, without waiting. */
function revents(fd: SocketHandle): number {
  const fds: PollFd[] = [{ fd, events: POLLIN | POLLPRI }];
  poll(fds, 0);
  return fds[0].revents!;
}

/** recv(MSG_OOB) with no urgent byte to read: EINVAL at once, never a wait (tcp(7)). */
function expectNoUrgentData(fd: SocketHandle): void {
  const err = systemError(() => recv(fd, buf, undefined, MSG_OOB));
  expect(err.code).toBe('EINVAL');
  expect(err.errno).toBe(-E.EINVAL);
  expect(err.syscall).toBe('recv');
  expect(err.message).toBe('recv EINVAL');
}

describe('MSG_OOB: one urgent byte', () => {
  it("send('abc', MSG_OOB) makes only 'c' urgent: recv(MSG_OOB) gives 'c', the stream 'ab'", () => {
    const { cli, conn } = pair();
    expect(send(cli, 'abc', undefined, MSG_OOB)).toBe(3);
    // The urgent byte is announced as priority data: POLLPRI, and select's exceptional set.
    expect(revents(conn)).toBe(POLLIN | POLLPRI);
    expect(select([conn], [], [conn], 0)).toEqual({ readable: [conn], writable: [], exceptional: [conn] });
    expect(recvText(conn, MSG_OOB)).toBe('c');
    // Read, it is no longer priority data; 'ab' is still there to read.
    expect(revents(conn)).toBe(POLLIN);
    expect(select([], [], [conn], 0).exceptional).toEqual([]);
    expect(recvText(conn)).toBe('ab');
    // 'c' is not in the normal stream: nothing more to read.
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
    // And it is read only once.
    expectNoUrgentData(conn);
  });

  it('a normal read stops at the mark, even with more data behind it', () => {
    const { cli, conn } = pair();
    send(cli, 'ab');
    send(cli, 'c', undefined, MSG_OOB);
    send(cli, 'de');
    expect(recvText(conn)).toBe('ab'); // not 'abde': the read ends where the urgent byte was
    expect(recvText(conn, MSG_OOB)).toBe('c');
    expect(recvText(conn)).toBe('de');
  });

  it('the urgent byte is lost if the reader reads past the mark without MSG_OOB', () => {
    const { cli, conn } = pair();
    send(cli, 'ab');
    send(cli, 'c', undefined, MSG_OOB);
    send(cli, 'de');
    expect(recvText(conn)).toBe('ab');
    // At the mark, a normal read skips the urgent byte (it is out of band) and returns what follows.
    expect(recvText(conn)).toBe('de');
    expectNoUrgentData(conn);
  });

  it('MSG_OOB | MSG_PEEK reads the urgent byte and leaves it there', () => {
    const { cli, conn } = pair();
    send(cli, 'abc', undefined, MSG_OOB);
    expect(recvText(conn, MSG_OOB | MSG_PEEK)).toBe('c');
    expect(recvText(conn, MSG_OOB | MSG_PEEK)).toBe('c');
    expect(revents(conn) & POLLPRI).toBe(POLLPRI);
    expect(recvText(conn, MSG_OOB)).toBe('c');
    expectNoUrgentData(conn);
  });

  it('recv(MSG_OOB) with no urgent data fails with EINVAL at once, even on a blocking socket', () => {
    const { cli, conn } = pair();
    expectNoUrgentData(conn); // nothing at all has arrived
    send(cli, 'plain');
    expectNoUrgentData(conn); // only normal data
    expect(recvText(conn)).toBe('plain');
  });
});

describe('SO_OOBINLINE', () => {
  it('keeps the urgent byte in the stream, where the mark still ends a read', () => {
    const { cli, conn } = pair();
    expect(getsockopt(conn, SOL_SOCKET, SO_OOBINLINE)).toBe(0);
    setsockopt(conn, SOL_SOCKET, SO_OOBINLINE, true);
    expect(getsockopt(conn, SOL_SOCKET, SO_OOBINLINE)).toBe(1);
    send(cli, 'abc', undefined, MSG_OOB);
    expect(revents(conn)).toBe(POLLIN | POLLPRI);
    // Inline, there is nothing out of band to read.
    expectNoUrgentData(conn);
    expect(recvText(conn)).toBe('ab');
    // The next read starts at the mark: the urgent byte, as ordinary data.
    expect(revents(conn)).toBe(POLLIN | POLLPRI);
    expect(recvText(conn)).toBe('c');
    expect(revents(conn)).toBe(0);
  });

  it('keeps every urgent byte in the stream, each mark ending a read', () => {
    const { cli, conn } = pair();
    setsockopt(conn, SOL_SOCKET, SO_OOBINLINE, 1);
    send(cli, 'a');
    send(cli, 'x', undefined, MSG_OOB);
    send(cli, 'b');
    send(cli, 'y', undefined, MSG_OOB);
    send(cli, 'c');
    expect(recvText(conn)).toBe('axb'); // up to the last mark: the earlier one no longer counts
    expect(recvText(conn)).toBe('yc');
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
  });
});

describe('a second urgent byte', () => {
  it('moves the mark: the earlier urgent byte becomes ordinary data (data between them)', () => {
    const { cli, conn } = pair();
    send(cli, 'a');
    send(cli, 'x', undefined, MSG_OOB);
    send(cli, 'b');
    send(cli, 'y', undefined, MSG_OOB);
    send(cli, 'c');
    expect(recvText(conn, MSG_OOB)).toBe('y');
    expect(recvText(conn)).toBe('axb'); // 'x' is back in the stream, which stops at the new mark
    expect(recvText(conn)).toBe('c');
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
    expectNoUrgentData(conn);
  });

  it('Linux: sent back to back and unread, the first urgent byte is dropped from the stream', () => {
    // tcp_check_urg(): when the unread urgent byte is the next one to read and a new urgent pointer
    // arrives, the old byte is skipped — it ends up neither out of band nor in the stream.
    const { cli, conn } = pair();
    send(cli, 'x', undefined, MSG_OOB);
    send(cli, 'y', undefined, MSG_OOB);
    expect(recvText(conn, MSG_OOB)).toBe('y');
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
  });

  it('read before the next one arrives, each urgent byte is delivered out of band in turn', () => {
    const { cli, conn } = pair();
    send(cli, 'x', undefined, MSG_OOB);
    expect(recvText(conn, MSG_OOB)).toBe('x');
    send(cli, 'y', undefined, MSG_OOB);
    expect(recvText(conn, MSG_OOB)).toBe('y');
    expect(systemError(() => recv(conn, buf, undefined, MSG_DONTWAIT)).code).toBe('EAGAIN');
  });
});

describe('MSG_OOB elsewhere', () => {
  it('a UDP socket refuses to send out of band: EOPNOTSUPP', () => {
    const a = udpSocket();
    track(a.fd);
    const err = systemError(() => sendto(a.fd, 'x', MSG_OOB, { family: AF_INET, address: '127.0.0.1', port: a.port }));
    expect(err.errno).toBe(-E.EOPNOTSUPP);
    // Linux has one number for EOPNOTSUPP and ENOTSUP; Node (libuv) names it ENOTSUP.
    expect(['EOPNOTSUPP', 'ENOTSUP']).toContain(err.code);
    expect(err.syscall).toBe('sendto');
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    expect(systemError(() => send(u, 'x', undefined, MSG_OOB)).errno).toBe(-E.EOPNOTSUPP);
  });

  it('the promises API sends and receives urgent data with the same flags', async () => {
    const { cli, conn } = pair();
    expect(await p.send(cli, 'abc', undefined, MSG_OOB)).toBe(3);
    const b = Buffer.alloc(8);
    expect(await p.recv(conn, b, undefined, MSG_OOB, { timeout: 5000 })).toBe(1);
    expect(b.toString('latin1', 0, 1)).toBe('c');
    expect(await p.recv(conn, b, undefined, 0, { timeout: 5000 })).toBe(2);
    expect(b.toString('latin1', 0, 2)).toBe('ab');
    // No urgent byte: the kernel's EINVAL at once, as a rejection (not a call left waiting).
    await expect(p.recv(conn, b, undefined, MSG_OOB, { timeout: 5000 })).rejects.toMatchObject({
      name: 'SystemError', code: 'EINVAL', errno: -E.EINVAL, syscall: 'recv',
    });
  });

  it('the promises API reads an urgent byte that came alone (POLLPRI without POLLIN)', async () => {
    const { cli, conn } = pair();
    send(cli, 'z', undefined, MSG_OOB);
    expect(revents(conn)).toBe(POLLPRI); // nothing to read in the normal stream
    const b = Buffer.alloc(8);
    expect(await p.recv(conn, b, undefined, MSG_OOB, { timeout: 5000 })).toBe(1);
    expect(b.toString('latin1', 0, 1)).toBe('z');
    expect(revents(conn)).toBe(0);
  });
});
