// The socket address structs (sockaddr_in, sockaddr_in6, sockaddr_un), checked against the kernel:
// what a struct binds to, and the exact bytes getsockname(2) hands back. Loopback and AF_UNIX only.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../src/binding';
import {
  AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, INADDR_LOOPBACK, SOCK_DGRAM, SOCK_STREAM, type SocketHandle, SystemError,
  accept, bind, close, connect, decodeSockaddr, encodeSockaddr, getpeername, getsockname, htonl, htons, if_nametoindex,
  in6_addr, in_addr, inet_pton, listen, ntohs, recvfrom, sendto, sockaddr_in, sockaddr_in6, sockaddr_un, socket, socketpair,
  toStruct,
} from '../src/index';
import { addrOut } from '../src/addrout';
import { fdCount, thrown, noLeakedFds, trackHandles } from './helpers';

const LITTLE = endianness() === 'LE';
const onLinux = process.platform === 'linux';
const L = native.layout;

// Every handle a test opens is closed after it; nothing this file opens outlives it.
const track = trackHandles();
noLeakedFds();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-sockaddr-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The sockaddr bytes getsockname(2) wrote, straight from the addon (no decoding in src/). */
function rawSockname(fd: SocketHandle): Buffer {
  expect(native.getsockname(fd.fd, addrOut)).toBe(0);
  const header = native.abi.addrHeader;
  const len = new DataView(addrOut.buffer, addrOut.byteOffset, 4).getUint32(0, LITTLE);
  return Buffer.from(addrOut.subarray(header, header + len));
}

function rawPeername(fd: SocketHandle): Buffer {
  expect(native.getpeername(fd.fd, addrOut)).toBe(0);
  const header = native.abi.addrHeader;
  const len = new DataView(addrOut.buffer, addrOut.byteOffset, 4).getUint32(0, LITTLE);
  return Buffer.from(addrOut.subarray(header, header + len));
}

/** The 16-bit value with its two bytes exchanged (what a missing htons does on little-endian). */
function swap16(x: number): number {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(x);
  return b.readUInt16BE(0);
}

/** A port the kernel just handed out on 127.0.0.1 (bound and released). */
function freePort(): number {
  const s = socket(AF_INET, SOCK_STREAM, 0);
  try {
    bind(s, { family: AF_INET, address: '127.0.0.1', port: 0 });
    return getsockname(s).port;
  } finally {
    s.close();
  }
}


