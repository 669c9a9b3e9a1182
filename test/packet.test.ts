// Seeing the wire: packet(7) sockets with their link-level addresses (struct sockaddr_ll), a classic BPF
// filter (SO_ATTACH_FILTER), membership (PACKET_ADD_MEMBERSHIP), kernel timestamps (SO_TIMESTAMPNS), and
// the socket ioctls that answer an int (FIONREAD/SIOCINQ, SIOCOUTQ, SIOCATMARK) — against the real
// kernel, on loopback only. AF_PACKET needs CAP_NET_RAW: those tests run as root (CI) and are skipped
// elsewhere with the reason printed; the ioctls need no privilege, except the iptables DROP that shows
// unacknowledged bytes. Each call is also checked against what strace prints for it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_PACKET, AF_UNIX, ARPHRD_ETHER, ARPHRD_LOOPBACK, BPF_ABS, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_JSET,
  BPF_JUMP, BPF_K, BPF_LD, BPF_LDX, BPF_MSH, BPF_RET, BPF_STMT, ETH_P_ALL, ETH_P_IP, FIONREAD, IPPROTO_UDP, MSG_DONTWAIT,
  MSG_OOB, PACKET_ADD_MEMBERSHIP, PACKET_BROADCAST, PACKET_DROP_MEMBERSHIP, PACKET_HOST, PACKET_MR_ALLMULTI,
  PACKET_MR_MULTICAST, PACKET_MR_PROMISC, PACKET_OTHERHOST, PACKET_OUTGOING, POLLIN, POLLPRI, SCM_TIMESTAMPNS, SIOCATMARK, SIOCINQ,
  SIOCOUTQ, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, SOL_PACKET, SOL_SOCKET, SO_ATTACH_FILTER, SO_DETACH_FILTER,
  SO_GET_FILTER, SO_LINGER, SO_LOCK_FILTER, SO_TIMESTAMPNS, type PacketAddress, type PollFd, type SockFilter, type SocketHandle,
  SystemError, bind, decodeSockaddr, encodeSockaddr, getsockname, getsockopt, htons, ioctl, poll, read,
  recv, recvfrom, recvmsg, send, sendto, setsockopt, sockaddr_ll, socket, socketpair, toStruct, trace, write,
} from '../src/index';
import { canRun, hasCommand, isRoot, noLeakedFds, systemError, tcpPair, thrown, trackHandles, udpSocket } from './helpers';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const linux = process.platform === 'linux';
const lo = linux ? Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8')) : 0;

noLeakedFds();
const track = trackHandles();

/** Waits (at most `ms`) for one of `events` on `fd`: the revents, 0 on timeout. */
function wait(fd: SocketHandle, events: number, ms = 2000): number {
  const fds: PollFd[] = [{ fd, events }];
  return poll(fds, ms) > 0 ? fds[0].revents! : 0;
}

/** The trace lines `f` makes, as trace(fn) prints them. */
function traced(f: () => void): string[] {
  const lines: string[] = [];
  trace((l) => lines.push(l));
  try {
    f();
  } finally {
    trace(false);
  }
  return lines.map((l) => l.replace(/\s+= /, ' = '));
}

// ── ioctl(2) ────────────────────────────────────────────────────────────────────────────────────

