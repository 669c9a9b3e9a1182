// Keepalive, proven on the wire and against a dead peer. Needs root, tcpdump, iptables and network
// namespaces: CI runs these (a missing tool there is a failure); elsewhere they skip with a reason.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { close, getsockname, read, setKeepAlive, write } from '../src/index';
import { canRun, hasCommand, isRoot, tcpPair } from './helpers';
import { TCPDUMP_BUFFER, startTcpdump } from './tcpdump';

const dist = path.join(__dirname, '..', 'dist');
const wire = canRun('tcpdump on lo needs root and tcpdump', isRoot && hasCommand('tcpdump'));
const netns = canRun('a dead peer needs root, unshare, ip and iptables', isRoot && hasCommand('unshare') && hasCommand('iptables') && hasCommand('ip'));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

interface Packet {
  t: number;
  from: number;
  to: number;
  flags: string;
  length: number;
}

/** Parses `tcpdump -tt -nn` lines: "1700000000.123456 IP 127.0.0.1.5000 > 127.0.0.1.6000: Flags [.], …, length 0". */
function parse(out: string): Packet[] {
  const packets: Packet[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+\.\d+) IP \S+?\.(\d+) > \S+?\.(\d+): Flags \[([^\]]*)\].*length (\d+)/.exec(line);
    if (m) packets.push({ t: Number(m[1]), from: Number(m[2]), to: Number(m[3]), flags: m[4], length: Number(m[5]) });
  }
  return packets;
}

describe.runIf(wire)('keepalive on the wire (tcpdump)', () => {
  it('sends probes 1 s, 2 s, 3 s after the last data with idle=1 interval=1, each answered', async () => {
    const { cli, conn, srv, port } = tcpPair();
    try {
      const dump = spawn('tcpdump', ['-i', 'lo', ...TCPDUMP_BUFFER, '-nn', '-tt', '-l', '-U', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(dump);
      let out = '';
      let err = '';
      dump.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      dump.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      for (let i = 0; i < 100 && !err.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain('listening on lo');

      const cliPort = getsockname(cli).port;
      setKeepAlive(cli, { idle: 1, interval: 1, count: 3 });
      write(cli, 'x'); // the last data: keepalive counts from here
      expect(read(conn, Buffer.alloc(1))).toBe(1);
      await new Promise((r) => setTimeout(r, 3600));
      dump.kill('SIGINT');
      await new Promise((r) => dump.on('exit', r));

      const packets = parse(out);
      const data = packets.find((p) => p.from === cliPort && p.length === 1);
      expect(data, out).toBeDefined();
      const probes = packets.filter((p) => p.from === cliPort && p.to === port && p.length === 0 && p.t > data!.t + 0.5);
      expect(probes.length, out).toBeGreaterThanOrEqual(3);
      const since = probes.slice(0, 3).map((p) => p.t - data!.t);
      // about 1 s, 2 s and 3 s after the last data (the kernel's timers have some slack)
      since.forEach((s, i) => expect(Math.abs(s - (i + 1)), `probe ${i + 1} at +${s.toFixed(3)} s`).toBeLessThan(0.35));
      for (const probe of probes.slice(0, 3)) {
        const answer = packets.find((p) => p.from === port && p.to === cliPort && p.t >= probe.t && p.t - probe.t < 0.2);
        expect(answer, `answer to the probe at ${probe.t}`).toBeDefined();
      }
    } finally {
      close(cli);
      close(conn);
      close(srv);
    }
  }, 20_000);
});

/** Runs `code` with the built package in a fresh network namespace (loopback up); returns its JSON. */
function inNetns(code: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-netns-'));
  const file = path.join(dir, 'script.js');
  writeFileSync(file, `
    const { execFileSync } = require('node:child_process');
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    const b = require(${JSON.stringify(path.join(dist, 'index.js'))});
    const p = require(${JSON.stringify(path.join(dist, 'promises.js'))});
    const done = (v) => { process.stdout.write(JSON.stringify(v)); process.exit(0); };
    const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
    b.listen(srv);
    const port = b.getsockname(srv).port;
    const cli = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
    b.connect(cli, { family: b.AF_INET, address: '127.0.0.1', port });
    const { fd: conn } = b.accept(srv);
    // From now on every packet the server side sends is lost: the peer has "vanished".
    const vanish = () => execFileSync('iptables', ['-A', 'INPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP']);
    ${code}
    setTimeout(() => done({ error: 'no outcome in 15 s' }), 15000);
  `);
  const child = spawn('unshare', ['-n', process.execPath, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    child.on('exit', (codeOrNull) => {
      rmSync(dir, { recursive: true, force: true });
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`netns script exited ${codeOrNull}: ${out}`));
      }
    });
  });
}