let seq = 0;
function unique(tag: string): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${seq++}`;
}

describe('sockaddr_in', () => {
  it('binds a zeroed struct filled with htons(port) and htonl(INADDR_LOOPBACK), and getsockname reports that port', () => {
    const port = freePort();
    const fd = track(socket(AF_INET, SOCK_STREAM, 0));
    const serv_addr = new sockaddr_in();
    serv_addr.sin_family = AF_INET;
    serv_addr.sin_port = htons(port);
    serv_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, serv_addr);
    expect(getsockname(fd)).toEqual({ family: AF_INET, address: '127.0.0.1', port });
  });

  it('connects with a struct to a listener and the peer sees the same port', () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, new sockaddr_in({ sin_family: AF_INET, sin_port: 0, sin_addr: new in_addr(htonl(INADDR_LOOPBACK)) }));
    listen(srv, 4);
    const port = getsockname(srv).port;
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, new sockaddr_in({ sin_family: AF_INET, sin_port: htons(port), sin_addr: new in_addr(htonl(INADDR_LOOPBACK)) }));
    const conn = track(accept(srv).fd);
    expect(getpeername(cli)).toEqual({ family: AF_INET, address: '127.0.0.1', port });
    expect(getpeername(conn)).toEqual(getsockname(cli));
  });

  it('binds the byte-swapped port when sin_port is written without htons (on little-endian hosts)', () => {
    // 3400 is 0x0d48: stored without htons its bytes are 48 0d, which the kernel reads as port 0x480d = 18445.
    let done = false;
    for (let wanted = 3400; wanted < 3440 && !done; wanted++) {
      const fd = track(socket(AF_INET, SOCK_STREAM, 0));
      const a = new sockaddr_in();
      a.sin_family = AF_INET;
      a.sin_port = wanted; // the classic mistake: no htons
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      try {
        bind(fd, a);
      } catch (e) {
        if ((e as SystemError).code === 'EADDRINUSE') continue; // someone holds that port: try the next
        throw e;
      }
      const got = getsockname(fd).port;
      if (LITTLE) {
        expect(got).toBe(swap16(wanted));
        expect(got).not.toBe(wanted);
        if (wanted === 3400) expect(got).toBe(18445);
      } else {
        expect(got).toBe(wanted);
      }
      expect(got).toBe(ntohs(wanted));
      done = true;
    }
    expect(done).toBe(true);
  });

  it.skipIf(!LITTLE)('fails with EADDRNOTAVAIL when s_addr is INADDR_LOOPBACK without htonl (127.0.0.1 byte-reversed; bind only)', () => {
    const fd = track(socket(AF_INET, SOCK_STREAM, 0));
    const a = new sockaddr_in({ sin_family: AF_INET, sin_port: 0, sin_addr: new in_addr(INADDR_LOOPBACK) });
    const err = thrown(() => bind(fd, a));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(err.syscall).toBe('bind');
    expect(err.address).toBe('127.0.0.1'.split('.').reverse().join('.'));
  });

  it('binds 127.0.0.2 from s_addr = htonl(0x7f000002): all of 127/8 is loopback', () => {
    const fd = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(fd, new sockaddr_in({ sin_family: AF_INET, sin_port: 0, sin_addr: new in_addr(htonl(0x7f000002)) }));
    expect(getsockname(fd).address).toBe('127.0.0.2');
  });

  it.skipIf(!onLinux)('fails with EAFNOSUPPORT when sin_family is left 0 for 127.0.0.1', () => {
    // Linux accepts AF_UNSPEC only together with INADDR_ANY (a compatibility rule); with an address it refuses.
    const fd = track(socket(AF_INET, SOCK_STREAM, 0));
    const a = new sockaddr_in({ sin_port: 0, sin_addr: new in_addr(htonl(INADDR_LOOPBACK)) });
    expect(a.sin_family).toBe(AF_UNSPEC);
    const err = thrown(() => bind(fd, a));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EAFNOSUPPORT');
  });

  it('starts zeroed like memset(&addr, 0, sizeof addr)', () => {
    const a = new sockaddr_in();
    expect(a.sin_family).toBe(0);
    expect(a.sin_port).toBe(0);
    expect(a.sin_addr.s_addr).toBe(0);
    expect([...a.sin_zero]).toEqual(Array(8).fill(0));
    const b = a.toBytes();
    expect(b.length).toBe(L.sockaddr_in);
    expect([...b]).toEqual(Array(L.sockaddr_in).fill(0));
  });

  it.skipIf(!(onLinux && LITTLE))('encodes 127.0.0.1:3400 as the 16 bytes of a Linux struct sockaddr_in', () => {
    // struct sockaddr_in { sa_family_t sin_family (2, host order); in_port_t sin_port (2, network);
    //                      struct in_addr sin_addr (4, network); unsigned char sin_zero[8]; }
    const want = [2, 0, 0x0d, 0x48, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    expect([...encodeSockaddr({ family: AF_INET, address: '127.0.0.1', port: 3400 })]).toEqual(want);
    const s = new sockaddr_in({ sin_family: AF_INET, sin_port: htons(3400), sin_addr: new in_addr(htonl(INADDR_LOOPBACK)) });
    expect([...s.toBytes()]).toEqual(want);
  });

  it('encodes to exactly the bytes the kernel returns from getsockname', () => {
    const fd = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(fd, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const raw = rawSockname(fd);
    expect(raw.length).toBe(L.sockaddr_in);
    const addr = getsockname(fd);
    expect(encodeSockaddr(addr).equals(raw)).toBe(true);
    expect(encodeSockaddr({ family: AF_INET, address: '127.0.0.1', port: addr.port }).equals(raw)).toBe(true);
    expect(decodeSockaddr(raw)).toEqual(addr);
  });

  it('reads the kernel bytes with fromBytes (network-order fields) and writes them back with toBytes', () => {
    const fd = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(fd, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const port = getsockname(fd).port;
    const raw = rawSockname(fd);
    const s = sockaddr_in.fromBytes(raw);
    expect(s).toBeInstanceOf(sockaddr_in);
    expect(s.sin_family).toBe(AF_INET);
    expect(s.sin_port).toBe(htons(port));
    expect(ntohs(s.sin_port)).toBe(port);
    expect(s.sin_addr.s_addr).toBe(htonl(INADDR_LOOPBACK));
    expect(s.toBytes().equals(raw)).toBe(true);
  });

  it('reads a sockaddr_in at a non-zero byteOffset', () => {
    const bytes = encodeSockaddr({ family: AF_INET, address: '10.1.2.3', port: 4567 });
    const padded = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), bytes]).subarray(3);
    const s = sockaddr_in.fromBytes(padded);
    expect(ntohs(s.sin_port)).toBe(4567);
    expect(s.sin_addr.s_addr).toBe(htonl(0x0a010203));
    expect(decodeSockaddr(padded)).toEqual({ family: AF_INET, address: '10.1.2.3', port: 4567 });
  });

  it('fails with ERR_INVALID_ARG_VALUE when fromBytes gets IPv6 or truncated bytes', () => {
    expect(thrown(() => sockaddr_in.fromBytes(encodeSockaddr({ family: AF_INET6, address: '::1', port: 1 }))).code).toBe(
      'ERR_INVALID_ARG_VALUE',
    );
    const short = encodeSockaddr({ family: AF_INET, address: '127.0.0.1', port: 1 }).subarray(0, 8);
    expect(thrown(() => sockaddr_in.fromBytes(short)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => sockaddr_in.fromBytes('x' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('shows an address object as its struct with toStruct', () => {
    const s = toStruct({ family: AF_INET, address: '127.0.0.1', port: 3400 });
    expect(s).toBeInstanceOf(sockaddr_in);
    const sin = s as sockaddr_in;
    expect(sin.sin_family).toBe(AF_INET);
    expect(sin.sin_port).toBe(htons(3400));
    expect(sin.sin_addr.s_addr).toBe(htonl(INADDR_LOOPBACK));
  });

  it('hands out a copy from encodeSockaddr: scribbling on it does not change the next encoding', () => {
    const a = { family: AF_INET, address: '127.0.0.1', port: 5555 };
    const first = encodeSockaddr(a);
    const copy = Buffer.from(first);
    first.fill(0xff);
    expect(encodeSockaddr(a).equals(copy)).toBe(true);
    expect(decodeSockaddr(encodeSockaddr(a))).toEqual(a);
  });

  it('tells senders apart datagram by datagram: alternating peers each get their own address back', () => {
    // recvfrom keeps the text of the last address it formatted; it must never hand it to another peer.
    const rx = track(socket(AF_INET, SOCK_DGRAM, 0));
    bind(rx, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const to = getsockname(rx);
    const peers = ['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.3', '127.0.0.3', '127.0.0.2'].map((address) => {
      const s = track(socket(AF_INET, SOCK_DGRAM, 0));
      bind(s, { family: AF_INET, address, port: 0 });
      return { s, addr: getsockname(s) };
    });
    const buf = Buffer.alloc(8);
    for (const { s, addr } of peers) {
      sendto(s, 'x', to);
      expect(recvfrom(rx, buf).address).toEqual(addr);
    }
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET, address: '10.0.0.1', port: 1 })).address).toBe('10.0.0.1');
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET, address: '10.0.0.2', port: 1 })).address).toBe('10.0.0.2');
    for (const address of ['::1', 'fe80::1', '::1', '2001:db8::2', '2001:db8::3']) {
      expect(decodeSockaddr(encodeSockaddr({ family: AF_INET6, address, port: 7 })).address).toBe(address);
    }
  });

  it('encodes a missing address as INADDR_ANY', () => {
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET, port: 80 }))).toEqual({ family: AF_INET, address: '0.0.0.0', port: 80 });
  });
});

describe('sockaddr_in6', () => {
  it('binds a struct holding ::1 and htons(port), and getsockname reports both', () => {
    const port = freePort();
    const fd = track(socket(AF_INET6, SOCK_STREAM, 0));
    const a = new sockaddr_in6();
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    expect(inet_pton(AF_INET6, '::1', a.sin6_addr)).toBe(1);
    bind(fd, a);
    expect(getsockname(fd)).toEqual({ family: AF_INET6, address: '::1', port, flowinfo: 0, scope_id: 0 });
  });

  it('encodes to exactly the bytes the kernel returns from getsockname, and round-trips them', () => {
    const fd = track(socket(AF_INET6, SOCK_DGRAM, 0));
    bind(fd, { family: AF_INET6, address: '::1', port: 0 });
    const raw = rawSockname(fd);
    expect(raw.length).toBe(L.sockaddr_in6);
    const addr = getsockname(fd);
    expect(encodeSockaddr(addr).equals(raw)).toBe(true);
    expect(decodeSockaddr(raw)).toEqual(addr);
    const s = sockaddr_in6.fromBytes(raw);
    expect(ntohs(s.sin6_port)).toBe(addr.port);
    expect([...s.sin6_addr.s6_addr]).toEqual([...Array(15).fill(0), 1]);
    expect(s.toBytes().equals(raw)).toBe(true);
  });

  it.skipIf(!(onLinux && LITTLE))('encodes port, flowinfo (network order) and scope_id (host order) at the Linux offsets', () => {
    // struct sockaddr_in6 { family(2) port(2, net) flowinfo(4, net) addr(16) scope_id(4, host) } = 28 bytes
    const b = encodeSockaddr({ family: AF_INET6, address: '::1', port: 80, flowinfo: 0x12345, scope_id: 7 });
    expect(b.toString('hex')).toBe(`0a00` + `0050` + `00012345` + `${'00'.repeat(15)}01` + `07000000`);
  });

  it('round-trips flowinfo and scope_id through encodeSockaddr and decodeSockaddr', () => {
    const a = { family: AF_INET6, address: '2001:db8::7', port: 65535, flowinfo: 0xfffff, scope_id: 0xfffffffe };
    expect(decodeSockaddr(encodeSockaddr(a))).toEqual(a);
  });

  it('gives the same bytes for the object form and the struct with sin6_flowinfo = htonl(flow)', () => {
    const lo = if_nametoindex('lo');
    const obj = encodeSockaddr({ family: AF_INET6, address: '::1', port: 3400, flowinfo: 0x12345, scope_id: lo });
    const s = new sockaddr_in6({ sin6_family: AF_INET6, sin6_port: htons(3400), sin6_flowinfo: htonl(0x12345), sin6_scope_id: lo });
    inet_pton(AF_INET6, '::1', s.sin6_addr);
    expect(s.toBytes().equals(obj)).toBe(true);
    const back = toStruct(obj) as sockaddr_in6;
    expect(back).toBeInstanceOf(sockaddr_in6);
    expect(back.sin6_flowinfo).toBe(htonl(0x12345));
    expect(back.sin6_scope_id).toBe(lo);
  });

  it("takes the scope_id from a '%lo' or '%<index>' suffix", () => {
    const lo = if_nametoindex('lo');
    expect(lo).toBeGreaterThan(0);
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET6, address: '::1%lo', port: 1 }))).toMatchObject({ address: '::1', scope_id: lo });
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET6, address: `fe80::1%${lo}`, port: 1 }))).toMatchObject({
      address: 'fe80::1',
      scope_id: lo,
    });
    // an explicit scope_id wins over the suffix
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET6, address: '::1%lo', port: 1, scope_id: 42 }))).toMatchObject({ scope_id: 42 });
  });

  it("fails with ERR_INVALID_ARG_VALUE for a '%' suffix naming no interface", () => {
    const err = thrown(() => encodeSockaddr({ family: AF_INET6, address: '::1%no-such-if0', port: 1 }));
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it("fails with ERR_INVALID_ARG_VALUE for a zone with a NUL ('%lo\\0junk') or a numeric zone above 32 bits", () => {
    // C's if_nametoindex would stop at the NUL and find lo; a too-large number must not wrap to a real index.
    for (const address of ['::1%lo\0junk', 'fe80::1%4294967297', 'fe80::1%0']) {
      const err = thrown(() => encodeSockaddr({ family: AF_INET6, address, port: 1 }));
      expect(err.code, JSON.stringify(address)).toBe('ERR_INVALID_ARG_VALUE');
    }
    expect(decodeSockaddr(encodeSockaddr({ family: AF_INET6, address: 'fe80::1%4294967295', port: 1 }))).toMatchObject({
      scope_id: 0xffffffff,
    });
  });

  it.skipIf(!onLinux)('binds ::1 with flowinfo and scope_id set, but getsockname reports both as 0 (Linux keeps scope only for link-local)', () => {
    const fd = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(fd, { family: AF_INET6, address: '::1%lo', port: 0, flowinfo: 0x12345 });
    const a = getsockname(fd);
    expect(a.address).toBe('::1');
    expect(a.flowinfo).toBe(0);
    expect(a.scope_id).toBe(0);
  });

  it('fails with EADDRNOTAVAIL binding a link-local address that lo does not have', () => {
    const fd = track(socket(AF_INET6, SOCK_STREAM, 0));
    const err = thrown(() => bind(fd, { family: AF_INET6, address: 'fe80::1%lo', port: 0 }));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EADDRNOTAVAIL');
  });

  it('binds the v4-mapped ::ffff:127.0.0.1 on a dual-stack socket and accepts an IPv4 client there', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET6, address: '::ffff:127.0.0.1', port: 0 });
    listen(srv, 4);
    const me = getsockname(srv);
    expect(me.address).toBe('::ffff:127.0.0.1');
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    connect(cli, { family: AF_INET, address: '127.0.0.1', port: me.port });
    const { fd: conn, address } = accept(srv);
    track(conn);
    expect(address).toMatchObject({ family: AF_INET6, address: '::ffff:127.0.0.1', port: getsockname(cli).port });
  });
});

describe('sockaddr_un', () => {
  it('binds a filesystem path, creates a socket file, and encodes to the bytes getsockname returns', () => {
    const path = join(dir, unique('fs'));
    const fd = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(fd, { family: AF_UNIX, path });
    expect(statSync(path).isSocket()).toBe(true);
    expect(getsockname(fd)).toEqual({ family: AF_UNIX, path });
    const raw = rawSockname(fd);
    // sun_family, the path, and its terminating NUL
    expect(raw.length).toBe(L.sun_path + Buffer.byteLength(path) + 1);
    expect(raw[raw.length - 1]).toBe(0);
    expect(encodeSockaddr({ family: AF_UNIX, path }).equals(raw)).toBe(true);
    expect(new sockaddr_un({ sun_family: AF_UNIX, sun_path: path }).toBytes().equals(raw)).toBe(true);
    expect(decodeSockaddr(raw)).toEqual({ family: AF_UNIX, path });
    const st = toStruct(raw) as sockaddr_un;
    expect(st).toBeInstanceOf(sockaddr_un);
    expect(st.sun_path).toBe(path);
  });

  it('connects with a sockaddr_un struct; the client is unnamed and sees the server path as its peer', () => {
    const path = join(dir, unique('conn'));
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, new sockaddr_un({ sun_family: AF_UNIX, sun_path: path }));
    listen(srv, 4);
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, new sockaddr_un({ sun_family: AF_UNIX, sun_path: Buffer.from(path) }));
    const { fd: conn, address } = accept(srv);
    track(conn);
    expect(address).toEqual({ family: AF_UNIX, path: '' });
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path });
    expect(rawPeername(cli).equals(encodeSockaddr({ family: AF_UNIX, path }))).toBe(true);
    expect(getsockname(conn)).toEqual({ family: AF_UNIX, path });
  });

  it('keeps a UTF-8 path intact and counts its length in bytes', () => {
    const path = join(dir, `${unique('é-ü')}-☃`);
    const fd = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(fd, { family: AF_UNIX, path });
    expect(getsockname(fd).path).toBe(path);
    expect(rawSockname(fd).length).toBe(L.sun_path + Buffer.byteLength(path) + 1);
  });

  it.skipIf(!onLinux)('binds a path of exactly sizeof(sun_path) = 108 bytes (no room for the NUL)', () => {
    expect(L.sun_path_size).toBe(108);
    const base = join(dir, 'm-');
    const path = base + 'x'.repeat(108 - base.length);
    expect(Buffer.byteLength(path)).toBe(108);
    const fd = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(fd, { family: AF_UNIX, path });
    expect(statSync(path).isSocket()).toBe(true);
    expect(getsockname(fd)).toEqual({ family: AF_UNIX, path });
    // Linux reports the length including a NUL it adds past sun_path: one more than sizeof(sockaddr_un).
    expect(rawSockname(fd).length).toBe(L.sun_path + 108 + 1);
  });

  it('fails with ERR_OUT_OF_RANGE for a path longer than sun_path, leaking no descriptor and creating no file', () => {
    const sub = mkdtempSync(join(dir, 'long-'));
    const base = join(sub, 'l-');
    const path = base + 'x'.repeat(L.sun_path_size + 1 - base.length);
    expect(Buffer.byteLength(path)).toBe(L.sun_path_size + 1);
    const before = fdCount();
    const fd = socket(AF_UNIX, SOCK_STREAM, 0);
    try {
      for (const f of [
        () => bind(fd, { family: AF_UNIX, path }),
        () => connect(fd, { family: AF_UNIX, path }),
        () => bind(fd, new sockaddr_un({ sun_family: AF_UNIX, sun_path: path })),
        () => encodeSockaddr({ family: AF_UNIX, path: Buffer.from(path) }),
      ]) {
        const err = thrown(f);
        expect(err).toBeInstanceOf(RangeError);
        expect(err.code).toBe('ERR_OUT_OF_RANGE');
      }
      // 60 two-byte characters: 120 bytes, too long although only 60 characters
      expect(thrown(() => bind(fd, { family: AF_UNIX, path: 'é'.repeat(60) })).code).toBe('ERR_OUT_OF_RANGE');
    } finally {
      close(fd);
    }
    expect(fdCount()).toBe(before);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('fails with EADDRINUSE (and names the path) when the path already exists', () => {
    const path = join(dir, unique('taken'));
    writeFileSync(path, '');
    const fd = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const err = thrown(() => bind(fd, { family: AF_UNIX, path }));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.syscall).toBe('bind');
    expect(err.path).toBe(path);
  });

  it.skipIf(!onLinux)("binds a Linux abstract name ('\\0name'): no file, no trailing NUL, every byte reported back", () => {
    const name = `\0${unique('bs-abstract')}`;
    const srv = track(socket(AF_UNIX, SOCK_STREAM, 0));
    bind(srv, { family: AF_UNIX, path: name });
    expect(getsockname(srv)).toEqual({ family: AF_UNIX, path: name });
    const raw = rawSockname(srv);
    expect(raw.length).toBe(L.sun_path + Buffer.byteLength(name));
    expect(raw[L.sun_path]).toBe(0);
    expect(encodeSockaddr({ family: AF_UNIX, path: name }).equals(raw)).toBe(true);
    expect(readdirSync(dir).some((f) => f.includes('bs-abstract'))).toBe(false);

    listen(srv, 4);
    const cli = track(socket(AF_UNIX, SOCK_STREAM, 0));
    connect(cli, { family: AF_UNIX, path: name });
    track(accept(srv).fd);
    expect(getpeername(cli)).toEqual({ family: AF_UNIX, path: name });
  });

  it.skipIf(!onLinux)('fails with EADDRINUSE for an abstract name in use, and frees it on close', () => {
    const name = `\0${unique('bs-abstract-twice')}`;
    const a = socket(AF_UNIX, SOCK_DGRAM, 0);
    try {
      bind(a, { family: AF_UNIX, path: name });
      const b = track(socket(AF_UNIX, SOCK_DGRAM, 0));
      expect(thrown(() => bind(b, { family: AF_UNIX, path: name })).code).toBe('EADDRINUSE');
    } finally {
      a.close();
    }
    const c = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(c, { family: AF_UNIX, path: name });
    expect(getsockname(c).path).toBe(name);
  });

  it("reports '' for the unnamed sockets of socketpair (the kernel returns only sun_family)", () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    track(a);
    track(b);
    expect(getsockname(a)).toEqual({ family: AF_UNIX, path: '' });
    expect(getpeername(a)).toEqual({ family: AF_UNIX, path: '' });
    const raw = rawSockname(b);
    expect(raw.length).toBe(L.sun_path);
    expect(encodeSockaddr({ family: AF_UNIX, path: '' }).equals(raw)).toBe(true);
  });

  it.skipIf(!onLinux)("autobinds to a 5-hex-digit abstract name when bound to ''", () => {
    const fd = track(socket(AF_UNIX, SOCK_DGRAM, 0));
    bind(fd, { family: AF_UNIX, path: '' });
    const { path } = getsockname(fd) as { path: string };
    expect(path).toMatch(/^\0[0-9a-f]{5}$/);
    expect(rawSockname(fd).length).toBe(L.sun_path + 6);
  });

  it('fails with ERR_INVALID_ARG_VALUE for a NUL inside a filesystem path, and ERR_INVALID_ARG_TYPE for a number', () => {
    expect(thrown(() => encodeSockaddr({ family: AF_UNIX, path: '/tmp/a\0b' })).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => encodeSockaddr({ family: AF_UNIX, path: 5 as never })).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('bad address objects', () => {
  const cases: Array<[string, unknown, 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE']> = [
    ['a missing family', { address: '127.0.0.1', port: 80 }, 'ERR_INVALID_ARG_TYPE'],
    ['a family given as a string', { family: 'AF_INET', address: '127.0.0.1', port: 80 }, 'ERR_INVALID_ARG_TYPE'],
    ['an unsupported family number', { family: 12345, address: '127.0.0.1', port: 80 }, 'ERR_INVALID_ARG_VALUE'],
    ['the host name localhost', { family: AF_INET, address: 'localhost', port: 80 }, 'ERR_INVALID_ARG_VALUE'],
    ['an IPv6 address with AF_INET', { family: AF_INET, address: '::1', port: 80 }, 'ERR_INVALID_ARG_VALUE'],
    ['an IPv4 address with AF_INET6', { family: AF_INET6, address: '127.0.0.1', port: 80 }, 'ERR_INVALID_ARG_VALUE'],
    ['an address with a NUL and junk', { family: AF_INET, address: '127.0.0.1\0junk', port: 80 }, 'ERR_INVALID_ARG_VALUE'],
    ['a numeric address', { family: AF_INET, address: 0x7f000001, port: 80 }, 'ERR_INVALID_ARG_TYPE'],
    ['port 70000', { family: AF_INET, address: '127.0.0.1', port: 70000 }, 'ERR_OUT_OF_RANGE'],
    ['port -1', { family: AF_INET6, address: '::1', port: -1 }, 'ERR_OUT_OF_RANGE'],
    ['port 1.5', { family: AF_INET, address: '127.0.0.1', port: 1.5 }, 'ERR_OUT_OF_RANGE'],
    ["port '80'", { family: AF_INET, address: '127.0.0.1', port: '80' }, 'ERR_INVALID_ARG_TYPE'],
    ['a missing port', { family: AF_INET, address: '127.0.0.1' }, 'ERR_INVALID_ARG_TYPE'],
    ['flowinfo above 20 bits', { family: AF_INET6, address: '::1', port: 1, flowinfo: 0x100000 }, 'ERR_OUT_OF_RANGE'],
    ['a negative scope_id', { family: AF_INET6, address: '::1', port: 1, scope_id: -1 }, 'ERR_OUT_OF_RANGE'],
    ['null', null, 'ERR_INVALID_ARG_TYPE'],
    ['a string', '127.0.0.1:80', 'ERR_INVALID_ARG_TYPE'],
    ['a struct with s_addr out of range', new sockaddr_in({ sin_family: AF_INET, sin_addr: new in_addr(-1) }), 'ERR_OUT_OF_RANGE'],
    ['a struct without sin_addr', { sin_family: AF_INET, sin_port: 0 }, 'ERR_INVALID_ARG_TYPE'],
    ['a struct with a short s6_addr', { sin6_family: AF_INET6, sin6_port: 0, sin6_addr: { s6_addr: new Uint8Array(4) } }, 'ERR_INVALID_ARG_TYPE'],
  ];

  it.each(cases)('bind fails for %s, and leaves the socket unbound', (_what, addr, code) => {
    const fd = track(socket(AF_INET, SOCK_DGRAM, 0));
    const err = thrown(() => bind(fd, addr as never));
    expect(err.code).toBe(code);
    expect(err).toBeInstanceOf(code === 'ERR_OUT_OF_RANGE' ? RangeError : TypeError);
    expect(getsockname(fd)).toEqual({ family: AF_INET, address: '0.0.0.0', port: 0 });
  });

  it('points to getaddrinfo when given a host name', () => {
    expect(thrown(() => encodeSockaddr({ family: AF_INET, address: 'localhost', port: 80 })).message).toMatch(/getaddrinfo/);
  });

  it('does not cache a failure: the same object with a valid port then encodes', () => {
    const a = { family: AF_INET, address: '127.0.0.1', port: 70000 };
    expect(thrown(() => encodeSockaddr(a)).code).toBe('ERR_OUT_OF_RANGE');
    a.port = 7000;
    expect(decodeSockaddr(encodeSockaddr(a))).toEqual({ family: AF_INET, address: '127.0.0.1', port: 7000 });
  });

  it('keeps in6_addr zeroed by default (in6addr_any)', () => {
    expect([...new in6_addr().s6_addr]).toEqual(Array(16).fill(0));
  });
});