describe.skipIf(!linux)('ioctl: the socket requests that answer an int', () => {
  it('FIONREAD on a socketpair after 5 bytes are written is 5, and 0 once they are read', () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    expect(ioctl(b, FIONREAD)).toBe(0);
    write(a, 'hello');
    expect(ioctl(b, FIONREAD)).toBe(5);
    expect(read(b, Buffer.alloc(16))).toBe(5);
    expect(ioctl(b, FIONREAD)).toBe(0);
  });

  it('SIOCINQ on TCP is the bytes waiting (FIONREAD\'s number on Linux); on a listening socket, EINVAL', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    expect(SIOCINQ).toBe(FIONREAD);
    send(cli, 'hello');
    expect(wait(conn, POLLIN)).toBe(POLLIN);
    expect(ioctl(conn, SIOCINQ!)).toBe(5);
    send(cli, 'world!');
    expect(wait(conn, POLLIN)).toBe(POLLIN);
    for (let i = 0; i < 100 && ioctl(conn, SIOCINQ!) < 11; i++) wait(conn, 0, 10);
    expect(ioctl(conn, SIOCINQ!)).toBe(11);
    expect(systemError(() => ioctl(srv, SIOCINQ!))).toMatchObject({ code: 'EINVAL', syscall: 'ioctl' });
  });

  it('FIONREAD on UDP is the size of the next datagram, not of all of them (udp(7))', () => {
    const { fd: rx, port } = udpSocket();
    const tx = track(socket(AF_INET, SOCK_DGRAM, 0));
    track(rx);
    sendto(tx, 'abc', { family: AF_INET, address: '127.0.0.1', port });
    sendto(tx, 'defghij', { family: AF_INET, address: '127.0.0.1', port });
    expect(wait(rx, POLLIN)).toBe(POLLIN);
    expect(ioctl(rx, FIONREAD)).toBe(3);
    recv(rx, Buffer.alloc(16));
    expect(ioctl(rx, FIONREAD)).toBe(7);
  });

  it('SIOCATMARK is 0 before the out-of-band mark and 1 at it (a read stops there); ENOTTY on UDP', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    send(cli, 'ab');
    send(cli, 'c', undefined, MSG_OOB);
    expect(wait(conn, POLLPRI) & POLLPRI).toBe(POLLPRI);
    expect(ioctl(conn, SIOCATMARK)).toBe(0);
    const buf = Buffer.alloc(16);
    expect(buf.toString('latin1', 0, recv(conn, buf))).toBe('ab');
    expect(ioctl(conn, SIOCATMARK)).toBe(1);
    expect(buf.toString('latin1', 0, recv(conn, buf, undefined, MSG_OOB))).toBe('c');
    const udp = track(socket(AF_INET, SOCK_DGRAM, 0));
    expect(systemError(() => ioctl(udp, SIOCATMARK))).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl' });
  });

  it('SIOCOUTQ is 0 once the peer has acknowledged everything it read', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    expect(ioctl(cli, SIOCOUTQ!)).toBe(0);
    send(cli, 'hello');
    expect(wait(conn, POLLIN)).toBe(POLLIN);
    expect(read(conn, Buffer.alloc(16))).toBe(5);
    // The ACK is the kernel's to send: on loopback at once, but give it a bounded moment.
    for (let i = 0; i < 200 && ioctl(cli, SIOCOUTQ!) !== 0; i++) wait(cli, 0, 10);
    expect(ioctl(cli, SIOCOUTQ!)).toBe(0);
  });

  it.runIf(canRun('SIOCOUTQ with a peer that does not acknowledge: iptables DROP needs root and iptables', isRoot && hasCommand('iptables')))(
    'SIOCOUTQ counts the bytes sent but not acknowledged, while iptables drops them on the way to the peer',
    () => {
      const { cli, conn, srv, port } = tcpPair();
      [cli, conn, srv].forEach(track);
      setsockopt(cli, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }); // close with RST: nothing left to retransmit
      const rule = ['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
      execFileSync('iptables', ['-I', ...rule]);
      try {
        send(cli, 'hello');
        expect(ioctl(cli, SIOCOUTQ!)).toBe(5);
        expect(wait(conn, POLLIN, 300)).toBe(0); // dropped: the peer has nothing, so it acknowledges nothing
        expect(ioctl(cli, SIOCOUTQ!)).toBe(5);
        expect(ioctl(conn, FIONREAD)).toBe(0);
      } finally {
        execFileSync('iptables', ['-D', ...rule]);
      }
      expect(execFileSync('iptables', ['-S', 'INPUT'], { encoding: 'utf8' })).not.toContain(`--dport ${port} `);
    },
  );

  it('refuses any other request with ERR_OUT_OF_RANGE, before the kernel sees it', () => {
    const [a] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    const lines = traced(() => {
      // SIOCGIFCONF, FIONBIO, TIOCGWINSZ: real requests whose argument is not an int the kernel writes.
      for (const request of [0x8912, 0x5421, 0x5413, -1, 1.5]) {
        const e = thrown(() => ioctl(a, request));
        expect(e).toBeInstanceOf(RangeError);
        expect(e.code).toBe('ERR_OUT_OF_RANGE');
        expect(e.message).toMatch(/FIONREAD, SIOCINQ, SIOCOUTQ, SIOCATMARK/);
      }
      expect(thrown(() => ioctl(a, 'FIONREAD' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    });
    expect(lines).toEqual([]);
  });

  it('a bad descriptor is EBADF, a closed handle without reaching the kernel', () => {
    const e = systemError(() => ioctl(9999, FIONREAD));
    expect(e).toBeInstanceOf(SystemError);
    expect(e).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'ioctl', message: 'ioctl EBADF' });
    const s = socket(AF_INET, SOCK_STREAM, 0);
    s.close();
    expect(traced(() => expect(systemError(() => ioctl(s, FIONREAD)).code).toBe('EBADF'))).toEqual([]);
    expect(thrown(() => ioctl(-1, FIONREAD))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('is traced as strace prints it: SIOCINQ as FIONREAD and SIOCOUTQ as TIOCOUTQ (their numbers)', () => {
    const { cli, conn, srv } = tcpPair();
    [cli, conn, srv].forEach(track);
    send(cli, 'hello');
    wait(conn, POLLIN);
    const udp = track(socket(AF_INET, SOCK_DGRAM, 0));
    const lines = traced(() => {
      ioctl(conn, SIOCINQ!);
      ioctl(cli, SIOCOUTQ!);
      ioctl(conn, SIOCATMARK);
      try { ioctl(udp, SIOCATMARK); } catch { /* ENOTTY */ }
    });
    expect(lines).toEqual([
      `ioctl(${conn.fd}, FIONREAD, [5]) = 0`,
      expect.stringMatching(new RegExp(`^ioctl\\(${cli.fd}, TIOCOUTQ, \\[[05]\\]\\) = 0$`)),
      `ioctl(${conn.fd}, SIOCATMARK, [0]) = 0`,
      `ioctl(${udp.fd}, SIOCATMARK, 0x…) = -1 ENOTTY (Inappropriate ioctl for device)`,
    ]);
  });
});

// ── struct sockaddr_ll ──────────────────────────────────────────────────────────────────────────

describe.skipIf(!linux)('sockaddr_ll: the object form and the C struct', () => {
  const mac = [0x02, 0xfc, 0x00, 0x00, 0x00, 0x01];

  it('encodes protocol in network order and every other field as the host keeps it (20 bytes)', () => {
    const b = encodeSockaddr({ family: AF_PACKET!, protocol: ETH_P_IP!, ifindex: lo, hatype: ARPHRD_ETHER!, pkttype: PACKET_BROADCAST!, addr: mac });
    expect(b.length).toBe(20);
    expect(b.readUInt16LE(0)).toBe(AF_PACKET);
    expect(b.readUInt16BE(2)).toBe(ETH_P_IP); // sll_protocol: network order
    expect(b.readInt32LE(4)).toBe(lo);
    expect(b.readUInt16LE(8)).toBe(ARPHRD_ETHER);
    expect([b[10], b[11]]).toEqual([PACKET_BROADCAST, 6]); // sll_pkttype, sll_halen
    expect([...b.subarray(12)]).toEqual([...mac, 0, 0]);
    expect(decodeSockaddr(b)).toEqual({
      family: AF_PACKET, protocol: ETH_P_IP, ifindex: lo, hatype: ARPHRD_ETHER, pkttype: PACKET_BROADCAST, halen: 6, addr: Buffer.from(mac),
    });
  });

  it('the C struct holds sll_protocol in network order, as sin_port: htons(ETH_P_ALL)', () => {
    const sll = new sockaddr_ll();
    sll.sll_family = AF_PACKET!;
    sll.sll_protocol = htons(ETH_P_ALL!);
    sll.sll_ifindex = lo;
    expect(sll.toBytes()).toEqual(encodeSockaddr({ family: AF_PACKET!, protocol: ETH_P_ALL!, ifindex: lo }));
    const back = toStruct({ family: AF_PACKET!, protocol: ETH_P_ALL!, ifindex: lo, addr: mac });
    expect(back).toBeInstanceOf(sockaddr_ll);
    expect(back).toMatchObject({ sll_family: AF_PACKET, sll_protocol: htons(ETH_P_ALL!), sll_ifindex: lo, sll_halen: 6 });
    expect([...(back as sockaddr_ll).sll_addr]).toEqual([...mac, 0, 0]);
  });

  it('decodes the shorter address getsockname returns (offsetof(sll_addr) + halen = 18 bytes)', () => {
    const b = encodeSockaddr({ family: AF_PACKET!, protocol: ETH_P_ALL!, ifindex: lo, hatype: ARPHRD_LOOPBACK!, addr: [0, 0, 0, 0, 0, 0] }).subarray(0, 18);
    expect(decodeSockaddr(b)).toMatchObject({ protocol: ETH_P_ALL, halen: 6, addr: Buffer.alloc(6) });
    // Cut before sll_addr, it stays bytes (the kernel never returns that).
    expect(decodeSockaddr(b.subarray(0, 10))).toHaveProperty('bytes');
  });

  it('refuses what would not fit: more than 8 address bytes, a protocol over 16 bits, bytes out of range', () => {
    expect(thrown(() => encodeSockaddr({ family: AF_PACKET!, addr: new Uint8Array(9) }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => encodeSockaddr({ family: AF_PACKET!, protocol: 0x10000 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => encodeSockaddr({ family: AF_PACKET!, addr: [256] }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => new sockaddr_ll({ sll_family: AF_PACKET!, sll_protocol: -1 }).toBytes())).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});

// ── Classic BPF ─────────────────────────────────────────────────────────────────────────────────

/**
 * `ip and udp dst port PORT` on an Ethernet-framed link (lo is one: 14 bytes of header, ARPHRD_LOOPBACK),
 * written by hand as tcpdump compiles it: the EtherType at 12, the IPv4 protocol at 14 + 9, the fragment
 * offset at 14 + 6 (a later fragment has no UDP header), the header length from byte 14, and the UDP
 * destination port 2 bytes into the UDP header.
 */
function udpPortFilter(port: number): SockFilter[] {
  return [
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), //                    ldh [12]
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP!, 0, 8), //      jeq #0x800, else drop
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9), //                ldb [23]
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6), //    jeq #17, else drop
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14 + 6), //                ldh [20]
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0), //        jset #0x1fff: a fragment, drop
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14), //                   ldxb 4*([14]&0xf)
    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14 + 2), //                ldh [x + 16]
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1), //           jeq #port, else drop
    BPF_STMT(BPF_RET | BPF_K, 0x40000), //                        ret #262144: the whole packet
    BPF_STMT(BPF_RET | BPF_K, 0), //                              ret #0: drop it
  ];
}