describe.runIf(netns)('a dead peer (network namespace + iptables)', () => {
  it('fails a pending read with ETIMEDOUT after idle + interval × count (1 + 1 × 3 s), probes counted in TCP_INFO', async () => {
    const r = await inNetns(`
      b.setKeepAlive(cli, { idle: 1, interval: 1, count: 3 });
      b.write(cli, 'x'); b.read(conn, Buffer.alloc(1));
      vanish();
      const t0 = Date.now();
      let probes = 0;
      setInterval(() => { try { probes = Math.max(probes, b.getsockopt(cli, b.IPPROTO_TCP, b.TCP_INFO).probes); } catch {} }, 50);
      p.read(cli, Buffer.alloc(16)).then((n) => done({ n }), (e) => done({ code: e.code, syscall: e.syscall, elapsed: Date.now() - t0, probes }));
    `);
    expect(r).toMatchObject({ code: 'ETIMEDOUT', syscall: 'read' });
    expect(r.elapsed as number).toBeGreaterThan(3000);
    expect(r.elapsed as number).toBeLessThan(6500);
    expect(r.probes as number).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it('fails with ETIMEDOUT after TCP_USER_TIMEOUT while sent data stays unacknowledged', async () => {
    const r = await inNetns(`
      b.setKeepAlive(cli, { enable: false, userTimeout: 1500 });
      vanish();
      const t0 = Date.now();
      b.write(cli, 'this data will never be acknowledged');
      p.read(cli, Buffer.alloc(16)).then((n) => done({ n }), (e) => done({ code: e.code, elapsed: Date.now() - t0 }));
    `);
    expect(r).toMatchObject({ code: 'ETIMEDOUT' });
    expect(r.elapsed as number).toBeGreaterThan(1000);
    expect(r.elapsed as number).toBeLessThan(5000);
  }, 20_000);
});

// ---- The keepalive lab (examples/keepalive-lab.ts) ---------------------------------------------

const lab = path.join(dist, 'examples', 'keepalive-lab.js');
const labNeeds = canRun('the keepalive lab\'s dead peer needs root, unshare, nsenter, ip, iptables, and tcpdump as the witness',
  isRoot && hasCommand('unshare') && hasCommand('nsenter') && hasCommand('ip') && hasCommand('iptables') && hasCommand('tcpdump'));
const withoutRaw = canRun('dropping CAP_NET_RAW needs root and setpriv', isRoot && hasCommand('setpriv') && hasCommand('unshare') && hasCommand('iptables') && hasCommand('ip'));

/** Where `cmd` is on the test's PATH. */
function which(cmd: string): string {
  return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
}

/** Runs the lab (node ARGS…) to its end, at most `ms`; its stdout and exit code. */
function runLab(cmd: string, args: string[], env: NodeJS.ProcessEnv, ms: number): Promise<{ out: string; code: number | null }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(killer);
    resolve({ out, code });
  }));
}

