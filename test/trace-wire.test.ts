// BSOCK_TRACE=wire: the calls and the packets of the program's sockets on one timeline. As root, a
// TCP exchange (handshake, data both ways, FIN both ways) and a UDP question to a closed port (its ICMP
// port unreachable) traced with the wire, tcpdump -w running beside it in the same run as the
// independent witness; without CAP_NET_RAW (setpriv), one line says why and every call is still
// there; and the sequence picture drawing the segments from packet lines.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { renderDiagram } from '../src/index';
import { trace } from '../src/trace/trace';
import { canRun, fdCount, hasCommand, isRoot } from './helpers';
import { startTcpdump as tcpdump } from './tcpdump';

const linux = process.platform === 'linux';
const dist = path.join(__dirname, '..', 'dist', 'index.js');
const withTcpdump = linux && canRun('the wire trace beside tcpdump needs root and tcpdump', isRoot && hasCommand('tcpdump'));
const asRoot = linux && canRun('the wire trace needs CAP_NET_RAW (root)', isRoot);

// The program traced: a daytime-like TCP exchange on 127.0.0.1 in one process (synchronous calls, so
// every segment is sent inside a call the trace stamps), then a UDP datagram to a port nobody holds.
const PROGRAM = `
const b = require(${JSON.stringify(dist)});
const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
b.listen(srv, 4);
const port = b.getsockname(srv).port;
const c = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
b.connect(c, { family: b.AF_INET, address: '127.0.0.1', port });
const s = b.accept(srv).fd;
const buf = Buffer.alloc(64);
b.write(c, 'hello');
b.read(s, buf);
b.write(s, 'world!');
b.read(c, buf);
b.close(c);
b.read(s, buf);
b.close(s);
b.close(srv);
const gone = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
b.bind(gone, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
const closedPort = b.getsockname(gone).port;
b.close(gone);
const u = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
b.sendto(u, 'anyone?', { family: b.AF_INET, address: '127.0.0.1', port: closedPort });
b.close(u);
`;

const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function programFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-wire-'));
  dirs.push(dir);
  const file = path.join(dir, 'program.js');
  writeFileSync(file, PROGRAM);
  return file;
}

/** Runs `argv` to its end (at most 20 s): its status and what it wrote on stderr (where the trace goes). */
async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [status] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  children.delete(child);
  return { status, stderr };
}

