// Seeing the wire: the socket ioctls that answer an int (FIONREAD/SIOCINQ, SIOCOUTQ, SIOCATMARK), against
// the real kernel on loopback; packet(7) sockets follow. No privilege needed, except for the iptables
// DROP that shows unacknowledged bytes (root, CI). Each call is also checked against what strace prints.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, FIONREAD, MSG_OOB, POLLIN, POLLPRI, SIOCATMARK, SIOCINQ, SIOCOUTQ, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
  SO_LINGER, type PollFd, type SocketHandle, SystemError, ioctl, poll, read, recv, send, sendto, setsockopt, socket,
  socketpair, trace, write,
} from '../src/index';
import { canRun, hasCommand, isRoot, noLeakedFds, systemError, tcpPair, thrown, trackHandles, udpSocket } from './helpers';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const linux = process.platform === 'linux';

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