/** A packet as the lab printed it, or as tcpdump -nn -S -tt printed it, with sequence numbers relative to each side's SYN. */
interface Seen {
  conn: number; // the client's port
  dir: 'client → server' | 'server → client';
  flags: string;
  seq?: number;
  ack?: number;
  length: number;
  t: number; // the lab: seconds since its base; tcpdump: seconds since the Epoch
}

/** The lab's packet lines, each under the last "client 127.0.0.1:P → server 127.0.0.1:Q" before it; and the server's port. */
function labPackets(out: string): { packets: Seen[]; server: number } {
  const packets: Seen[] = [];
  let conn = 0;
  let server = 0;
  for (const line of out.split('\n')) {
    const c = /^client 127\.0\.0\.1:(\d+) → server 127\.0\.0\.1:(\d+)$/.exec(line);
    if (c) [conn, server] = [Number(c[1]), Number(c[2])];
    const m = /^\s+\+(\d+\.\d+) s {2}(client → server|server → client) {2}Flags \[([^\]]+)\], seq (\d+)(?::\d+)?(?:, ack (\d+))?, length (\d+)/.exec(line);
    if (m) {
      packets.push({
        conn, dir: m[2] as Seen['dir'], flags: m[3], seq: Number(m[4]), ack: m[5] === undefined ? undefined : Number(m[5]), length: Number(m[6]), t: Number(m[1]),
      });
    }
  }
  return { packets, server };
}

/**
 * tcpdump -r FILE -nn -S -tt -x: absolute numbers made relative to each side's SYN, as the lab prints
 * them (and tcpdump without -S). tcpdump prints seq only for data, SYN, FIN and RST; for the others (a
 * keepalive probe's is the point) it is read from the bytes -x dumps (the IP header on: seq is the
 * TCP header's bytes 4..7).
 */
function tcpdumpPackets(file: string, server: number): Seen[] {
  const text = execFileSync('tcpdump', ['-r', file, '-nn', '-S', '-tt', '-x'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: { line: string; bytes: number[] }[] = [];
  for (const line of text.split('\n')) {
    const hex = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (hex) lines.at(-1)?.bytes.push(...hex[1].trim().split(/\s+/).flatMap((w) => (w.match(/../g) ?? []).map((b) => parseInt(b, 16))));
    else if (line) lines.push({ line, bytes: [] });
  }
  const isn = new Map<string, number>(); // "conn side" → the ISN of that side
  const packets: Seen[] = [];
  for (const { line, bytes } of lines) {
    const m = /^(\d+\.\d+) IP 127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+): Flags \[([^\]]+)\](?:, seq (\d+)(?::\d+)?)?(?:, ack (\d+))?, win \d+(?:, options \[[^\]]*\])?, length (\d+)/.exec(line);
    if (!m) continue;
    const tcp = (bytes[0] & 0xf) * 4;
    const seq = bytes.slice(tcp + 4, tcp + 8).reduce((n, b) => n * 256 + b, 0);
    if (m[5] !== undefined) expect(seq, line).toBe(Number(m[5]));
    const [from, to] = [Number(m[2]), Number(m[3])];
    const fromServer = from === server;
    const conn = fromServer ? to : from;
    const me = `${conn} ${fromServer ? 'server' : 'client'}`;
    const peer = `${conn} ${fromServer ? 'client' : 'server'}`;
    if (m[4].includes('S')) isn.set(me, seq);
    const rel = (n: number, key: string) => (n - (isn.get(key) ?? 0)) >>> 0;
    packets.push({
      conn, dir: fromServer ? 'server → client' : 'client → server', flags: m[4], seq: rel(seq, me),
      ack: m[6] === undefined ? undefined : rel(Number(m[6]), peer), length: Number(m[7]), t: Number(m[1]),
    });
  }
  return packets;
}