describe.skipIf(!linux)('classic BPF programs', () => {
  it.runIf(canRun('comparing with tcpdump\'s compiler needs tcpdump', hasCommand('tcpdump')))('the hand-written filter is the program tcpdump compiles for `ip and udp dst port N`', () => {
    const out = execFileSync('tcpdump', ['-dd', '-i', 'lo', 'ip and udp dst port 9999'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const theirs = [...out.matchAll(/\{ (0x[0-9a-f]+), (\d+), (\d+), (0x[0-9a-f]+) \}/g)].map((m) => ({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) }));
    expect(udpPortFilter(9999)).toEqual(theirs);
  });

  it('attaches to any socket, reads back as SO_GET_FILTER, detaches (then ENOENT), and locks', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    expect(getsockopt(u, SOL_SOCKET, SO_GET_FILTER!)).toEqual([]);
    const prog = udpPortFilter(4242);
    setsockopt(u, SOL_SOCKET, SO_ATTACH_FILTER!, prog);
    expect(getsockopt(u, SOL_SOCKET, SO_GET_FILTER!)).toEqual(prog);
    // Linux counts this optlen in instructions (sk_get_filter): given bytes, the kernel would write 8
    // times the buffer. The addon converts: 24 bytes are room for 3 of the 11, which the kernel refuses,
    // and 1024 bytes hold the 88 it writes.
    expect(systemError(() => getsockopt(u, SOL_SOCKET, SO_GET_FILTER!, 24))).toMatchObject({ code: 'EINVAL', syscall: 'getsockopt' });
    expect(getsockopt(u, SOL_SOCKET, SO_GET_FILTER!, 1024)).toHaveLength(prog.length * 8);
    setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER!, 0);
    expect(getsockopt(u, SOL_SOCKET, SO_GET_FILTER!)).toEqual([]);
    expect(systemError(() => setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER!, 0))).toMatchObject({ code: 'ENOENT' });
    // SO_LOCK_FILTER: the filter can no longer be changed or removed, nor the lock undone (socket(7)).
    setsockopt(u, SOL_SOCKET, SO_ATTACH_FILTER!, prog);
    setsockopt(u, SOL_SOCKET, SO_LOCK_FILTER!, 1);
    expect(getsockopt(u, SOL_SOCKET, SO_LOCK_FILTER!)).toBe(1);
    expect(systemError(() => setsockopt(u, SOL_SOCKET, SO_ATTACH_FILTER!, [BPF_STMT(BPF_RET | BPF_K, 0)]))).toMatchObject({ code: 'EPERM' });
    expect(systemError(() => setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER!, 0))).toMatchObject({ code: 'EPERM' });
    expect(systemError(() => setsockopt(u, SOL_SOCKET, SO_LOCK_FILTER!, 0))).toMatchObject({ code: 'EPERM' });
  });

  it('checks each instruction in JavaScript, and leaves the program\'s validity to the kernel (EINVAL)', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    const attach = (p: unknown) => setsockopt(u, SOL_SOCKET, SO_ATTACH_FILTER!, p as SockFilter[]);
    expect(thrown(() => attach([{ code: 0x10000, jt: 0, jf: 0, k: 0 }]))).toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('optval[0].code') });
    expect(thrown(() => attach([BPF_STMT(BPF_RET | BPF_K, 0), { code: 6, jt: 256, jf: 0, k: 0 }]))).toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('optval[1].jt') });
    expect(thrown(() => attach([BPF_STMT(BPF_RET | BPF_K, 2 ** 32)]))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => attach([null]))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => attach('ret #0'))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => attach(new Array(65536).fill(BPF_STMT(BPF_RET | BPF_K, 0))))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    // The kernel's own checks (sk_chk_filter): an empty program, a jump past the end, no final ret.
    expect(systemError(() => attach([]))).toMatchObject({ code: 'EINVAL', syscall: 'setsockopt' });
    expect(systemError(() => attach([BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), BPF_STMT(BPF_RET | BPF_K, 0)]))).toMatchObject({ code: 'EINVAL' });
    expect(systemError(() => attach([BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12)]))).toMatchObject({ code: 'EINVAL' });
    // `ret #-1` is C's 0xffffffff: keep everything.
    attach([BPF_STMT(BPF_RET | BPF_K, -1)]);
    expect(getsockopt(u, SOL_SOCKET, SO_GET_FILTER!)).toEqual([{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0xffffffff }]);
  });

  it('traces SO_ATTACH_FILTER as strace does: the struct sock_fprog, its program behind a pointer', () => {
    const u = track(socket(AF_INET, SOCK_DGRAM, 0));
    const lines = traced(() => {
      setsockopt(u, SOL_SOCKET, SO_ATTACH_FILTER!, udpPortFilter(4242));
      getsockopt(u, SOL_SOCKET, SO_GET_FILTER!);
      setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER!, 1);
    });
    expect(lines).toEqual([
      `setsockopt(${u.fd}, SOL_SOCKET, SO_ATTACH_FILTER, {len=11, filter=0x…}, 16) = 0`,
      `getsockopt(${u.fd}, SOL_SOCKET, SO_GET_FILTER, 0x…, [4096 => 11]) = 0`,
      `setsockopt(${u.fd}, SOL_SOCKET, SO_DETACH_FILTER, [1], 4) = 0`,
    ]);
  });
});

