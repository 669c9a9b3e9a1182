// sendmsg/recvmsg: scatter/gather, ancillary data (SCM_RIGHTS, SCM_CREDENTIALS, IP_PKTINFO), truncation
// flags, and the reason they exist here: handing a live connection to another process.
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AF_INET6, IPPROTO_IPV6, IPV6_HOPLIMIT, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_TCLASS, IPV6_UNICAST_HOPS,
  AF_INET, AF_UNIX, CMSG_LEN, CMSG_SPACE, IPPROTO_IP, IP_PKTINFO, MSG_CTRUNC, MSG_TRUNC, SCM_CREDENTIALS, SCM_RIGHTS,
  SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_PASSCRED, SO_RCVTIMEO, type ControlMessage, type SocketHandle,
  SystemError, bind, getCloseOnExec, getpeername, getsockname, if_nametoindex, read, recvFds, recvmsg,
  sendFds, sendmsg, sendto, setsockopt, socket, socketpair, write,
} from '../src/index';
import { native } from '../src/binding';
import { fdCount, tcpPair, udpSocket, noLeakedFds } from './helpers';

const isLinux = process.platform === 'linux';
const root = path.join(__dirname, '..');
const INT = native.layout.sizeof_int;

/** Every descriptor this file opens is closed by the end of it. */
noLeakedFds();

const opened: SocketHandle[] = [];
function track<T extends SocketHandle>(h: T): T {
  opened.push(h);
  return h;
}
function trackAll<T extends SocketHandle>(hs: T[]): T[] {
  for (const h of hs) track(h);
  return hs;
}
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
});

function pair(type = SOCK_STREAM): [SocketHandle, SocketHandle] {
  return trackAll(socketpair(AF_UNIX, type)) as [SocketHandle, SocketHandle];
}

/** A receive timeout so a test can never hang on a blocking read (struct timeval, 64-bit Linux). */
function recvTimeout(fd: SocketHandle, seconds: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(seconds), 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);
}

/** The kernel object behind a descriptor of this process: 'socket:[1234]'. */
function inode(fd: SocketHandle): string {
  return readlinkSync(`/proc/self/fd/${fd.fd}`);
}

/** The received descriptors in a message's control data, tracked for closing. */
function rights(control: ControlMessage[]): SocketHandle[] {
  const out: SocketHandle[] = [];
  for (const m of control) if ('fds' in m) out.push(...trackAll(m.fds));
  return out;
}

function text(b: Uint8Array, n = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset, n).toString('utf8');
}

