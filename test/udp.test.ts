// UDP over 127.0.0.1: sendto/recvfrom and who sent what, datagram boundaries, truncation, empty
// datagrams, connected UDP and MSG_PEEK. Every receive happens after the datagram was sent (loopback
// delivers it before sendto returns), or with MSG_DONTWAIT.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, SOCK_DGRAM, SOL_SOCKET, SO_TYPE, SystemError, type SocketHandle,
  connect, getpeername, getsockname, getsockopt, htonl, htons, INADDR_LOOPBACK, read, recv, recvfrom, send,
  sendto, sockaddr_in, socket, write, ntohs,
} from '../src/index';
import { udpSocket, noLeakedFds, trackHandles, systemError } from './helpers';

const E = constants.errno;
const LOOPBACK = '127.0.0.1';

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const track = trackHandles();

function udp(): { fd: SocketHandle<typeof AF_INET>; port: number; addr: { family: typeof AF_INET; address: string; port: number } } {
  const { fd, port } = udpSocket();
  track(fd);
  return { fd, port, addr: { family: AF_INET, address: LOOPBACK, port } };
}


/** Sleeps without yielding to the event loop (bounded waits for the kernel's asynchronous work). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('sendto and recvfrom', () => {
  it('delivers a datagram and reports the sender\'s bound address and port', () => {
    const a = udp();
    const b = udp();
    expect(sendto(a.fd, 'hello', b.addr)).toBe(5);
    const buf = Buffer.alloc(64);
    const got = recvfrom(b.fd, buf);
    expect(got.n).toBe(5);
    expect(buf.toString('utf8', 0, got.n)).toBe('hello');
    expect(got.address).toEqual({ family: AF_INET, address: LOOPBACK, port: a.port });
    expect(got.address).toEqual(getsockname(a.fd));
    // Answering the address recvfrom returned reaches the sender.
    expect(sendto(b.fd, 'world', got.address!)).toBe(5);
    const back = recvfrom(a.fd, buf);
    expect(back).toEqual({ n: 5, address: { family: AF_INET, address: LOOPBACK, port: b.port } });
    expect(buf.toString('utf8', 0, 5)).toBe('world');
  });

  it('gives an unbound sender an ephemeral port, which recvfrom reports', () => {
    const b = udp();
    const a = track(socket(AF_INET, SOCK_DGRAM, 0));
    expect(getsockname(a)).toEqual({ family: AF_INET, address: '0.0.0.0', port: 0 });
    sendto(a, 'x', b.addr);
    const mine = getsockname(a);
    expect(mine.port).toBeGreaterThan(0);
    const got = recvfrom(b.fd, Buffer.alloc(8));
    expect(got.address?.port).toBe(mine.port);
    expect(got.address?.address).toBe(LOOPBACK);
  });

  it('accepts all three sendto forms: (fd, data, addr), (fd, data, flags, addr), (fd, data, count, flags, addr)', () => {
    const a = udp();
    const b = udp();
    const data = Buffer.from('abcdefgh');
    expect(sendto(a.fd, data, b.addr)).toBe(8);
    expect(sendto(a.fd, data, 0, b.addr)).toBe(8);
    expect(sendto(a.fd, data, 3, 0, b.addr)).toBe(3);
    expect(sendto(a.fd, data, undefined, 0, b.addr)).toBe(8);
    expect(sendto(a.fd, data, MSG_DONTWAIT as number, b.addr)).toBe(8);
    expect(sendto(a.fd, data, 5, MSG_DONTWAIT as number, b.addr)).toBe(5);
    const buf = Buffer.alloc(64);
    const lengths: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { n, address } = recvfrom(b.fd, buf);
      expect(address?.port).toBe(a.port);
      lengths.push(n);
      texts.push(buf.toString('utf8', 0, n));
    }
    expect(lengths).toEqual([8, 8, 3, 8, 8, 5]);
    expect(texts).toEqual(['abcdefgh', 'abcdefgh', 'abc', 'abcdefgh', 'abcdefgh', 'abcde']);
    expect(() => recv(b.fd, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });

  it('takes a sockaddr_in struct built the C way', () => {
    const a = udp();
    const b = udp();
    const to = new sockaddr_in();
    to.sin_family = AF_INET;
    to.sin_port = htons(b.port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    expect(sendto(a.fd, 'struct', to)).toBe(6);
    const buf = Buffer.alloc(16);
    expect(recvfrom(b.fd, buf)).toEqual({ n: 6, address: getsockname(a.fd) });
  });

  it('sends strings as UTF-8 and receives into a count-limited window', () => {
    const a = udp();
    const b = udp();
    sendto(a.fd, 'ünïcode', b.addr);
    const buf = Buffer.alloc(64, 0);
    const { n } = recvfrom(b.fd, buf, 20);
    expect(n).toBe(Buffer.byteLength('ünïcode'));
    expect(buf.toString('utf8', 0, n)).toBe('ünïcode');
  });
});

describe('recvfrom into a C struct', () => {
  it('fills a sockaddr_in as recvfrom(s, buf, len, 0, (struct sockaddr *)&from, &fromlen) does; null takes no address', () => {
    const a = udp();
    const b = udp();
    sendto(b.fd, 'one', a.addr);
    const from = new sockaddr_in();
    const buf = Buffer.alloc(16);
    const r = recvfrom(a.fd, buf, buf.length, 0, from);
    expect(r).toEqual({ n: 3, address: b.addr });
    expect(from.sin_family).toBe(AF_INET);
    expect(ntohs(from.sin_port)).toBe(b.port);
    expect(from.sin_addr.s_addr).toBe(htonl(INADDR_LOOPBACK));
    sendto(b.fd, 'two', a.addr);
    expect(recvfrom(a.fd, buf, buf.length, 0, null)).toEqual({ n: 3, address: null });
    expect(buf.toString('latin1', 0, 3)).toBe('two');
    expect(() => recvfrom(a.fd, buf, buf.length, 0, 16 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('datagram boundaries', () => {
  it('keeps each datagram separate, in order', () => {
    const a = udp();
    const b = udp();
    const msgs = ['one', 'two', 'three', 'four!'];
    for (const m of msgs) sendto(a.fd, m, b.addr);
    const buf = Buffer.alloc(64);
    for (const m of msgs) {
      const n = recv(b.fd, buf);
      expect(buf.toString('utf8', 0, n)).toBe(m);
    }
  });

  it('truncates a 39-byte datagram into a 24-byte buffer and discards the rest', () => {
    const a = udp();
    const b = udp();
    const msg = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABC');
    expect(msg.length).toBe(39);
    sendto(a.fd, msg, b.addr);
    sendto(a.fd, 'next', b.addr);
    const buf = Buffer.alloc(24);
    const got = recvfrom(b.fd, buf);
    expect(got.n).toBe(24);
    expect(buf.equals(msg.subarray(0, 24))).toBe(true);
    // The remaining 15 bytes are gone: the next receive is the next datagram.
    const n = recv(b.fd, buf);
    expect(buf.toString('utf8', 0, n)).toBe('next');
  });

  it('recv with MSG_TRUNC returns the real length of a longer datagram', () => {
    const a = udp();
    const b = udp();
    const msg = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABC');
    sendto(a.fd, msg, b.addr);
    sendto(a.fd, msg, b.addr);
    const buf = Buffer.alloc(24);
    expect(recv(b.fd, buf, undefined, MSG_TRUNC)).toBe(39);
    expect(buf.equals(msg.subarray(0, 24))).toBe(true);
    const got = recvfrom(b.fd, buf, 10, MSG_TRUNC);
    expect(got.n).toBe(39);
    expect(got.address?.port).toBe(a.port);
    expect(buf.subarray(0, 10).equals(msg.subarray(0, 10))).toBe(true);
  });

  it('delivers a zero-length datagram as n = 0 with the sender\'s address', () => {
    const a = udp();
    const b = udp();
    expect(sendto(a.fd, Buffer.alloc(0), b.addr)).toBe(0);
    expect(sendto(a.fd, '', b.addr)).toBe(0);
    const buf = Buffer.alloc(8);
    expect(recvfrom(b.fd, buf)).toEqual({ n: 0, address: { family: AF_INET, address: LOOPBACK, port: a.port } });
    expect(recvfrom(b.fd, buf)).toEqual({ n: 0, address: { family: AF_INET, address: LOOPBACK, port: a.port } });
    // Both were real datagrams; nothing is left.
    expect(() => recvfrom(b.fd, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN', syscall: 'recvfrom' }));
  });
});

describe('MSG_PEEK', () => {
  it('returns the next datagram and its sender without removing it', () => {
    const a = udp();
    const b = udp();
    sendto(a.fd, 'first', b.addr);
    sendto(a.fd, 'second', b.addr);
    const buf = Buffer.alloc(32);
    const peeked = recvfrom(b.fd, buf, undefined, MSG_PEEK);
    expect(peeked).toEqual({ n: 5, address: getsockname(a.fd) });
    expect(recv(b.fd, buf, undefined, MSG_PEEK)).toBe(5);
    buf.fill(0);
    expect(recvfrom(b.fd, buf).n).toBe(5);
    expect(buf.toString('utf8', 0, 5)).toBe('first');
    expect(recv(b.fd, buf)).toBe(6);
    expect(buf.toString('utf8', 0, 6)).toBe('second');
  });

  it('with MSG_TRUNC tells the size of the waiting datagram before reading it', () => {
    const a = udp();
    const b = udp();
    sendto(a.fd, Buffer.alloc(1000, 7), b.addr);
    const size = recv(b.fd, Buffer.alloc(1), undefined, MSG_PEEK | MSG_TRUNC);
    expect(size).toBe(1000);
    const buf = Buffer.alloc(size);
    expect(recv(b.fd, buf)).toBe(1000);
    expect(buf.every((x) => x === 7)).toBe(true);
  });
});

describe('connected UDP', () => {
  it('sends with send/write to the connected peer and receives with recv/read', () => {
    const a = udp();
    const b = udp();
    connect(a.fd, b.addr);
    connect(b.fd, a.addr);
    expect(getpeername(a.fd)).toEqual(b.addr);
    expect(send(a.fd, 'via send')).toBe(8);
    expect(write(a.fd, 'via write')).toBe(9);
    const buf = Buffer.alloc(32);
    let n = recv(b.fd, buf);
    expect(buf.toString('utf8', 0, n)).toBe('via send');
    n = read(b.fd, buf);
    expect(buf.toString('utf8', 0, n)).toBe('via write');
    send(b.fd, 'back');
    expect(recvfrom(a.fd, buf)).toEqual({ n: 4, address: b.addr });
  });

  it('drops datagrams from anyone but the connected peer', () => {
    const a = udp();
    const b = udp();
    const stranger = udp();
    connect(a.fd, b.addr);
    sendto(stranger.fd, 'from a stranger', a.addr);
    const buf = Buffer.alloc(32);
    expect(() => recv(a.fd, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
    sendto(b.fd, 'from the peer', a.addr);
    const n = recv(a.fd, buf, undefined, MSG_DONTWAIT);
    expect(buf.toString('utf8', 0, n)).toBe('from the peer');
  });

  it('send on an unconnected UDP socket fails with EDESTADDRREQ', () => {
    const a = udp();
    const err = systemError(() => send(a.fd, 'nowhere'));
    expect(err.code).toBe('EDESTADDRREQ');
    expect(err.errno).toBe(-E.EDESTADDRREQ);
    expect(err.syscall).toBe('send');
  });

  it('reports ECONNREFUSED on a later call after sending to a port nobody has bound', () => {
    const a = udp();
    // A port that was just freed: nobody is bound to it.
    const gone = udp();
    const port = gone.port;
    gone.fd.close();
    connect(a.fd, { family: AF_INET, address: LOOPBACK, port });
    send(a.fd, 'anyone?');
    // The ICMP port-unreachable arrives asynchronously; on loopback almost at once.
    const buf = Buffer.alloc(8);
    let err: SystemError | undefined;
    for (let i = 0; i < 100 && !err; i++) {
      try {
        recv(a.fd, buf, undefined, MSG_DONTWAIT);
        throw new Error('a datagram arrived from a port nobody had bound');
      } catch (e) {
        if ((e as SystemError).code === 'EAGAIN') sleep(10);
        else err = e as SystemError;
      }
    }
    expect(err).toBeInstanceOf(SystemError);
    expect(err?.code).toBe('ECONNREFUSED');
    expect(err?.syscall).toBe('recv');
    // The error is reported once; then the socket is usable again.
    expect(() => recv(a.fd, buf, undefined, MSG_DONTWAIT)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });

  it('a connected UDP socket can still sendto an explicit address', () => {
    const a = udp();
    const b = udp();
    const c = udp();
    connect(a.fd, b.addr);
    expect(sendto(a.fd, 'to c', c.addr)).toBe(4);
    const buf = Buffer.alloc(8);
    expect(recvfrom(c.fd, buf)).toEqual({ n: 4, address: a.addr });
  });
});

it('a UDP socket reports SO_TYPE SOCK_DGRAM', () => {
  const a = udp();
  expect(getsockopt(a.fd, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
});