// ── AF_PACKET sockets ───────────────────────────────────────────────────────────────────────────

const asRoot = linux && canRun('AF_PACKET sockets need CAP_NET_RAW (root)', isRoot);

/** The UDP datagram in an Ethernet-framed IPv4 packet: destination port and payload. */
function udpIn(frame: Buffer): { dport: number; payload: string } {
  const ihl = (frame[14] & 0xf) * 4;
  const udp = 14 + ihl;
  return { dport: frame.readUInt16BE(udp + 2), payload: frame.toString('latin1', udp + 8, udp + frame.readUInt16BE(udp + 4)) };
}

/**
 * A packet socket that sees only UDP to `port` on lo. Made with protocol 0 (it receives nothing yet),
 * given its filter, then bound to lo with ETH_P_ALL: socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))
 * would start receiving every interface's traffic before the filter is in place.
 */
function capture(port: number): SocketHandle {
  const s = track(socket(AF_PACKET!, SOCK_RAW, 0));
  setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER!, udpPortFilter(port));
  bind(s, { family: AF_PACKET!, protocol: ETH_P_ALL!, ifindex: lo });
  return s;
}

/** The next frame `s` captures within 2 s, with its link-level address; null if none comes. */
function nextFrame(s: SocketHandle, ms = 2000): { frame: Buffer; from: PacketAddress } | null {
  if (!(wait(s, POLLIN, ms) & POLLIN)) return null;
  const buf = Buffer.alloc(2048);
  const { n, address } = recvfrom(s, buf, undefined, MSG_DONTWAIT);
  return { frame: buf.subarray(0, n), from: address as PacketAddress };
}

