// Keepalive, proven on the wire and against a dead peer. Needs root, tcpdump, iptables and network
// namespaces: CI runs these (a missing tool there is a failure); elsewhere they skip with a reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { close, getsockname, read, setKeepAlive, write } from '../src/index';
import { canRun, hasCommand, isRoot, tcpPair } from './helpers';

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
      const dump = spawn('tcpdump', ['-i', 'lo', '-nn', '-tt', '-l', '-U', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
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

describe.runIf(wire && netns)('the keepalive lab (npm run keepalive-lab)', () => {
  it('shows answered probes, then unanswered ones, then ETIMEDOUT after idle + interval × count', async () => {
    const lab = spawn(process.execPath, [path.join(dist, 'examples', 'keepalive-lab.js'), '--idle', '1', '--interval', '1', '--count', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(lab);
    let out = '';
    lab.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await new Promise((resolve) => lab.on('exit', (...a) => resolve(a)))) as [number];
    expect(code, out).toBe(0);
    const [live, dead] = out.split('2. The peer vanishes');
    expect(live.match(/keepalive probe/g)?.length ?? 0, out).toBeGreaterThanOrEqual(2);
    expect(live).toMatch(/ACK: the peer is alive/);
    expect(dead.match(/keepalive probe/g)?.length ?? 0, out).toBe(2);
    const m = /read\(\) failed with ETIMEDOUT after ([\d.]+) s \(idle \+ interval × count = 1 \+ 1 × 2 = 3 s\)/.exec(dead);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(2.5);
    expect(Number(m![1])).toBeLessThan(5);
  }, 30_000);
});