describe('sendmsg/recvmsg: data', () => {
  it('gathers several buffers into one message and scatters it across several', () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    expect(sendmsg(a, { iov: ['hel', Buffer.from('lo '), new Uint8Array(Buffer.from('world'))] })).toBe(11);
    const iov = [Buffer.alloc(4), Buffer.alloc(3), Buffer.alloc(10)];
    const r = recvmsg(b, { iov });
    expect(r.n).toBe(11);
    expect(iov.map((x) => x.toString('latin1'))).toEqual(['hell', 'o w', 'orld\0\0\0\0\0\0']);
    expect(r.control).toEqual([]);
    expect(r.address).toBeNull(); // an unnamed AF_UNIX peer
    expect(r.flags).toBe(0);
    expect(r.truncated).toBe(false);
    expect(r.controlTruncated).toBe(false);
  });

  it('takes a single buffer or string as iov', () => {
    const [a, b] = pair();
    expect(sendmsg(a, { iov: 'one' })).toBe(3);
    const buf = Buffer.alloc(8);
    expect(recvmsg(b, { iov: buf }).n).toBe(3);
    expect(text(buf, 3)).toBe('one');
  });

  it('reports MSG_TRUNC when a datagram is longer than the buffers', () => {
    const [a, b] = pair(SOCK_DGRAM);
    sendmsg(a, { iov: '0123456789' });
    const r = recvmsg(b, { iov: [Buffer.alloc(2), Buffer.alloc(2)] });
    expect(r.n).toBe(4);
    expect(r.truncated).toBe(true);
    expect(r.flags & MSG_TRUNC).toBe(MSG_TRUNC);
    // With MSG_TRUNC as an input flag, Linux returns the datagram's real length (recv(2)).
    sendmsg(a, { iov: '0123456789' });
    if (isLinux) expect(recvmsg(b, { iov: Buffer.alloc(4), flags: MSG_TRUNC }).n).toBe(10);
  });

  it('sends to msg_name and reports the sender of a UDP datagram', () => {
    const { fd: rx, port } = udpSocket();
    const { fd: tx, port: txPort } = udpSocket();
    track(rx); track(tx);
    recvTimeout(rx, 5);
    expect(sendmsg(tx, { iov: ['da', 'ta'], name: { family: AF_INET, address: '127.0.0.1', port } })).toBe(4);
    const buf = Buffer.alloc(16);
    const r = recvmsg(rx, { iov: buf });
    expect(r.n).toBe(4);
    expect(r.address).toEqual({ family: AF_INET, address: '127.0.0.1', port: txPort });
  });

  it('returns n = 0 at end of file, with no control data', () => {
    const [a, b] = pair();
    a.close();
    const r = recvmsg(b, { iov: Buffer.alloc(4) });
    expect(r.n).toBe(0);
    expect(r.control).toEqual([]);
  });
});