/** The lab's output from `from` (a heading's words) to the next numbered heading. */
function part(out: string, from: string): string {
  const i = out.indexOf(from);
  if (i < 0) return '';
  const rest = out.slice(i + from.length);
  const next = rest.search(/\n\d\. /);
  return next < 0 ? rest : rest.slice(0, next);
}

describe.runIf(labNeeds)('the keepalive lab (npm run keepalive-lab)', () => {
  it('runs with no tcpdump on its PATH, and what it captured is what tcpdump saw, packet for packet: answered probes, unanswered ones, ETIMEDOUT, then TCP_USER_TIMEOUT\'s retransmissions', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-klab-'));
    try {
      // The lab's PATH: ip and iptables, nothing else — no tcpdump.
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      for (const cmd of ['ip', 'iptables']) symlinkSync(which(cmd), path.join(bin, cmd));
      expect(spawnSync('/bin/sh', ['-c', 'command -v tcpdump'], { env: { PATH: bin } }).status).not.toBe(0);

      // A network namespace held by a sleeping process (it dies with it): the lab and the witness both run in it.
      const holder = spawn(which('unshare'), ['-n', 'sleep', '60'], { stdio: 'ignore' });
      children.push(holder);
      const ours = readlinkSync('/proc/self/ns/net');
      for (let i = 0; i < 200; i++) {
        try {
          if (readlinkSync(`/proc/${holder.pid}/ns/net`) !== ours) break;
        } catch {
          // not yet started
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(readlinkSync(`/proc/${holder.pid}/ns/net`)).not.toBe(ours);
      execFileSync('nsenter', ['-t', String(holder.pid), '-n', 'ip', 'link', 'set', 'lo', 'up']);
      const dump = await startTcpdump('tcp', dir, { netns: holder.pid });
      const svg = path.join(dir, 'run.svg');
      children.push(dump.child);

      const { out, code } = await runLab(which('nsenter'), ['-t', String(holder.pid), '-n', process.execPath, lab, '--idle', '1', '--interval', '1', '--count', '2', '--user-timeout', '2000', '--svg', svg],
        { ...process.env, PATH: bin, KEEPALIVE_LAB_NETNS: '1' }, 40_000);
      await dump.stop();
      expect(code, out).toBe(0);
      expect(out).toContain('capturing on lo with the library\'s packet socket');

      // Packet for packet: the same direction, flags, sequence and acknowledgment numbers, lengths, in the same order.
      const { packets: mine, server } = labPackets(out);
      const theirs = tcpdumpPackets(dump.file, server);
      expect(theirs.length, out).toBeGreaterThan(20);
      const strip = ({ conn, dir, flags, seq, ack, length }: Seen) => ({ conn, dir, flags, seq, ack, length });
      expect(mine.map(strip), out).toEqual(theirs.map(strip));

      // Part 1, from tcpdump's clock: probes about 1 s, 2 s, 3 s after the data, each answered.
      const conn1 = theirs[0].conn;
      const first = theirs.filter((p) => p.conn === conn1);
      const data1 = first.find((p) => p.dir === 'client → server' && p.length === 1)!;
      const data2 = first.filter((p) => p.dir === 'client → server' && p.length === 1)[1];
      expect(data2, out).toBeDefined();
      const probes1 = first.filter((p) => p.t > data1.t && p.t < data2.t && p.dir === 'client → server' && p.length === 0 && p.flags === '.');
      expect(probes1.length, out).toBe(3);
      probes1.forEach((p, i) => expect(Math.abs(p.t - data1.t - (i + 1)), `probe ${i + 1}`).toBeLessThan(0.35));
      for (const probe of probes1) {
        expect(first.some((p) => p.dir === 'server → client' && p.t >= probe.t && p.t - probe.t < 0.2), out).toBe(true);
        expect(probe.seq, 'a probe carries the last acknowledged byte\'s number').toBe(1);
      }
      const one = part(out, '1. A live peer');
      expect(one.match(/keepalive probe/g)?.length, out).toBe(3);
      expect(one.match(/ACK of the probe: the peer is alive/g)?.length, out).toBe(3);

      // Part 2: two probes 1 s apart, unanswered; TCP_INFO probes 1 then 2; RST and ETIMEDOUT in about 1 + 1 × 2 s.
      const probes2 = first.filter((p) => p.t > data2.t && p.dir === 'client → server' && p.length === 0 && p.flags === '.');
      expect(probes2.length, out).toBe(2);
      probes2.forEach((p, i) => expect(Math.abs(p.t - data2.t - (i + 1)), `probe ${i + 1}`).toBeLessThan(0.35));
      const rst = first.find((p) => p.dir === 'client → server' && p.flags.includes('R'));
      expect(rst, out).toBeDefined();
      expect(rst!.t - data2.t).toBeGreaterThan(2.5);
      expect(rst!.t - data2.t).toBeLessThan(4);
      const two = part(out, '2. The peer vanishes');
      expect(two.match(/ACK of the probe, dropped by iptables/g)?.length, out).toBe(2);
      const probesSeen = [...two.matchAll(/TCP_INFO probes (\d+), .*\(ESTABLISHED\)/g)].map((m) => Number(m[1]));
      expect(probesSeen, out).toEqual([0, 1, 2]);
      const m2 = /read\(\) failed with ETIMEDOUT after ([\d.]+) s \(idle \+ interval × count = 1 \+ 1 × 2 = 3 s\)/.exec(two);
      expect(m2, out).not.toBeNull();
      expect(Number(m2![1])).toBeGreaterThan(2.5);
      expect(Number(m2![1])).toBeLessThan(4.5);

      // Part 3: the data sent again and again, each wait longer (RTO backoff); SIOCOUTQ stays at its
      // 18 bytes, TCP_INFO backoff counts; ETIMEDOUT after about the 2 s of TCP_USER_TIMEOUT.
      const third = theirs.filter((p) => p.conn !== conn1);
      const sends = third.filter((p) => p.dir === 'client → server' && p.length === 18);
      expect(sends.length, out).toBeGreaterThanOrEqual(4);
      expect(new Set(sends.map((p) => p.seq)), 'the same bytes each time').toEqual(new Set([1]));
      const gaps = sends.slice(1).map((p, i) => p.t - sends[i].t);
      // Each retransmission timeout twice the last: the last two waits (the first resend may be a tail
      // loss probe, RFC 8985, about as long as the first timeout).
      const waits = gaps.map((g) => g.toFixed(3)).join(', ');
      expect(gaps.at(-1)!, waits).toBeGreaterThan(gaps.at(-2)! * 1.6);
      expect(gaps.at(-2)!, waits).toBeGreaterThan(gaps.at(-3)! * 1.6);
      const three = part(out, '3. TCP_USER_TIMEOUT=2000 ms');
      expect(three.match(/retransmission \d+/g)?.length, out).toBe(sends.length - 1);
      // Samples while the connection lives: once the user timeout closes it, the kernel's backoff is 0 again.
      const queued = [...three.matchAll(/SIOCOUTQ (\d+), TCP_INFO probes \d+, backoff (\d+), retransmits \d+ \(ESTABLISHED\)/g)].filter((m) => m[1] === '18').map((m) => Number(m[2]));
      const backoffs = queued.filter((b, i) => b !== queued[i - 1]);
      expect(backoffs, out).toEqual(backoffs.map((_, i) => i));
      expect(backoffs.length, out).toBeGreaterThanOrEqual(3);
      const m3 = /read\(\) failed with ETIMEDOUT after ([\d.]+) s \(TCP_USER_TIMEOUT = 2\.00 s, counted from the first retransmission timeout\)/.exec(three);
      expect(m3, out).not.toBeNull();
      expect(Number(m3![1])).toBeGreaterThan(1.8);
      expect(Number(m3![1])).toBeLessThan(4);

      // --svg: the run's picture (the library's trace, wire on): every packet tcpdump saw drawn as an
      // arrow, the five probes named, both ETIMEDOUTs as failed calls, none of the lab's own machinery.
      const picture = readFileSync(svg, 'utf8');
      expect(picture).toMatch(/^<\?xml[^>]*>\s*<svg /);
      expect(picture.match(/<g class="packet[ "]/g)?.length, picture).toBe(theirs.length);
      expect(picture.match(/<g class="packet keepalive keepalive-probe"/g)?.length).toBe(probes1.length + probes2.length);
      expect(picture.match(/<title>read\(\d+, [^<]*= -1 ETIMEDOUT/g)?.length).toBe(2);
      expect(picture).not.toMatch(/AF_PACKET|TCP_INFO/);
      expect(out).toContain(`the run's picture: ${svg}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.runIf(canRun('the lab\'s capture needs root', isRoot))('the keepalive lab without unshare and iptables', () => {
  it('runs part 1 with its packets on this host\'s loopback, and says that and why parts 2 and 3 cannot run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-klab-'));
    try {
      // PATH: an empty directory, so no unshare, ip, iptables (nor tcpdump).
      const { out, code } = await runLab(process.execPath, [lab, '--idle', '1', '--interval', '1', '--count', '1'], { ...process.env, PATH: dir }, 20_000);
      expect(code, out).toBe(0);
      expect(out).toContain('capturing on lo with the library\'s packet socket');
      expect(part(out, '1. A live peer').match(/keepalive probe/g)?.length ?? 0, out).toBeGreaterThanOrEqual(2);
      expect(out).toMatch(/2\. and 3\. \(a vanished peer: keepalive, then TCP_USER_TIMEOUT\) cannot run here: unshare, ip, iptables are not on PATH/);
      expect(out).not.toContain('2. The peer vanishes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe.runIf(withoutRaw)('the keepalive lab without CAP_NET_RAW', () => {
  it('still detects the dead peer and the user timeout through TCP_INFO, and says why there are no packets (in its --svg picture too)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-klab-'));
    const svg = path.join(dir, 'run.svg');
    const { out, code } = await runLab(which('setpriv'), ['--bounding-set=-net_raw', '--inh-caps=-net_raw', '--', process.execPath, lab, '--idle', '1', '--interval', '1', '--count', '2', '--user-timeout', '1000', '--svg', svg],
      process.env, 40_000);
    expect(code, out).toBe(0);
    let picture: string;
    try {
      picture = readFileSync(svg, 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(picture).toContain('no packets (capture needs CAP_NET_RAW');
    expect(picture).not.toMatch(/<g class="packet/);
    expect(picture.match(/<title>read\(\d+, [^<]*= -1 ETIMEDOUT/g)?.length).toBe(2);
    expect(code, out).toBe(0);
    expect(out).toMatch(/no packets: the capture needs CAP_NET_RAW .*failed: EPERM/);
    expect(out).not.toMatch(/Flags \[/);
    // Part 1: the answers to the probes, seen as TCP_INFO's last_ack_recv going back to 0.
    expect(part(out, '1. A live peer').match(/an ACK came in/g)?.length ?? 0, out).toBeGreaterThanOrEqual(3);
    const two = part(out, '2. The peer vanishes');
    expect([...two.matchAll(/TCP_INFO probes (\d+), .*\(ESTABLISHED\)/g)].map((m) => Number(m[1])), out).toEqual([0, 1, 2]);
    expect(two, out).toMatch(/read\(\) failed with ETIMEDOUT after/);
    const three = part(out, '3. TCP_USER_TIMEOUT=1000 ms');
    expect(three, out).toMatch(/SIOCOUTQ 18, TCP_INFO probes 0, backoff [1-9]/);
    expect(three, out).toMatch(/read\(\) failed with ETIMEDOUT after/);
  }, 60_000);
});