/** tcpdump on lo for `expr`, listening; stop() ends it and returns its -nn -tt -S reading. */
/** tcpdump on lo; stop(wanted) waits (at most 5 s) until `wanted` lines are among what it wrote, ends it and reads it. */
async function startTcpdump(expr: string): Promise<{ stop(wanted?: (line: string) => boolean, count?: number): Promise<string[]> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-wire-'));
  dirs.push(dir);
  const dump = await tcpdump(expr, dir);
  children.add(dump.child);
  return {
    async stop(wanted?: (line: string) => boolean, count = 0) {
      // Read while it writes, the last record maybe half written: tcpdump -r then fails after the rest.
      const read = () => spawnSync('tcpdump', ['-r', dump.file, '-nn', '-tt', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout.split('\n').filter((l) => /^\d/.test(l));
      await dump.stop(wanted === undefined ? undefined : () => read().filter(wanted).length >= count);
      children.delete(dump.child);
      return read();
    },
  };
}

const PACKET = /^ {2}── (\d+)\.(\d{6}) (.*)$/;
/** A packet line's time in microseconds (a BigInt: seconds × 10^6 is past 2^53 in nothing but precision). */
const usOf = (line: string) => {
  const m = PACKET.exec(line)!;
  return BigInt(m[1]) * 1_000_000n + BigInt(m[2]);
};
const textOf = (line: string) => PACKET.exec(line)![3];

describe.runIf(linux)('BSOCK_TRACE=wire', () => {
  it.runIf(withTcpdump)('prints the handshake between connect and accept, data between write and read, in kernel-timestamp order — the segments tcpdump saw, in its words and order', async () => {
    const file = programFile();
    const dump = await startTcpdump('tcp or udp or icmp');
    const r = await run([process.execPath, file], { ...process.env, BSOCK_TRACE: 'wire' });
    expect(r.status, r.stderr).toBe(0);
    const port = Number(/getsockname\(\d+, \{sa_family=AF_INET, sin_port=htons\((\d+)\)/.exec(r.stderr)![1]);
    const udpPort = /udp port (\d+) unreachable/.exec(r.stderr)![1];
    // The packets of these ports (tcpdump sees other programs' too), once tcpdump has written them all.
    const mine = (l: string) => new RegExp(`\\.${port}[ :]|\\.${udpPort}: UDP|udp port ${udpPort} unreachable`).test(l);
    const seen = await dump.stop(mine, r.stderr.split('\n').filter((l) => PACKET.test(l)).length);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const packets = lines.filter((l) => PACKET.test(l));
    const at = (re: RegExp, from = 0) => {
      const i = lines.findIndex((l, k) => k >= from && re.test(l));
      expect(i, `no line matching ${re}\n${r.stderr}`).toBeGreaterThanOrEqual(0);
      return i;
    };

    // The capture's own socket never shows: no packet socket, no recvmsg (the program makes none).
    expect(r.stderr).not.toMatch(/AF_PACKET|recvmsg|SO_ATTACH_FILTER|SO_TIMESTAMPNS/);
    expect(r.stderr).not.toMatch(/^# /m);

    // The kernel's order: the packet lines' times never go back.
    for (let i = 1; i < packets.length; i++) expect(usOf(packets[i]) >= usOf(packets[i - 1]), `${packets[i - 1]}\n${packets[i]}`).toBe(true);

    const cfd = /connect\((\d+),/.exec(r.stderr)![1];
    const sfd = /^accept4\(.*\) += (\d+)$/m.exec(r.stderr)![1];
    const connect = at(/^connect\(/);
    const accept = at(/^accept4\(.* = \d+$/);
    const syn = at(new RegExp(`IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${port}: Flags \\[S\\], seq \\d+, win`));
    const synack = at(new RegExp(`IP 127\\.0\\.0\\.1\\.${port} > 127\\.0\\.0\\.1\\.\\d+: Flags \\[S\\.\\], seq \\d+, ack \\d+`));
    const ack = at(new RegExp(`IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${port}: Flags \\[\\.\\], ack \\d+`), synack);
    expect(connect).toBeLessThan(syn);
    expect(syn).toBeLessThan(synack);
    expect(synack).toBeLessThan(ack);
    expect(ack).toBeLessThan(accept);

    // Data: after the write that sent it, before the read that received it; its ACK too, here, as the
    // receiver's kernel acknowledges in the same softirq (lo: quickack in the handshake's wake).
    const hello = at(new RegExp(`> 127\\.0\\.0\\.1\\.${port}: Flags \\[P\\.\\], seq \\d+:\\d+, ack \\d+, .*length 5$`));
    expect(at(new RegExp(`^write\\(${cfd}, "hello", 5\\)`))).toBeLessThan(hello);
    expect(hello).toBeLessThan(at(new RegExp(`^read\\(${sfd}, "hello", 64\\)`)));
    const world = at(new RegExp(`IP 127\\.0\\.0\\.1\\.${port} > .*Flags \\[P\\.\\], seq \\d+:\\d+, ack \\d+, .*length 6$`));
    expect(at(new RegExp(`^write\\(${sfd}, "world!", 6\\)`))).toBeLessThan(world);
    expect(world).toBeLessThan(at(new RegExp(`^read\\(${cfd}, "world!", 64\\)`)));
    // The client's close sends its FIN, before the server's read of end-of-file.
    const fin = at(new RegExp(`> 127\\.0\\.0\\.1\\.${port}: Flags \\[F\\.\\]`));
    expect(at(new RegExp(`^close\\(${cfd}\\)`))).toBeLessThan(fin);
    expect(fin).toBeLessThan(at(new RegExp(`^read\\(${sfd}, "", 64\\)`)));
    // UDP to a port nobody holds: the datagram after sendto, and the kernel's ICMP answer.
    const dgram = at(/UDP, length 7$/);
    expect(at(/^sendto\(/)).toBeLessThan(dgram);
    expect(lines[dgram + 1]).toMatch(/ICMP 127\.0\.0\.1 udp port \d+ unreachable, length 43$/);

    // tcpdump, in the same window: the same packets of these ports, in the same order, in the same
    // words (tcpdump -nn -S: absolute sequence numbers), each stamped within a millisecond of ours.
    const ours = packets.map(textOf);
    const theirs = seen.filter(mine);
    expect(theirs.map((l) => l.replace(/^\d+\.\d+ /, ''))).toEqual(ours);
    expect(ours.length).toBe(10 + 2);
    theirs.forEach((l, i) => {
      const t = BigInt(l.slice(0, l.indexOf('.'))) * 1_000_000n + BigInt(l.slice(l.indexOf('.') + 1, l.indexOf(' ')));
      const d = t - usOf(packets[i]);
      expect(d < 1000n && d > -1000n, `${l}\n${packets[i]}`).toBe(true);
    });
  }, 60_000);

  it.runIf(asRoot)('on the tour (npm start), which turns the trace on itself: the handshake between connect and accept, and its picture draws SYN, SYN+ACK, ACK', async () => {
    const tour = path.join(__dirname, '..', 'dist', 'examples', 'tour.js');
    const child = spawn(process.execPath, [tour], { env: { ...process.env, BSOCK_TRACE: 'wire', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => (out += d));
    child.stderr!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [status] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    children.delete(child);
    expect(status, out).toBe(0);
    const lines = out.split('\n');
    const connect = lines.findIndex((l) => /^connect\(.*\) = 0$/.test(l));
    const accept = lines.findIndex((l) => /^accept4\(.* = \d+$/.test(l));
    const flags = lines.slice(connect, accept).filter((l) => PACKET.test(l)).map((l) => /Flags \[([^\]]+)\]/.exec(l)?.[1]);
    expect(connect, out).toBeGreaterThan(0);
    expect(flags).toEqual(['S', 'S.', '.']);
    const picture = out.slice(out.lastIndexOf('client '));
    expect(picture).toMatch(/─ SYN ─▶\n\s+◀─ SYN\+ACK ─+\n\s+─+ ACK ─▶\n\s+accept4\(/);
    expect(out).not.toMatch(/AF_PACKET|SYN, SYN\+ACK, ACK ─▶/);
  });

  it.runIf(asRoot)('trace({ to, wire: true }) prints the packets between the calls in this process, and trace(false) closes the capture', async () => {
    const b = await import('../src/index');
    const before = fdCount();
    const lines: string[] = [];
    trace({ to: (l) => lines.push(l), wire: true });
    let srv: ReturnType<typeof b.socket> | undefined;
    let cli: ReturnType<typeof b.socket> | undefined;
    try {
      srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
      b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
      b.listen(srv, 1);
      const { port } = b.getsockname(srv) as { port: number };
      cli = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
      b.connect(cli, { family: b.AF_INET, address: '127.0.0.1', port });
      b.accept(srv).fd.close();
    } finally {
      cli?.close();
      srv?.close();
      trace(false);
    }
    expect(fdCount()).toBe(before);
    const flags = lines.filter((l) => PACKET.test(l)).map((l) => /Flags \[([^\]]+)\]/.exec(l)?.[1]);
    expect(flags.slice(0, 3)).toEqual(['S', 'S.', '.']);
    expect(lines.findIndex((l) => l.startsWith('connect('))).toBeLessThan(lines.findIndex((l) => /Flags \[S\]/.test(l)));
    expect(lines.join('\n')).not.toMatch(/AF_PACKET|recvmsg/);
  });

  it.runIf(asRoot)('leaves a traced call its address when packets of other programs are read while its line is printed', async () => {
    const b = await import('../src/index');
    // Another program's datagrams on lo, one a millisecond: the capture reads them (every packet of lo
    // is read, then matched by port) while getsockname's line is printed, before getsockname decodes
    // the address it got — the capture's recvmsg must not leave its sockaddr_ll in its place.
    const noise = spawn(process.execPath, ['-e', "const d = require('dgram').createSocket('udp4'); setInterval(() => d.send('x', 9, '127.0.0.1'), 1); setTimeout(() => process.exit(0), 5000);"], { stdio: 'ignore' });
    children.add(noise);
    await new Promise((r) => setTimeout(r, 200));
    const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    const ports = new Set<unknown>();
    let calls = 0;
    trace({ to: () => {}, wire: true });
    try {
      b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
      for (const end = Date.now() + 300; Date.now() < end && calls < 100_000; calls++) ports.add((b.getsockname(srv) as { port?: number }).port);
    } finally {
      trace(false);
      srv.close();
      noise.kill('SIGKILL');
    }
    expect(calls).toBeGreaterThan(100);
    expect([...ports]).toEqual([expect.any(Number)]);
  });

  it.runIf(asRoot)("leaves a traced recvmsg its own control messages and flags when the capture is read while its line is printed", async () => {
    const b = await import('../src/index');
    // A datagram stamped by the kernel at t0 (SO_TIMESTAMPNS), then another program's 150 ms later: the
    // traced recvmsg of the first prints its line, and the wire trace reads the capture then (both
    // datagrams' copies) with recvmsg — the same shared control scratch and info the user's recvmsg
    // has not decoded yet. The timestamp received must be the first datagram's, not the last read's.
    const rx = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
    const tx = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
    b.bind(rx, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
    b.setsockopt(rx, b.SOL_SOCKET, b.SO_TIMESTAMPNS!, 1);
    const port = (b.getsockname(rx) as { port: number }).port;
    const stampOf = (m: { control: { type: number }[] }) => {
      const ts = m.control.find((c) => c.type === b.SCM_TIMESTAMPNS) as { tv_sec: number; tv_nsec: number } | undefined;
      expect(ts).toBeDefined();
      return ts!.tv_sec * 1000 + ts!.tv_nsec / 1e6;
    };
    // The first SO_TIMESTAMPNS on a host with no timestamping socket turns the kernel's stamping on from a
    // work queue (net_enable_timestamp); a datagram that arrives before then is stamped when it is read
    // (__sock_recv_timestamp: "Race occurred between timestamp enabling and packet receiving"). Wait
    // (at most 2 s) until a datagram read 30 ms after it was sent carries its time of arrival.
    for (let i = 0, on = false; !on; i++) {
      expect(i, 'the kernel stamps datagrams on arrival within 2 s').toBeLessThan(40);
      const t0 = Date.now();
      b.sendto(tx, 'warm', { family: b.AF_INET, address: '127.0.0.1', port });
      const t1 = Date.now();
      await new Promise((r) => setTimeout(r, 30));
      const at = stampOf(b.recvmsg(rx, { iov: Buffer.alloc(64) }));
      on = at >= t0 - 2 && at <= t1 + 2;
      if (!on) await new Promise((r) => setTimeout(r, 20));
    }
    const stamps: number[] = [];
    const flags: number[] = [];
    trace({ to: () => {}, wire: true });
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        b.sendto(tx, 'first', { family: b.AF_INET, address: '127.0.0.1', port });
        const t1 = Date.now();
        await new Promise((r) => setTimeout(r, 150));
        const other = spawnSync(process.execPath, ['-e', "const d = require('dgram').createSocket('udp4'); d.send('x', 9, '127.0.0.1', () => d.close());"]);
        expect(other.status).toBe(0);
        const m = b.recvmsg(rx, { iov: Buffer.alloc(64) });
        // Stamped on arrival, inside the sendto (lo); the other datagram's copy came 150 ms later.
        stamps.push(Math.max(t0 - 2 - stampOf(m), stampOf(m) - t1 - 2, 0));
        flags.push(m.flags);
      }
    } finally {
      trace(false);
      rx.close();
      tx.close();
    }
    expect(stamps, 'ms outside the sendto call').toEqual([0, 0, 0]);
    expect(flags).toEqual([0, 0, 0]);
  });

  // Another program's bulk transfer on lo, for at most 8 s: 1 MiB writes as fast as the kernel takes them.
  const FLOOD = `
import socket, threading, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
def sink():
    c, _ = srv.accept()
    while c.recv(1 << 20): pass
threading.Thread(target=sink, daemon=True).start()
out = socket.create_connection(srv.getsockname()); buf = b'x' * (1 << 20); end = time.time() + 8
while time.time() < end: out.sendall(buf)
`;

  it.runIf(asRoot && hasCommand('python3'))("keeps the program's keepalive probes while another program floods lo during its poll", async () => {
    const b = await import('../src/index');
    const flood = spawn('python3', ['-c', FLOOD], { stdio: 'ignore' });
    children.add(flood);
    await new Promise((r) => setTimeout(r, 300));
    const lines: string[] = [];
    const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    const c = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    let s: ReturnType<typeof b.accept>['fd'] | undefined;
    trace({ to: (l) => lines.push(l), wire: true });
    try {
      b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
      b.listen(srv, 1);
      b.connect(c, { family: b.AF_INET, address: '127.0.0.1', port: (b.getsockname(srv) as { port: number }).port });
      s = b.accept(srv).fd;
      b.write(c, 'hi');
      b.read(s, Buffer.alloc(8));
      const acked = Date.now();
      b.setKeepAlive(c, { idle: 1, interval: 1, count: 3 });
      // Two probes and their ACKs come while the program sleeps here and the flood fills lo: they wait in
      // the capture's queue until the next call (without the kernel filter, the flood's segments filled
      // it and the kernel dropped them). The probes go 1 s and 2 s after the last ACK received, whenever
      // this poll begins on a loaded machine: it ends 2.5 s after that ACK.
      b.poll([{ fd: c, events: b.POLLIN }], Math.max(0, acked + 2500 - Date.now()));
      b.getsockname(c);
    } finally {
      trace(false);
      flood.kill('SIGKILL');
      for (const h of [c, s, srv]) h?.close();
    }
    // The packets printed between keepalive's setsockopt and the last call, getsockname: the probes'.
    const keepalive = lines.findIndex((l) => l.startsWith('setsockopt(') && l.includes('SO_KEEPALIVE'));
    const last = lines.map((l) => l.startsWith('getsockname(')).lastIndexOf(true);
    expect(lines.slice(keepalive + 1, last).some((l) => l.startsWith('poll(')), lines.join('\n')).toBe(true);
    // This connection's: the trace matches packets by port, and another test's connection on lo may
    // use the same port number toward another peer (ephemeral ports are shared across destinations).
    const ports = [...lines.slice(keepalive).join('\n').matchAll(/getsockname\(\d+, \{sa_family=AF_INET, sin_port=htons\((\d+)\)/g)].map((m) => m[1]);
    const server = /connect\(\d+, \{sa_family=AF_INET, sin_port=htons\((\d+)\)/.exec(lines.join('\n'))![1];
    const mine = (l: string) => ports.some((p) => l.includes(`127.0.0.1.${p} > 127.0.0.1.${server}:`) || l.includes(`127.0.0.1.${server} > 127.0.0.1.${p}:`));
    const during = lines.slice(keepalive + 1, last).filter((l) => PACKET.test(l) && mine(l));
    // Two probes and their ACKs in the 2.5 s after the data's ACK; a third pair when the process came
    // back from poll late (a loaded machine), before getsockname.
    expect([4, 6], lines.join('\n')).toContain(during.length);
    expect(during.every((l) => /Flags \[\.\], ack \d+, win/.test(l))).toBe(true);
  }, 20_000);

  it.runIf(asRoot)('shows the whole handshake and the datagram toward another process\'s ports, learnt before the calls', async () => {
    const b = await import('../src/index');
    // Servers in another process: their ports appear in no line before connect's and sendto's, and the
    // client's own port in none at all until later — the capture's kernel filter must keep the packets.
    const peer = spawn(process.execPath, ['-e', `
      const net = require('net'), dgram = require('dgram');
      const t = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
        const u = dgram.createSocket('udp4').bind(0, '127.0.0.1', () => console.log(t.address().port, u.address().port));
      });
      setTimeout(() => process.exit(0), 10000);`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(peer);
    const [tcpPort, udpPort] = ((await once(peer.stdout!, 'data')) as [Buffer])[0].toString().trim().split(' ').map(Number);
    const lines: string[] = [];
    const c = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    const u = b.socket(b.AF_INET, b.SOCK_DGRAM, 0);
    trace({ to: (l) => lines.push(l), wire: true });
    try {
      b.connect(c, { family: b.AF_INET, address: '127.0.0.1', port: tcpPort });
      b.sendto(u, 'x', { family: b.AF_INET, address: '127.0.0.1', port: udpPort });
      b.getsockname(u);
    } finally {
      trace(false);
      peer.kill('SIGKILL');
      c.close();
      u.close();
    }
    const between = (from: string, to: string) => lines.slice(lines.findIndex((l) => l.startsWith(from)) + 1, lines.findIndex((l) => l.startsWith(to))).filter((l) => PACKET.test(l));
    expect(between('connect(', 'sendto(').map((l) => /Flags \[([^\]]+)\]/.exec(l)?.[1]).slice(0, 3), lines.join('\n')).toEqual(['S', 'S.', '.']);
    expect(between('sendto(', 'getsockname(').filter((l) => l.includes(`> 127.0.0.1.${udpPort}: UDP, length 1`)), lines.join('\n')).toHaveLength(1);
  });

  it('trace() refuses a wire option that is not a boolean', () => {
    expect(() => trace({ wire: 'lo' as unknown as boolean })).toThrow(TypeError);
  });

  it('without CAP_NET_RAW says once why there are no packets, and prints every call BSOCK_TRACE=1 prints', async () => {
    const file = programFile();
    // As root, a child that stays root but lost CAP_NET_RAW (setpriv drops it from the bounding set
    // before exec): not a nobody user, who may not read the Node binary (CI's lives in /root/.cache).
    const argv = isRoot ? ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw', '--', process.execPath, file] : [process.execPath, file];
    if (isRoot && !canRun('dropping CAP_NET_RAW needs setpriv', hasCommand('setpriv'))) return;
    const wire = await run(argv, { ...process.env, BSOCK_TRACE: 'wire' });
    const plain = await run([process.execPath, file], { ...process.env, BSOCK_TRACE: '1' });
    expect(wire.status, wire.stderr).toBe(0);
    const lines = wire.stderr.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => l.startsWith('#'))).toEqual(['# BSOCK_TRACE=wire: no packets (capture needs CAP_NET_RAW: socket EPERM)']);
    expect(lines[0]).toMatch(/^# BSOCK_TRACE=wire/);
    expect(lines.some((l) => PACKET.test(l))).toBe(false);
    const names = (ls: string[]) => ls.filter((l) => !l.startsWith('#')).map((l) => /^(\w+)\(/.exec(l)?.[1]);
    expect(names(lines)).toEqual(names(plain.stderr.split('\n').filter((l) => l !== '')));
    expect(names(lines)).toContain('accept4');
  }, 60_000);
});

describe('the sequence picture from packet lines', () => {
  // A saved BSOCK_TRACE=wire trace (abridged): the handshake, one write, the client's close.
  const saved = [
    'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3',
    'bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    'listen(3, 4)                            = 0',
    'getsockname(3, {sa_family=AF_INET, sin_port=htons(3400), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 0',
    'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 4',
    'connect(4, {sa_family=AF_INET, sin_port=htons(3400), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    '  ── 1796400281.366128 IP 127.0.0.1.41234 > 127.0.0.1.3400: Flags [S], seq 100, win 65495, options [mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 10], length 0',
    '  ── 1796400281.366147 IP 127.0.0.1.3400 > 127.0.0.1.41234: Flags [S.], seq 200, ack 101, win 65483, options [mss 65495,sackOK,TS val 2 ecr 1,nop,wscale 10], length 0',
    '  ── 1796400281.366166 IP 127.0.0.1.41234 > 127.0.0.1.3400: Flags [.], ack 201, win 64, options [nop,nop,TS val 3 ecr 2], length 0',
    'accept4(3, {sa_family=AF_INET, sin_port=htons(41234), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC) = 5',
    'write(4, "hello", 5)                    = 5',
    '  ── 1796400281.371503 IP 127.0.0.1.41234 > 127.0.0.1.3400: Flags [P.], seq 101:106, ack 201, win 64, options [nop,nop,TS val 4 ecr 2], length 5',
    '  ── 1796400281.371519 IP 127.0.0.1.3400 > 127.0.0.1.41234: Flags [.], ack 106, win 64, options [nop,nop,TS val 5 ecr 4], length 0',
    'read(5, "hello", 16)                    = 5',
    'close(4)                                = 0',
    '  ── 1796400281.372000 IP 127.0.0.1.41234 > 127.0.0.1.3400: Flags [F.], seq 106, ack 201, win 64, options [nop,nop,TS val 6 ecr 5], length 0',
    '  ── 1796400281.372100 IP 127.0.0.1.3400 > 127.0.0.1.41234: Flags [R.], seq 201, ack 107, win 64, length 0',
  ];

  it('draws the handshake as three arrows (SYN, SYN+ACK, ACK) between connect and accept, then data, ACKs, FIN and RST', () => {
    const rows = renderDiagram(saved).split('\n');
    const row = (re: RegExp, from = 0) => rows.findIndex((l, i) => i >= from && re.test(l));
    const connect = row(/^connect\(4, 127\.0\.0\.1:3400\) = 0$/);
    const syn = row(/─ SYN ─▶$/);
    const synack = row(/^\s+◀─ SYN\+ACK ─+$/);
    const ack = row(/─ ACK ─▶$/);
    const accept = row(/accept4\(3, 127\.0\.0\.1:41234\) = 5$/);
    expect([connect, syn, synack, ack, accept].every((i) => i >= 0), rows.join('\n')).toBe(true);
    expect(connect < syn && syn < synack && synack < ack && ack < accept).toBe(true);
    // The guesses are gone: connect draws no arrow of its own, write no "hello" arrow.
    expect(rows.join('\n')).not.toMatch(/SYN, SYN\+ACK, ACK|"hello" ─▶/);
    const data = row(/─ PSH\+ACK len 5 ─▶$/);
    expect(data).toBeGreaterThan(row(/^write\(4, "hello"\) = 5$/));
    expect(row(/◀─ ACK ─+$/, data)).toBe(data + 1);
    expect(row(/─ FIN\+ACK ─▶$/)).toBeGreaterThan(row(/^close\(4\) = 0$/));
    expect(row(/◀─ RST\+ACK ─+$/)).toBe(rows.length - 2);
  });

  it('draws them in Mermaid too, and keeps guessing when there are no packet lines', () => {
    const m = renderDiagram(saved, 'mermaid');
    expect(m).toMatch(/Note over C: connect\(4, 127\.0\.0\.1:3400\) = 0\n {4}C-\)S: SYN\n {4}S-\)C: SYN\+ACK\n {4}C-\)S: ACK\n {4}Note over S: accept4/);
    const calls = saved.filter((l) => !l.startsWith('  ──'));
    expect(renderDiagram(calls)).toMatch(/connect\(4, 127\.0\.0\.1:3400\) = 0 +SYN, SYN\+ACK, ACK ─▶/);
  });
});