describe('SCM_RIGHTS', () => {
  it('passes a socketpair end; the received handle is the same socket, close-on-exec', () => {
    const [a, b] = pair();
    const [p0, p1] = pair();
    const sent = inode(p1);
    expect(sendmsg(a, { iov: 'x', control: [{ level: SOL_SOCKET, type: SCM_RIGHTS as number, fds: [p1] }] })).toBe(1);
    const r = recvmsg(b, { iov: Buffer.alloc(1) });
    expect(r.n).toBe(1);
    const [got] = rights(r.control);
    expect(r.control).toEqual([{ level: SOL_SOCKET, type: SCM_RIGHTS, fds: [got] }]);
    expect(got.fd).not.toBe(p1.fd);
    expect(inode(got)).toBe(sent);
    expect(getCloseOnExec(got)).toBe(true);
    p1.close(); // the received descriptor keeps the socket open
    expect(write(p0, 'ping')).toBe(4);
    const buf = Buffer.alloc(8);
    expect(text(buf, read(got, buf))).toBe('ping');
    expect(write(got, 'pong')).toBe(4);
    expect(text(buf, read(p0, buf))).toBe('pong');
  });

  it('passes a TCP connection given as a descriptor number; it keeps talking to the same client', () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(conn); track(srv);
    recvTimeout(cli, 5);
    const [a, b] = pair();
    sendFds(a, [conn.fd]);
    const { fds, data, controlTruncated } = recvFds(b);
    trackAll(fds);
    expect(fds).toHaveLength(1);
    expect(data).toEqual(Buffer.from('\0'));
    expect(controlTruncated).toBe(false);
    const [got] = fds;
    expect(getCloseOnExec(got)).toBe(true);
    expect(getpeername(got)).toEqual(getsockname(cli));
    conn.close();
    write(cli, 'request');
    const buf = Buffer.alloc(16);
    expect(text(buf, read(got, buf))).toBe('request');
    write(got, 'reply');
    expect(text(buf, read(cli, buf))).toBe('reply');
  });

  it('passes several descriptors in one message, in order, with its data', () => {
    const [a, b] = pair();
    const ends = [...pair(), ...pair()];
    sendFds(a, ends, 'four');
    const { fds, data } = recvFds(b);
    trackAll(fds);
    expect(data.toString()).toBe('four');
    expect(fds.map(inode)).toEqual(ends.map(inode));
    for (const h of fds) expect(getCloseOnExec(h)).toBe(true);
  });

  it('decodes descriptors sent as raw cmsg data bytes too', () => {
    const [a, b] = pair();
    const [p0] = pair();
    const data = Buffer.alloc(INT);
    data.writeInt32LE(p0.fd);
    sendmsg(a, { iov: 'r', control: [{ level: SOL_SOCKET, type: SCM_RIGHTS as number, data }] });
    const [got] = rights(recvmsg(b, { iov: Buffer.alloc(1) }).control);
    expect(inode(got)).toBe(inode(p0));
  });

  it('sets MSG_CTRUNC when the control buffer is too small, and leaks no descriptor', () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    const ends = [...pair(), pair()[0]];
    const before = fdCount();

    // Room for one int's CMSG_SPACE: Linux fills it with as many whole descriptors as fit (on 64-bit the
    // padding makes room for two) and closes the rest itself (scm_detach_fds).
    sendFds(a, ends);
    const small = recvmsg(b, { iov: Buffer.alloc(1), controlLength: CMSG_SPACE(INT) });
    expect(small.controlTruncated).toBe(true);
    expect(small.flags).toBe(MSG_CTRUNC); // and not the MSG_CMSG_CLOEXEC Linux echoes back
    const got = rights(small.control);
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got.length).toBeLessThan(3);
    if (isLinux) expect(got.length).toBe(Math.floor((CMSG_SPACE(INT) - native.layout.cmsghdr) / INT));
    expect(got.map(inode)).toEqual(ends.slice(0, got.length).map(inode));
    expect(fdCount()).toBe(before + got.length);
    for (const h of got) h.close();
    expect(fdCount()).toBe(before);

    // No room at all: every descriptor is dropped, none appears in this process.
    sendFds(a, ends);
    const none = recvmsg(b, { iov: Buffer.alloc(1), controlLength: 0 });
    expect(none.n).toBe(1);
    expect(none.controlTruncated).toBe(true);
    expect(none.control).toEqual([]);
    expect(fdCount()).toBe(before);

    // recvFds with maxFds too small says so as well.
    sendFds(a, ends);
    const r = recvFds(b, { maxFds: 1 });
    trackAll(r.fds);
    expect(r.controlTruncated).toBe(true);
    expect(fdCount()).toBe(before + r.fds.length);
    for (const h of r.fds) h.close();
    expect(fdCount()).toBe(before);
  });

  it('rejects a closed handle with EBADF before the system call', () => {
    const [a] = pair();
    const s = socket(AF_UNIX, SOCK_STREAM);
    s.close();
    expect(() => sendFds(a, [s])).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sendmsg' }));
  });
});