describe.runIf(asRoot)('AF_PACKET on lo (root)', () => {
  it('a BPF filter keeps only UDP to one port; recvfrom\'s sockaddr_ll says lo, ETH_P_IP, ARPHRD_LOOPBACK', () => {
    const { fd: rx, port } = udpSocket();
    const { fd: other, port: otherPort } = udpSocket();
    track(rx);
    track(other);
    const tx = track(socket(AF_INET, SOCK_DGRAM, 0));
    const s = capture(port);
    const to = (p: number) => ({ family: AF_INET, address: '127.0.0.1', port: p });
    sendto(tx, 'other 1', to(otherPort));
    sendto(tx, 'one', to(port));
    sendto(tx, 'other 2', to(otherPort));
    sendto(tx, 'two', to(port));
    sendto(tx, 'other 3', to(otherPort));
    // Each datagram crosses lo once, and a packet socket sees it twice: leaving (PACKET_OUTGOING) and
    // arriving (PACKET_HOST). So four frames, all for `port`; then nothing more.
    expect(wait(s, POLLIN)).toBe(POLLIN);
    const first = ioctl(s, FIONREAD); // the next frame's length: 14 + 20 + 8 + 3
    expect(first).toBe(14 + 20 + 8 + 3);
    const got: { payload: string; dport: number; pkttype: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const f = nextFrame(s);
      expect(f, `frame ${i + 1} of 4`).not.toBeNull();
      expect(f!.from).toEqual({
        family: AF_PACKET, protocol: ETH_P_IP, ifindex: lo, hatype: ARPHRD_LOOPBACK, pkttype: f!.from.pkttype, halen: 6, addr: Buffer.alloc(6),
      });
      expect([PACKET_HOST, PACKET_OUTGOING]).toContain(f!.from.pkttype);
      expect(f!.frame.readUInt16BE(12)).toBe(ETH_P_IP);
      got.push({ ...udpIn(f!.frame), pkttype: f!.from.pkttype });
    }
    expect(got.map((g) => g.dport)).toEqual([port, port, port, port]);
    expect(got.map((g) => g.payload).sort()).toEqual(['one', 'one', 'two', 'two']);
    expect(got.map((g) => g.pkttype).sort()).toEqual([PACKET_HOST, PACKET_HOST, PACKET_OUTGOING, PACKET_OUTGOING].sort());
    expect(nextFrame(s, 200)).toBeNull();
    // The datagrams themselves reached their sockets as usual: capture is a copy.
    expect(wait(other, POLLIN)).toBe(POLLIN);
    expect(ioctl(other, FIONREAD)).toBe(7);
  });

  it('getsockname fills a sockaddr_ll (18 bytes from lo: offsetof(sll_addr) + 6) or returns the object form', () => {
    const s = capture(9);
    expect(getsockname(s)).toEqual({
      family: AF_PACKET, protocol: ETH_P_ALL, ifindex: lo, hatype: ARPHRD_LOOPBACK, pkttype: PACKET_HOST, halen: 6, addr: Buffer.alloc(6),
    });
    const sll = new sockaddr_ll();
    sll.sll_addr.fill(0xee);
    expect(getsockname(s, sll)).toMatchObject({ family: AF_PACKET, protocol: ETH_P_ALL, ifindex: lo });
    expect(sll).toMatchObject({ sll_family: AF_PACKET, sll_protocol: htons(ETH_P_ALL!), sll_ifindex: lo, sll_hatype: ARPHRD_LOOPBACK, sll_halen: 6 });
    // The kernel wrote 18 bytes: the last two of sll_addr keep what the struct held, as in C.
    expect([...sll.sll_addr]).toEqual([0, 0, 0, 0, 0, 0, 0xee, 0xee]);
  });

  it('with SO_TIMESTAMPNS, recvmsg brings an SCM_TIMESTAMPNS { tv_sec, tv_nsec } within a second of Date.now()', () => {
    const { fd: rx, port } = udpSocket();
    track(rx);
    const tx = track(socket(AF_INET, SOCK_DGRAM, 0));
    const s = capture(port);
    setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS!, 1);
    expect(getsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS!)).toBe(1);
    sendto(tx, 'when', { family: AF_INET, address: '127.0.0.1', port });
    const before = Date.now();
    expect(wait(s, POLLIN)).toBe(POLLIN);
    const buf = Buffer.alloc(2048);
    // A packet socket refuses MSG_CMSG_CLOEXEC (EINVAL): the first recvmsg on the handle asks SO_DOMAIN and
    // reads without it, the second asks without it at once, as the C program does.
    let m = recvmsg(s, { iov: buf });
    const lines = traced(() => {
      m = recvmsg(s, { iov: buf });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^recvmsg\\(${s.fd}, \\{msg_name=\\{sa_family=AF_PACKET, .*cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data=\\{tv_sec=\\d+, tv_nsec=\\d+\\}\\}\\].*, 0\\) = 46$`)); // 14 + 20 + 8 + 4
    expect(udpIn(buf.subarray(0, m.n)).payload).toBe('when');
    expect(m.address).toMatchObject({ family: AF_PACKET, protocol: ETH_P_IP, ifindex: lo });
    const ts = m.control.find((c) => c.level === SOL_SOCKET && c.type === SCM_TIMESTAMPNS);
    expect(ts).toEqual({ level: SOL_SOCKET, type: SCM_TIMESTAMPNS, tv_sec: expect.any(Number), tv_nsec: expect.any(Number) });
    const { tv_sec, tv_nsec } = ts as { tv_sec: number; tv_nsec: number };
    expect(tv_nsec).toBeGreaterThanOrEqual(0);
    expect(tv_nsec).toBeLessThan(1e9);
    expect(Math.abs(tv_sec * 1e3 + tv_nsec / 1e6 - before)).toBeLessThan(1000);
  });

  it('recvmsg on a bare number falls back every time; a UNIX socket\'s EINVAL is never retried without MSG_CMSG_CLOEXEC', () => {
    const { fd: rx, port } = udpSocket();
    track(rx);
    const tx = track(socket(AF_INET, SOCK_DGRAM, 0));
    const s = capture(port);
    sendto(tx, 'x', { family: AF_INET, address: '127.0.0.1', port });
    expect(wait(s, POLLIN)).toBe(POLLIN);
    const lines = traced(() => recvmsg(s.fd, { iov: Buffer.alloc(2048) }));
    expect(lines.map((l) => l.replace(/\{msg_name=.*\}, 0\)/, '{…}, 0)'))).toEqual([
      `recvmsg(${s.fd}, {msg_namelen=128}, MSG_CMSG_CLOEXEC) = -1 EINVAL (Invalid argument)`,
      `getsockopt(${s.fd}, SOL_SOCKET, SO_DOMAIN, [${AF_PACKET}], [4]) = 0`,
      `recvmsg(${s.fd}, {…}, 0) = 43`, // 14 + 20 + 8 + 1
    ]);
    // An unconnected UNIX stream socket answers EINVAL too, but it could carry descriptors: no retry.
    const un = track(socket(AF_UNIX, SOCK_STREAM, 0));
    const unix = traced(() => expect(systemError(() => recvmsg(un, { iov: Buffer.alloc(8) })).code).toBe('EINVAL'));
    expect(unix).toEqual([
      `recvmsg(${un.fd}, {msg_namelen=128}, MSG_CMSG_CLOEXEC) = -1 EINVAL (Invalid argument)`,
      `getsockopt(${un.fd}, SOL_SOCKET, SO_DOMAIN, [${AF_UNIX}], [4]) = 0`,
    ]);
  });

  it('PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP: promiscuous and all-multicast on lo, and the errors', () => {
    const s = capture(9);
    const promisc = { mr_ifindex: lo, mr_type: PACKET_MR_PROMISC! };
    setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, promisc);
    setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: lo, mr_type: PACKET_MR_ALLMULTI! });
    setsockopt(s, SOL_PACKET!, PACKET_DROP_MEMBERSHIP!, promisc);
    setsockopt(s, SOL_PACKET!, PACKET_DROP_MEMBERSHIP!, { mr_ifindex: lo, mr_type: PACKET_MR_ALLMULTI! });
    // Dropping what is not there is no error (packet_mc_drop); joining on no interface is, and a multicast
    // address longer than the device's.
    setsockopt(s, SOL_PACKET!, PACKET_DROP_MEMBERSHIP!, promisc);
    expect(systemError(() => setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: 999_999, mr_type: PACKET_MR_PROMISC! }))).toMatchObject({ code: 'ENODEV', syscall: 'setsockopt' });
    expect(systemError(() => setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: lo, mr_type: PACKET_MR_MULTICAST!, mr_address: [1, 0, 0x5e, 0, 0, 1, 0, 0] }))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: lo, mr_type: PACKET_MR_MULTICAST!, mr_address: new Uint8Array(9) }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    const lines = traced(() => setsockopt(s, SOL_PACKET!, PACKET_ADD_MEMBERSHIP!, { mr_ifindex: lo, mr_type: PACKET_MR_MULTICAST!, mr_address: [1, 0, 0x5e, 0, 0, 1] }));
    expect(lines).toEqual([
      `setsockopt(${s.fd}, SOL_PACKET, PACKET_ADD_MEMBERSHIP, {mr_ifindex=if_nametoindex("lo"), mr_type=PACKET_MR_MULTICAST, mr_alen=6, mr_address=01:00:5e:00:00:01}, 16) = 0`,
    ]);
  });

  it('sendto with a sockaddr_ll puts a frame on lo: the kernel writes its header from sll_protocol and sll_addr', () => {
    // 0x88b5: IEEE 802's local experimental EtherType, which nothing on the machine answers.
    const EXPERIMENTAL = 0x88b5;
    const rx = track(socket(AF_PACKET!, SOCK_RAW, 0));
    bind(rx, { family: AF_PACKET!, protocol: EXPERIMENTAL, ifindex: lo });
    // SOCK_DGRAM: the caller gives the payload, the kernel the link-level header (packet(7)).
    const tx = track(socket(AF_PACKET!, SOCK_DGRAM, 0));
    const dest = [0x02, 0, 0, 0, 0, 0x01]; // a locally administered address, not lo's (all zeros)
    const lines = traced(() => {
      expect(sendto(tx, 'hello wire', { family: AF_PACKET!, protocol: EXPERIMENTAL, ifindex: lo, halen: 6, addr: dest })).toBe(10);
    });
    expect(lines).toEqual([
      `sendto(${tx.fd}, "hello wire", 10, MSG_NOSIGNAL, {sa_family=AF_PACKET, sll_protocol=htons(0x88b5 /* ETH_P_??? */), ` +
      'sll_ifindex=if_nametoindex("lo"), sll_hatype=ARPHRD_NETROM, sll_pkttype=PACKET_HOST, sll_halen=6, sll_addr=[0x2, 00, 00, 00, 00, 0x1]}, 20) = 10',
    ]);
    const f = nextFrame(rx);
    expect(f).not.toBeNull();
    // Destination, source (lo's), EtherType, payload: the Ethernet header the kernel wrote.
    expect([...f!.frame.subarray(0, 14)]).toEqual([...dest, 0, 0, 0, 0, 0, 0, 0x88, 0xb5]);
    expect(f!.frame.toString('latin1', 14)).toBe('hello wire');
    // Not for lo's address: PACKET_OTHERHOST. sll_addr is the sender's hardware address.
    expect(f!.from).toEqual({
      family: AF_PACKET, protocol: EXPERIMENTAL, ifindex: lo, hatype: ARPHRD_LOOPBACK, pkttype: PACKET_OTHERHOST, halen: 6, addr: Buffer.alloc(6),
    });
    // Outgoing copies go only to ETH_P_ALL sockets: this one saw the frame once.
    expect(nextFrame(rx, 200)).toBeNull();
  });

  it('is traced as strace prints it: socket, bind, the filter, the options, recvfrom, recvmsg and getsockname', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-packet-'));
    try {
      const program = `
        const b = require(${JSON.stringify(dist)});
        const lo = Number(require('fs').readFileSync('/sys/class/net/lo/ifindex', 'utf8'));
        const u = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
        b.bind(u, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
        const port = b.getsockname(u).port;
        const s = b.socket(b.AF_PACKET, b.SOCK_RAW, b.htons(b.ETH_P_ALL));
        // UDP (the IPv4 protocol byte, 23) to the port (36): other tests' TCP on lo may use the same number.
        b.setsockopt(s, b.SOL_SOCKET, b.SO_ATTACH_FILTER, [
          b.BPF_STMT(b.BPF_LD | b.BPF_B | b.BPF_ABS, 23), b.BPF_JUMP(b.BPF_JMP | b.BPF_JEQ | b.BPF_K, b.IPPROTO_UDP, 0, 3),
          b.BPF_STMT(b.BPF_LD | b.BPF_H | b.BPF_ABS, 36), b.BPF_JUMP(b.BPF_JMP | b.BPF_JEQ | b.BPF_K, port, 0, 1),
          b.BPF_STMT(b.BPF_RET | b.BPF_K, 0x40000), b.BPF_STMT(b.BPF_RET | b.BPF_K, 0)]);
        // What came before the filter (the socket receives from socket(2) on: other tests' packets on
        // lo, on every interface) is drained, as libpcap drains it.
        for (let i = 0, junk = Buffer.alloc(2048); i < 10000; i++) { try { b.recv(s, junk, 2048, b.MSG_DONTWAIT); } catch { break; } }
        b.bind(s, { family: b.AF_PACKET, protocol: b.ETH_P_ALL, ifindex: lo });
        b.setsockopt(s, b.SOL_SOCKET, b.SO_TIMESTAMPNS, 1);
        b.setsockopt(s, b.SOL_PACKET, b.PACKET_ADD_MEMBERSHIP, { mr_ifindex: lo, mr_type: b.PACKET_MR_PROMISC });
        b.setsockopt(s, b.SOL_PACKET, b.PACKET_DROP_MEMBERSHIP, { mr_ifindex: lo, mr_type: b.PACKET_MR_PROMISC });
        b.getsockname(s);
        b.getsockname(s, new b.sockaddr_ll());
        b.getsockopt(s, b.SOL_SOCKET, b.SO_GET_FILTER);
        b.sendto(u, 'hello', { family: b.AF_INET, address: '127.0.0.1', port });
        b.sendto(u, 'again', { family: b.AF_INET, address: '127.0.0.1', port });
        b.poll([{ fd: s, events: b.POLLIN }], 2000);
        b.ioctl(s, b.FIONREAD);
        const buf = Buffer.alloc(2048);
        b.recvfrom(s, buf);
        b.recvmsg(s, { iov: buf });
        b.recvmsg(s, { iov: buf });
        b.recvfrom(s, buf, 2048, 0, new b.sockaddr_ll());
        try { b.ioctl(s, b.SIOCATMARK); } catch {}
        try { b.recvmsg(s, { iov: buf, flags: b.MSG_DONTWAIT }); } catch {}
        b.setsockopt(s, b.SOL_SOCKET, b.SO_DETACH_FILTER, 0);
        b.setsockopt(s, b.SOL_SOCKET, b.SO_LOCK_FILTER, 1);
        const d = b.socket(b.AF_PACKET, b.SOCK_DGRAM, b.htons(b.ETH_P_IP));
        try { b.sendto(d, 'x', { family: b.AF_PACKET, protocol: 0x1234, ifindex: 999999, hatype: b.ARPHRD_ETHER, pkttype: 9, addr: [2, 0xfc, 0xab, 0, 0, 1, 7, 8], halen: 12 }); } catch {}
        b.close(d); b.close(s); b.close(u);`;
      const out = path.join(dir, 'strace.txt');
      const r = spawnSync('strace', ['-f', '-e', 'trace=network,ioctl', '-o', out, process.execPath, '-e', program], {
        env: { ...process.env, BSOCK_TRACE: '1' }, encoding: 'utf8', timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const { ours, theirs } = compare(r.stderr, out);
      expect(ours.length).toBeGreaterThanOrEqual(25);
      expect(theirs).toEqual(ours);
      // What the comparison covers, spelled out: strace's own names for these calls.
      for (const re of [
        /^socket\(AF_PACKET, SOCK_RAW\|SOCK_CLOEXEC, htons\(ETH_P_ALL\)\) = \d+$/,
        /^bind\(\d+, \{sa_family=AF_PACKET, sll_protocol=htons\(ETH_P_ALL\), sll_ifindex=if_nametoindex\("lo"\), sll_hatype=ARPHRD_NETROM, sll_pkttype=PACKET_HOST, sll_halen=0\}, 20\) = 0$/,
        /^setsockopt\(\d+, SOL_SOCKET, SO_ATTACH_FILTER, \{len=6, filter=0x…\}, 16\) = 0$/,
        /^setsockopt\(\d+, SOL_SOCKET, SO_TIMESTAMPNS_OLD, \[1\], 4\) = 0$/,
        /^setsockopt\(\d+, SOL_PACKET, PACKET_ADD_MEMBERSHIP, \{mr_ifindex=if_nametoindex\("lo"\), mr_type=PACKET_MR_PROMISC, mr_alen=0, mr_address=\}, 16\) = 0$/,
        /^getsockname\(\d+, \{sa_family=AF_PACKET, sa_data=".*"\}, \[128 => 18\]\) = 0$/,
        /^getsockname\(\d+, \{sa_family=AF_PACKET, sa_data=".*"\}, \[20 => 18\]\) = 0$/,
        /^getsockopt\(\d+, SOL_SOCKET, SO_GET_FILTER, 0x…, \[4096 => 6\]\) = 0$/,
        /^ioctl\(\d+, FIONREAD, \[47\]\) = 0$/,
        /^recvfrom\(\d+, ".*"\.\.\., 2048, 0, \{sa_family=AF_PACKET, sll_protocol=htons\(ETH_P_IP\), sll_ifindex=if_nametoindex\("lo"\), sll_hatype=ARPHRD_LOOPBACK, sll_pkttype=PACKET_OUTGOING, sll_halen=6, sll_addr=\[00, 00, 00, 00, 00, 00\]\}, \[128 => 20\]\) = 47$/,
        /^recvfrom\(\d+, ".*"\.\.\., 2048, 0, \{sa_family=AF_PACKET, .*\}, \[20\]\) = 47$/,
        /^recvmsg\(\d+, \{msg_namelen=128\}, MSG_CMSG_CLOEXEC\) = -1 EINVAL \(Invalid argument\)$/,
        /^getsockopt\(\d+, SOL_SOCKET, SO_DOMAIN, \[17\], \[4\]\) = 0$/,
        /^recvmsg\(\d+, \{msg_name=\{sa_family=AF_PACKET, .*\}, msg_namelen=128 => 20, .*cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data=\{tv_sec=\d+, tv_nsec=\d+\}\}\], msg_controllen=32, msg_flags=0\}, 0\) = 47$/,
        /^ioctl\(\d+, SIOCATMARK, 0x…\) = -1 ENOTTY /,
        /^recvmsg\(\d+, \{msg_namelen=128\}, MSG_DONTWAIT\) = -1 EAGAIN /,
        /^sendto\(\d+, "x", 1, MSG_NOSIGNAL, \{sa_family=AF_PACKET, sll_protocol=htons\(0x1234 \/\* ETH_P_\?\?\? \*\/\), sll_ifindex=999999, sll_hatype=ARPHRD_ETHER, sll_pkttype=0x9 \/\* PACKET_\?\?\? \*\/, sll_halen=12, sll_addr=\[0x2, 0xfc, 0xab, 00, 00, 0x1, 0x7, 0x8, \.\.\.\]\}, 20\) = -1 /,
      ]) {
        expect(ours).toContainEqual(expect.stringMatching(re));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(linux)('AF_PACKET without CAP_NET_RAW', () => {
  it('socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) fails with EPERM, a SystemError', () => {
    const make = () => socket(AF_PACKET!, SOCK_RAW, htons(ETH_P_ALL!));
    if (!isRoot) {
      expect(systemError(make)).toMatchObject({ code: 'EPERM', errno: -1, syscall: 'socket', message: 'socket EPERM' });
      return;
    }
    // As root: the same call in a child that is still root but lost CAP_NET_RAW (setpriv drops it from
    // the bounding set before exec). Not a child running as nobody: the Node binary under test may live
    // where nobody cannot read it (CI's Node lines are in /root/.cache).
    const r = spawnSync('setpriv', ['--bounding-set=-net_raw', '--inh-caps=-net_raw', '--', process.execPath, '-e', `
      const b = require(${JSON.stringify(dist)});
      try { b.socket(b.AF_PACKET, b.SOCK_RAW, b.htons(b.ETH_P_ALL)); console.log('made'); }
      catch (e) { console.log(JSON.stringify({ system: e instanceof b.SystemError, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message })); }`,
    ], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ system: true, code: 'EPERM', errno: -1, syscall: 'socket', message: 'socket EPERM' });
  });
});

describe.skipIf(!linux)('the ioctls under strace', () => {
  it.runIf(canRun('comparing with strace needs strace', hasCommand('strace')))('print the same lines in the trace and in strace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-ioctl-'));
    try {
      const program = `
        const b = require(${JSON.stringify(dist)});
        const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);
        b.write(x, 'hello');
        b.ioctl(y, b.FIONREAD);
        const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
        b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
        b.listen(srv, 1);
        const cli = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
        b.connect(cli, b.getsockname(srv));
        const { fd: conn } = b.accept(srv);
        b.send(cli, 'ab'); b.send(cli, 'c', 1, b.MSG_OOB);
        b.poll([{ fd: conn, events: b.POLLPRI }], 2000);
        b.ioctl(conn, b.SIOCINQ); b.ioctl(conn, b.SIOCATMARK);
        b.recv(conn, Buffer.alloc(8));
        b.ioctl(conn, b.SIOCATMARK); b.ioctl(cli, b.SIOCOUTQ);
        try { b.ioctl(srv, b.SIOCINQ); } catch {}
        try { b.ioctl(9999, b.FIONREAD); } catch {}
        for (const h of [x, y, srv, cli, conn]) b.close(h);`;
      const out = path.join(dir, 'strace.txt');
      const r = spawnSync('strace', ['-f', '-e', 'trace=network,ioctl', '-o', out, process.execPath, '-e', program], {
        env: { ...process.env, BSOCK_TRACE: '1' }, encoding: 'utf8', timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const { ours, theirs } = compare(r.stderr, out, [9999]);
      expect(theirs).toEqual(ours);
      expect(ours.filter((l) => l.startsWith('ioctl('))).toEqual([
        expect.stringMatching(/^ioctl\(\d+, FIONREAD, \[5\]\) = 0$/),
        expect.stringMatching(/^ioctl\(\d+, FIONREAD, \[2\]\) = 0$/),
        expect.stringMatching(/^ioctl\(\d+, SIOCATMARK, \[0\]\) = 0$/),
        expect.stringMatching(/^ioctl\(\d+, SIOCATMARK, \[1\]\) = 0$/),
        expect.stringMatching(/^ioctl\(\d+, TIOCOUTQ, \[\d+\]\) = 0$/),
        expect.stringMatching(/^ioctl\(\d+, FIONREAD, 0x…\) = -1 EINVAL \(Invalid argument\)$/),
        'ioctl(9999, FIONREAD, 0x…) = -1 EBADF (Bad file descriptor)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ── strace comparison ───────────────────────────────────────────────────────────────────────────

const CALLS = /^(socket|socketpair|bind|listen|accept4?|connect|getsockname|getpeername|sendto|recvfrom|sendmsg|recvmsg|setsockopt|getsockopt|shutdown|ioctl)\(/;
// A buffer's address is the process's own; strace pads the result column.
const normalize = (line: string) => line.replace(/^\d+\s+/, '').replace(/\s+= /, ' = ').replace(/\b0x[0-9a-f]{6,}\b/g, '0x…').trim();

/**
 * The trace's lines (stderr) and strace's (the file) for the calls on the program's own descriptors
 * (the ones its socket/socketpair/accept calls made, and `extra`), strace's `<unfinished ...>` and
 * `<... resumed>` halves joined. Node's own calls (ioctls on its stdio, epoll) are on other descriptors.
 */
function compare(stderr: string, file: string, extra: number[] = []): { ours: string[]; theirs: string[] } {
  const ours = stderr.split('\n').filter((l) => CALLS.test(l)).map(normalize);
  const joined: string[] = [];
  const open = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const cut = /^(\d+) +(.*) <unfinished \.\.\.>$/.exec(line);
    const resumed = /^(\d+) +<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (cut) {
      open.set(cut[1], joined.length);
      joined.push(`${cut[1]} ${cut[2]}`);
    } else if (resumed && open.has(resumed[1])) {
      joined[open.get(resumed[1])!] += resumed[2];
      open.delete(resumed[1]);
    } else {
      joined.push(line);
    }
  }
  const fds = new Set<number>(extra);
  for (const l of ours) {
    const made = /^(socket|accept4?)\(.* = (\d+)$/.exec(l);
    if (made) fds.add(Number(made[2]));
    const pair = /^socketpair\(.*\[(\d+), (\d+)\]\) = 0$/.exec(l);
    if (pair) fds.add(Number(pair[1])).add(Number(pair[2]));
  }
  const theirs = joined.map(normalize).filter((l) => {
    if (!CALLS.test(l)) return false;
    if (/^(socket|socketpair)\(/.test(l)) return true;
    const first = /^[a-z0-9_]+\((\d+),/.exec(l);
    return first !== null && fds.has(Number(first[1]));
  });
  return { ours, theirs };
}