describe.runIf(isLinux)('SCM_CREDENTIALS', () => {
  it('delivers the sender\'s pid/uid/gid to a receiver with SO_PASSCRED', () => {
    const [a, b] = pair();
    setsockopt(b, SOL_SOCKET, SO_PASSCRED!, 1);
    sendmsg(a, { iov: 'c' });
    const r = recvmsg(b, { iov: Buffer.alloc(1) });
    expect(r.control).toEqual([
      { level: SOL_SOCKET, type: SCM_CREDENTIALS, pid: process.pid, uid: process.getuid!(), gid: process.getgid!() },
    ]);
  });

  it('sends credentials stated explicitly (the kernel checks them)', () => {
    const [a, b] = pair(SOCK_DGRAM);
    setsockopt(b, SOL_SOCKET, SO_PASSCRED!, 1);
    const me = { level: SOL_SOCKET, type: SCM_CREDENTIALS!, pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
    sendmsg(a, { iov: 'c', control: [me] });
    expect(recvmsg(b, { iov: Buffer.alloc(1) }).control).toEqual([me]);
  });

  it('reports nothing without SO_PASSCRED', () => {
    const [a, b] = pair();
    sendmsg(a, { iov: 'c' });
    expect(recvmsg(b, { iov: Buffer.alloc(1) }).control).toEqual([]);
  });
});

describe.runIf(isLinux)('IP_PKTINFO', () => {
  it('says which interface and address a UDP datagram arrived on', () => {
    const { fd: rx, port } = udpSocket();
    const { fd: tx } = udpSocket();
    track(rx); track(tx);
    recvTimeout(rx, 5);
    setsockopt(rx, IPPROTO_IP, IP_PKTINFO!, 1);
    sendto(tx, 'hi', { family: AF_INET, address: '127.0.0.1', port });
    const r = recvmsg(rx, { iov: Buffer.alloc(8) });
    expect(r.n).toBe(2);
    expect(r.control).toEqual([
      { level: IPPROTO_IP, type: IP_PKTINFO, ifindex: if_nametoindex('lo'), spec_dst: '127.0.0.1', addr: '127.0.0.1' },
    ]);
  });

  it('chooses the source address of a datagram sent with IP_PKTINFO', () => {
    const { fd: rx, port } = udpSocket();
    const tx = track(socket(AF_INET, SOCK_DGRAM));
    track(rx);
    recvTimeout(rx, 5);
    bind(tx, { family: AF_INET, address: '0.0.0.0', port: 0 });
    sendmsg(tx, {
      iov: 'from .2',
      name: { family: AF_INET, address: '127.0.0.1', port },
      control: [{ level: IPPROTO_IP, type: IP_PKTINFO!, spec_dst: '127.0.0.2' }],
    });
    const r = recvmsg(rx, { iov: Buffer.alloc(8) });
    expect(r.address).toEqual({ family: AF_INET, address: '127.0.0.2', port: getsockname(tx).port });
  });
});

describe('argument and kernel errors', () => {
  it('checks iov, control and controlLength before the system call', () => {
    const [a, b] = pair();
    expect(() => sendmsg(a, { iov: [42 as never] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sendmsg(a, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sendmsg(a, { iov: 'x', control: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sendmsg(a, { iov: 'x', control: [{ level: SOL_SOCKET, type: 12345 } as never] }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => sendmsg(a, { iov: 'x', control: [{ level: SOL_SOCKET, type: SCM_RIGHTS as number, fds: 3 as never }] }))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sendFds(a, [], '')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => recvmsg(b, { iov: ['no' as never] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => recvmsg(b, { iov: Buffer.alloc(1), controlLength: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => recvFds(b, { maxFds: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('turns a control message the kernel refuses into a SystemError', () => {
    const [a] = pair();
    let err: unknown;
    try {
      sendmsg(a, { iov: 'x', control: [{ level: SOL_SOCKET, type: 12345, data: Buffer.alloc(4) }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemError);
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'sendmsg' });
  });

  it('computes CMSG_LEN and CMSG_SPACE as the C macros do', () => {
    expect(CMSG_LEN(0)).toBe(native.layout.cmsg_data);
    expect(CMSG_LEN(INT)).toBe(native.layout.cmsg_data + INT);
    expect(CMSG_SPACE(INT) % native.layout.cmsg_align).toBe(0);
    expect(CMSG_SPACE(INT)).toBeGreaterThanOrEqual(CMSG_LEN(INT));
    if (isLinux && process.arch === 'x64') expect([CMSG_LEN(4), CMSG_SPACE(4)]).toEqual([20, 24]);
  });
});

describe('handing a connection to another process', () => {
  beforeAll(() => {
    // The child requires the package by name; `npm test` builds dist/ first (pretest).
    if (!existsSync(path.join(root, 'dist', 'message.js'))) throw new Error('dist/ missing: run `npm run build:ts`');
  });

  it('a worker process serves a TCP client whose connection was accepted here', async () => {
    const { cli, conn, srv } = tcpPair();
    track(cli); track(srv); track(conn);
    recvTimeout(cli, 10);
    const [mine, theirs] = pair();

    // The worker: its AF_UNIX end is fd 3; it receives the connection, reads a request, answers, exits.
    const worker = `
      const bs = require('berkeley-sockets');
      const channel = bs.fromFd(3);
      const { fds, data } = bs.recvFds(channel);
      channel.close();
      const [conn] = fds;
      const report = { fds: fds.length, data: data.toString(), cloexec: bs.getCloseOnExec(conn) };
      const buf = Buffer.alloc(64);
      const n = bs.read(conn, buf);
      bs.writeAll(conn, 'worker ' + process.pid + ' got ' + buf.toString('utf8', 0, n));
      conn.close();
      process.stdout.write(JSON.stringify(report));
    `;
    const child = spawn(process.execPath, ['-e', worker], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit', theirs.fd], timeout: 15_000, killSignal: 'SIGKILL',
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    theirs.close(); // the child has its own copy (fd 3)

    expect(sendFds(mine, conn, 'conn')).toBe(4);
    conn.close(); // from here on, only the message in flight (then the worker) holds the connection

    expect(write(cli, 'GET /')).toBe(5);
    const buf = Buffer.alloc(128);
    let reply = '';
    for (let n = read(cli, buf); n > 0; n = read(cli, buf)) reply += buf.toString('utf8', 0, n);
    // The loop ended on end of file: the worker closed the last descriptor of the connection.
    expect(reply).toMatch(/^worker (\d+) got GET \/$/);
    expect(Number(/^worker (\d+)/.exec(reply)![1])).not.toBe(process.pid);

    expect(await exited).toBe(0);
    expect(JSON.parse(out)).toEqual({ fds: 1, data: 'conn', cloexec: true });
  });
});

describe('CMSG_SPACE and CMSG_LEN', () => {
  it('take the largest data length whose CMSG_SPACE recvmsg still accepts as controlLength, and refuse more', () => {
    const layout = native.layout;
    let max = 0x7fffffff - CMSG_SPACE(0);
    max -= max % layout.cmsg_align;
    expect(CMSG_SPACE(max)).toBeLessThanOrEqual(0x7fffffff);
    expect(CMSG_LEN(max)).toBeLessThanOrEqual(0x7fffffff);
    expect(() => CMSG_SPACE(max + layout.cmsg_align)).toThrow(RangeError);
    expect(() => CMSG_LEN(0x7fffffff)).toThrow(RangeError);
  });

  it('refuses a sparse iov with ERR_INVALID_ARG_TYPE naming the hole, in recvmsg as in sendmsg', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    try {
      // eslint-disable-next-line no-sparse-arrays
      const sparse = [Buffer.alloc(1), , Buffer.alloc(1)] as Buffer[];
      for (const f of [() => recvmsg(a, { iov: sparse }), () => sendmsg(b, { iov: sparse })]) {
        expect(f).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"iov\[1\]"/) }));
      }
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('RFC 3542 ancillary data', () => {
  it.runIf(IPV6_RECVHOPLIMIT !== undefined)('delivers a datagram\'s hop limit and traffic class, as IPV6_HOPLIMIT and IPV6_TCLASS messages', () => {
    const r = socket(AF_INET6, SOCK_DGRAM, 0);
    const s = socket(AF_INET6, SOCK_DGRAM, 0);
    try {
      bind(r, { family: AF_INET6, address: '::1', port: 0 });
      setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT!, 1);
      setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS!, 1);
      setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7);
      setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS!, 0x20);
      sendto(s, 'hop', getsockname(r));
      const m = recvmsg(r, { iov: [Buffer.alloc(8)] });
      const int = (type: number) => {
        const c = m.control.find((x) => x.level === IPPROTO_IPV6 && x.type === type) as { data: Buffer } | undefined;
        return c === undefined ? undefined : new Int32Array(Uint8Array.from(c.data).buffer)[0]; // a C int, host order
      };
      expect(int(IPV6_HOPLIMIT!)).toBe(7);
      expect(int(IPV6_TCLASS!)).toBe(0x20);
    } finally {
      r.close();
      s.close();
    }
  });
});
