// The course's other programs (examples/): each test runs one as a separate process over loopback and
// talks to it with at least one peer not written with this library — Python's socket module, a C
// program compiled here with cc, and the kernel itself (ping), with tcpdump and ss as witnesses.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AF_INET, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, bind, close, getsockname, recvfrom, setsockopt, socket,
} from '../src/index';
import { canRun, hasCommand, isRoot, udpSocket } from './helpers';
import { TCPDUMP_BUFFER } from './tcpdump';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const example = (name: string) => path.join(root, 'dist', 'examples', `${name}.js`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Every process a test starts is killed after it, whatever happened.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); running vitest alone needs `npm run build:ts`.
  if (!existsSync(example('udp-server'))) throw new Error('dist/examples missing: run `npm run build:ts` (npm test does)');
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts a process with piped stdio, collecting its output; killed after the test. */
function start(cmd: string, args: string[], options: { uid?: number; gid?: number } = {}): Proc {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  children.push(child);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Starts an example and waits for `pattern` on its stdout or stderr; returns the first capture group. */
async function startExample(name: string, args: string[], pattern: RegExp): Promise<Proc & { match: string }> {
  const p = start(process.execPath, [example(name), ...args]);
  let m: RegExpExecArray | null = null;
  await waitFor(() => (m = pattern.exec(p.out()) ?? pattern.exec(p.err())) !== null || p.child.exitCode !== null, `${name} to print ${pattern}`);
  if (m === null) throw new Error(`${name} exited early: ${p.out()} ${p.err()}`);
  return { ...p, match: (m as RegExpExecArray)[1] };
}

/** Waits for a process to exit, at most `ms`, and returns its exit code. */
async function exitCode(p: Proc, ms = 10_000): Promise<number | null> {
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    const [code] = await p.exited;
    return code;
  } finally {
    clearTimeout(timer);
  }
}

const python = (script: string, args: string[] = [], timeout = 15_000) =>
  run('python3', ['-c', script, ...args], { timeout });
const node = (name: string, args: string[], options: { input?: string; timeout?: number } = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(process.execPath, [example(name), ...args], { timeout: options.timeout ?? 15_000 }, (e, stdout, stderr) => {
      if (e && typeof (e as { code?: unknown }).code !== 'number') reject(e);
      else resolve({ code: e ? ((e as { code: number }).code) : 0, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });

// A C peer, compiled once: `peer tcp|udp PORT MESSAGE` sends MESSAGE to 127.0.0.1:PORT and prints the
// answer (TCP: after shutdown(SHUT_WR), everything until end of file; UDP: one datagram, then the
// port it came from).
const PEER_C = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: peer tcp|udp PORT MESSAGE\n"); return 2; }
    int tcp = strcmp(argv[1], "tcp") == 0;
    int s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (s < 0) { perror("socket"); return 1; }
    struct timeval tv = { 5, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    size_t len = strlen(argv[3]);
    char buf[1024];
    ssize_t n;
    if (tcp) {
        if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); return 1; }
        if (write(s, argv[3], len) != (ssize_t)len) { perror("write"); return 1; }
        shutdown(s, SHUT_WR);
        while ((n = read(s, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
        if (n < 0) { perror("read"); return 1; }
    } else {
        if (sendto(s, argv[3], len, 0, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("sendto"); return 1; }
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) { perror("recvfrom"); return 1; }
        fwrite(buf, 1, (size_t)n, stdout);
        printf("\nfrom port %d\n", ntohs(from.sin_port));
    }
    close(s);
    return 0;
}
`;
const withCc = canRun('C peers need a C compiler (cc)', hasCommand('cc'));
let peerDir: string | undefined;
let peer = '';
beforeAll(() => {
  if (!withCc) return;
  peerDir = mkdtempSync(path.join(tmpdir(), 'bsock-peer-'));
  writeFileSync(path.join(peerDir, 'peer.c'), PEER_C);
  peer = path.join(peerDir, 'peer');
  execFileSync('cc', ['-Wall', '-Werror', '-o', peer, path.join(peerDir, 'peer.c')], { stdio: 'inherit', timeout: 60_000 });
}, 60_000);
afterAll(() => {
  if (peerDir) rmSync(peerDir, { recursive: true, force: true });
});

// ─── UDP question/answer ────────────────────────────────────────────────────────────────────────────

describe('examples/udp-server and udp-client', () => {
  it('answers each question to its sender: our client, a Python client (even an empty datagram), a C client', async () => {
    const n = withCc ? 4 : 3;
    const srv = await startExample('udp-server', ['0', '--bind', '127.0.0.1', '--count', String(n)], /listening on port (\d+)/);
    const port = srv.match;

    const ours = await node('udp-client', ['127.0.0.1', port, 'quelle', 'heure']);
    expect(ours).toMatchObject({ code: 0, stdout: 'QUELLE HEURE\n' });

    const py = await python(`
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
port = int(sys.argv[1])
for q in (b"bonjour", b""):
    s.sendto(q, ("127.0.0.1", port))
    data, addr = s.recvfrom(512)
    print(repr(data), addr[1] == port)
`, [port]);
    expect(py.stdout).toBe("b'BONJOUR' True\nb'' True\n");

    if (withCc) {
      const c = await run(peer, ['udp', port, 'salut'], { timeout: 10_000 });
      expect(c.stdout).toBe(`SALUT\nfrom port ${port}\n`);
    }
    expect(await exitCode(srv)).toBe(0);
    expect(srv.err()).toMatch(/question from 127\.0\.0\.1:\d+: "quelle heure"/);
  });

  it('the client takes the answer of a Python server and ignores a datagram from anyone else', async () => {
    // The Python server first has an intruder (another socket, another port) write to the client,
    // then answers from the port the client asked.
    const srv = start('python3', ['-c', `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(10)
print(s.getsockname()[1], flush=True)
q, addr = s.recvfrom(512)
intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
intruder.sendto(b"not the answer", addr)
s.sendto(b"python says: " + q, addr)
`]);
    await waitFor(() => /^\d+\n/.test(srv.out()), 'the Python server');
    const r = await node('udp-client', ['127.0.0.1', srv.out().trim(), 'ping?']);
    expect(r).toMatchObject({ code: 0, stdout: 'python says: ping?\n' });
    expect(r.stderr).toMatch(/ignoring a datagram from 127\.0\.0\.1:\d+/);
    expect(await exitCode(srv)).toBe(0);
  });

  it('the client asks three times, then gives up with exit code 1 when nobody answers', async () => {
    const { fd, port } = udpSocket(); // bound, never answers
    try {
      const r = await node('udp-client', ['127.0.0.1', String(port), 'allo'], { timeout: 10_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('try 3 of 3');
      expect(r.stderr).toContain(`no answer from 127.0.0.1:${port}`);
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, 1000);
      const buf = Buffer.alloc(64);
      for (let i = 0; i < 3; i++) expect(buf.toString('utf8', 0, recvfrom(fd, buf).n)).toBe('allo');
    } finally {
      close(fd);
    }
  });
});

// ─── UDP stateful server ────────────────────────────────────────────────────────────────────────────

describe('examples/udp-stateful-server and udp-stateful-client', () => {
  it('moves a Python client to a new port, keeps its running total there, and closes that port after BYE', async () => {
    const srv = await startExample('udp-stateful-server', ['0', '--bind', '127.0.0.1', '--count', '1'], /listening on port (\d+)/);
    const py = await python(`
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"HELLO", ("127.0.0.1", port))
ok, dialogue = s.recvfrom(512)
print(ok.decode(), dialogue[1] != port)
for x in (b"12", b"30", b"x", b"BYE"):
    s.sendto(x, dialogue)
    data, addr = s.recvfrom(512)
    assert addr == dialogue, addr
    print(data.decode())
# The server closes the dialogue's socket right after BYE: from then on, a connected UDP socket
# hears the ICMP port unreachable (a datagram sent just before the close is silently dropped).
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(0.5)
c.connect(dialogue)
state = "still open"
for _ in range(10):
    try:
        c.send(b"anyone?")
        c.recv(512)
    except ConnectionRefusedError:
        state = "closed"
        break
    except socket.timeout:
        pass
print(state)
`, [srv.match]);
    expect(py.stdout).toBe('OK True\nTOTAL 12\nTOTAL 42\nERROR not a number: x\nBYE 42\nclosed\n');
    expect(await exitCode(srv)).toBe(0);
    expect(srv.err()).toMatch(new RegExp(`moves from port ${srv.match} to port \\d+`));
  });

  it('our client learns the new port from recvfrom, against our server', async () => {
    const srv = await startExample('udp-stateful-server', ['0', '--bind', '127.0.0.1', '--count', '1'], /listening on port (\d+)/);
    const r = await node('udp-stateful-client', ['127.0.0.1', srv.match, '5', '7', '-2']);
    expect(r.code).toBe(0);
    const m = /^OK: the server answered from port (\d+) \(we wrote to port (\d+)\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![1]).not.toBe(m![2]);
    expect(m![2]).toBe(srv.match);
    expect(r.stdout).toContain('5 -> TOTAL 5\n7 -> TOTAL 12\n-2 -> TOTAL 10\nBYE -> BYE 10\n');
    expect(await exitCode(srv)).toBe(0);
  });

  it('our client follows a Python stateful server to its new port', async () => {
    const srv = start('python3', ['-c', `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(10)
print(s.getsockname()[1], flush=True)
hello, client = s.recvfrom(512)
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
d.bind(("127.0.0.1", 0))
d.settimeout(10)
d.sendto(b"OK", client)
total = 0
while True:
    m, a = d.recvfrom(512)
    if m == b"BYE":
        d.sendto(b"BYE %d" % total, a)
        break
    total += int(m)
    d.sendto(b"TOTAL %d" % total, a)
`]);
    await waitFor(() => /^\d+\n/.test(srv.out()), 'the Python server');
    const r = await node('udp-stateful-client', ['127.0.0.1', srv.out().trim(), '1', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 -> TOTAL 1\n2 -> TOTAL 3\nBYE -> BYE 3\n');
    expect(await exitCode(srv)).toBe(0);
  });

  it('abandons a silent dialogue after --timeout and serves the next client', async () => {
    const srv = await startExample('udp-stateful-server', ['0', '--bind', '127.0.0.1', '--count', '2', '--timeout', '1'], /listening on port (\d+)/);
    const py = await python(`
import socket, sys
port = int(sys.argv[1])
quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
quiet.settimeout(5)
quiet.sendto(b"HELLO", ("127.0.0.1", port))
print(quiet.recvfrom(512)[0].decode())       # then never says another word
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"HELLO", ("127.0.0.1", port))      # waits in the well-known socket's buffer meanwhile
ok, dialogue = s.recvfrom(512)
s.sendto(b"BYE", dialogue)
print(ok.decode(), s.recvfrom(512)[0].decode())
`, [srv.match]);
    expect(py.stdout).toBe('OK\nOK BYE 0\n');
    expect(await exitCode(srv)).toBe(0);
    expect(srv.err()).toContain('silent for 1 s: dialogue abandoned');
  });
});

// ─── The generic client and serveur ────────────────────────────────────────────────────────────────

describe('examples/client and serveur', () => {
  it('serveur PORT tcp echoes to a Python client, a C client and our client, one at a time', async () => {
    const n = withCc ? 3 : 2;
    const srv = await startExample('serveur', ['0', 'tcp', '--bind', '127.0.0.1', '--count', String(n)], /listening on port (\d+) \(tcp\)/);
    const py = await python(`
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"bonjour\\n" * 1000)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    c = s.recv(65536)
    if not c: break
    got += c
print(got == b"bonjour\\n" * 1000)
`, [srv.match]);
    expect(py.stdout).toBe('True\n');
    if (withCc) expect((await run(peer, ['tcp', srv.match, 'du C'], { timeout: 10_000 })).stdout).toBe('du C');

    const ours = await node('client', ['127.0.0.1', srv.match, 'tcp'], { input: 'salut\nça va ?\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'salut\nça va ?\n' });
    expect(ours.stderr).toContain(`connected to 127.0.0.1:${srv.match}`);
    expect(await exitCode(srv)).toBe(0);
    expect(srv.err().match(/ connected/g)).toHaveLength(n);
  });

  it('serveur PORT udp echoes datagrams from a Python client, a C client and our client', async () => {
    const n = withCc ? 4 : 3;
    const srv = await startExample('serveur', ['0', 'udp', '--bind', '127.0.0.1', '--count', String(n)], /listening on port (\d+) \(udp\)/);
    const py = await python(`
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"un datagramme", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(1024).decode())
`, [srv.match]);
    expect(py.stdout).toBe('un datagramme\n');
    if (withCc) expect((await run(peer, ['udp', srv.match, 'du C'], { timeout: 10_000 })).stdout).toBe(`du C\nfrom port ${srv.match}\n`);

    // Two lines, each its own datagram: the client reads stdin once per line when they come apart.
    const client = start(process.execPath, [example('client'), '127.0.0.1', srv.match, 'udp']);
    client.child.stdin!.write('one\n');
    await waitFor(() => client.out() === 'one\n', 'the first answer');
    client.child.stdin!.end('two\n');
    expect(await exitCode(client)).toBe(0);
    expect(client.out()).toBe('one\ntwo\n');
    expect(await exitCode(srv)).toBe(0);
  });

  it('client HOST PORT tcp resolves a name and talks to a Python echo server', async () => {
    const srv = start('python3', ['-c', `
import socket
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
l.settimeout(10)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.settimeout(10)
while True:
    d = c.recv(3)        # small reads: the echo comes back in pieces, and the client must wait for all of it
    if not d: break
    c.sendall(d)
c.close()
`]);
    await waitFor(() => /^\d+\n/.test(srv.out()), 'the Python server');
    const r = await node('client', ['localhost', srv.out().trim(), 'tcp'], { input: 'a line longer than three bytes\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'a line longer than three bytes\n' });
    expect(await exitCode(srv)).toBe(0);
  });

  it('client reports a refused connection as perror does, and exits 1', async () => {
    // Bound but not listening: the port is ours, and the kernel answers a SYN to it with a RST.
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    try {
      bind(fd, { family: AF_INET, address: '127.0.0.1', port: 0 });
      const { port } = getsockname(fd);
      const r = await node('client', ['127.0.0.1', String(port), 'tcp']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`connect: Connection refused (connect ECONNREFUSED 127.0.0.1:${port})`);
    } finally {
      close(fd);
    }
  });

  it('both refuse bad arguments with a usage line and exit code 2', async () => {
    expect(await node('client', ['127.0.0.1', '9', 'sctp'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: client HOST PORT tcp|udp') });
    expect(await node('serveur', ['x', 'tcp'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: serveur PORT tcp|udp') });
  });
});

// ─── Keepalive ──────────────────────────────────────────────────────────────────────────────────────

const KEEPALIVE_CLIENT = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
sys.stdin.readline()        # silent until the test says so
s.sendall(b"hi")
sys.stdin.readline()
s.close()
`;

describe('examples/keepalive-server', () => {
  it('turns keepalive on with the timers asked for, and the kernel (ss) runs the keepalive timer', async () => {
    const srv = await startExample('keepalive-server', ['0', '--bind', '127.0.0.1', '--idle', '2', '--interval', '3', '--probes', '4'],
      /listening on port (\d+)/);
    expect(srv.out()).toContain(`watch it with: tcpdump -n -i lo port ${srv.match}`);
    const cli = start('python3', ['-c', KEEPALIVE_CLIENT, srv.match]);
    await waitFor(() => srv.out().includes('keepalive on'), 'the server to accept');
    expect(srv.out()).toMatch(/client 127\.0\.0\.1:\d+ connected; keepalive on: idle 2 s, interval 3 s, 4 probes/);

    if (canRun('ss (iproute2) shows socket timers', hasCommand('ss'))) {
      const ss = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${srv.match} )`], { encoding: 'utf8', timeout: 5000 });
      expect(ss).toMatch(/timer:\(keepalive,/);
    }

    cli.child.stdin!.write('\n'); // data: the server prints it and keeps waiting
    await waitFor(() => srv.out().includes('client sent 2 byte(s)'), 'the data');
    cli.child.stdin!.end('\n'); // the client leaves: read returns 0, the server exits
    expect(await exitCode(cli)).toBe(0);
    expect(await exitCode(srv)).toBe(0);
    expect(srv.out()).toContain('the client closed the connection');
  });

  it.runIf(canRun('tcpdump on lo needs root and tcpdump', isRoot && hasCommand('tcpdump')))(
    'sends a probe each second once the connection has been idle a second, and the Python peer answers each',
    async () => {
      const srv = await startExample('keepalive-server', ['0', '--bind', '127.0.0.1'], /listening on port (\d+)/);
      const port = srv.match;
      const dump = start('tcpdump', ['-n', '-l', '-U', '-i', 'lo', ...TCPDUMP_BUFFER, `tcp port ${port}`]);
      await waitFor(() => dump.err().includes('listening on'), 'tcpdump to start');
      const cli = start('python3', ['-c', KEEPALIVE_CLIENT, port]);
      await waitFor(() => srv.out().includes('keepalive on: idle 1 s, interval 1 s, 10 probes'), 'the server to accept');
      await sleep(3500); // silence: about three probes
      cli.child.stdin!.end('\n\n');
      expect(await exitCode(srv)).toBe(0);
      await sleep(300);
      dump.child.kill('SIGINT');
      await exitCode(dump, 5000);

      // Probes: the server's zero-length ACKs before any data (the handshake's SYN-ACK has Flags [S.]).
      const lines = dump.out().split('\n');
      const firstData = lines.findIndex((l) => /length [1-9]/.test(l));
      const before = lines.slice(0, firstData < 0 ? lines.length : firstData);
      const probes = before.filter((l) => l.includes(`127.0.0.1.${port} >`) && /Flags \[\.\].*length 0$/.test(l));
      const answers = before.filter((l) => l.includes(`> 127.0.0.1.${port}:`) && /Flags \[\.\].*length 0$/.test(l));
      expect(probes.length).toBeGreaterThanOrEqual(2);
      expect(answers.length).toBeGreaterThanOrEqual(probes.length + 1); // + the handshake's last ACK
    },
    20_000,
  );
});

// ─── ping ───────────────────────────────────────────────────────────────────────────────────────────

describe('examples/ping', () => {
  it.runIf(canRun('raw sockets need root (CAP_NET_RAW)', isRoot))(
    'gets an echo reply from the kernel for each request, with a checksum tcpdump agrees with',
    async () => {
      const wire = canRun('tcpdump on lo needs root and tcpdump', hasCommand('tcpdump'));
      const dump = wire ? start('tcpdump', ['-vv', '-n', '-l', '-U', '-i', 'lo', ...TCPDUMP_BUFFER, 'icmp and host 127.0.0.1']) : undefined;
      if (dump) await waitFor(() => dump.err().includes('listening on'), 'tcpdump to start');

      const p = start(process.execPath, [example('ping'), '127.0.0.1', '-c', '3', '-i', '0.2']);
      expect(await exitCode(p)).toBe(0);
      const out = p.out();
      expect(out).toMatch(/^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.$/m);
      for (const seq of [1, 2, 3]) expect(out).toMatch(new RegExp(`^64 bytes from 127\\.0\\.0\\.1: icmp_seq=${seq} ttl=\\d+ time=[\\d.]+ ms$`, 'm'));
      expect(out).toContain('3 packets transmitted, 3 received, 0% packet loss');

      if (dump) {
        await sleep(300);
        dump.child.kill('SIGINT');
        await exitCode(dump, 5000);
        const id = p.child.pid! & 0xffff;
        // tcpdump -vv checks ICMP checksums and says "wrong icmp cksum" when one is bad.
        expect(dump.out()).toContain(`ICMP echo request, id ${id}, seq 1, length 64`);
        expect(dump.out()).toContain(`ICMP echo reply, id ${id}, seq 3, length 64`);
        expect(dump.out()).not.toMatch(/wrong icmp cksum/);
      }
    },
    20_000,
  );

  // As root, drop CAP_NET_RAW from the bounding set (setpriv) to see what a student without root sees.
  const unprivileged = isRoot ? canRun('dropping CAP_NET_RAW needs setpriv (util-linux)', hasCommand('setpriv')) : true;
  it.runIf(unprivileged)('without CAP_NET_RAW, explains that a raw socket needs root and exits 2', async () => {
    const p = isRoot
      ? start('setpriv', ['--bounding-set=-net_raw', process.execPath, example('ping'), '-c', '1'])
      : start(process.execPath, [example('ping'), '-c', '1']);
    expect(await exitCode(p)).toBe(2);
    expect(p.err()).toContain('ping: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): EPERM: a raw socket needs root (CAP_NET_RAW)');
  });
});

// ─── Partial reads and writes ───────────────────────────────────────────────────────────────────────

describe('examples/read-write-loops', () => {
  it('the hand-written loops reassemble a message a Python client sends in pieces, and echo 4 MB', async () => {
    const srv = await startExample('read-write-loops', ['server', '0', '--bind', '127.0.0.1', '--count', '1'], /listening on port (\d+)/);
    const cli = start('python3', ['-c', `
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
sys.stdin.readline()                 # the test says the server has accepted: it is blocked in read()
body = b"abcdefghij"
message = struct.pack("!I", len(body)) + body
for piece in (message[:2], message[2:7], message[7:]):   # the header itself comes in two pieces
    s.sendall(piece)
    time.sleep(0.2)
def recv_exactly(n):
    data = b""
    while len(data) < n:
        c = s.recv(n - len(data))
        if not c: raise EOFError
        data += c
    return data
print(recv_exactly(14) == message)
big = bytes(range(256)) * 16384      # 4 MiB
s.sendall(struct.pack("!I", len(big)) + big)
(n,) = struct.unpack("!I", recv_exactly(4))
print(n == len(big) and recv_exactly(n) == big)
s.close()
`, srv.match]);
    await waitFor(() => srv.err().includes('client 127.0.0.1'), 'the server to accept');
    cli.child.stdin!.end('go\n');
    expect(await exitCode(cli, 15_000)).toBe(0);
    expect(cli.out()).toBe('True\nTrue\n');
    expect(await exitCode(srv)).toBe(0);
    // Three pieces: the header needed two read() calls and the body at least one more.
    const m = /message 1: 10 bytes \(\+ the 4-byte header\) in (\d+) read\(\) calls/.exec(srv.err());
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(3);
    expect(srv.err()).toMatch(/message 2: 4194304 bytes/);
  });

  it('the client checks the echo of a Python server that answers in small pieces, with both kinds of loop', async () => {
    const srv = start('python3', ['-c', `
import socket, struct
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(2)
l.settimeout(15)
print(l.getsockname()[1], flush=True)
def recv_exactly(c, n):
    data = b""
    while len(data) < n:
        d = c.recv(n - len(data))
        if not d: return None
        data += d
    return data
for _ in range(2):
    c, _ = l.accept()
    c.settimeout(15)
    while True:
        h = recv_exactly(c, 4)
        if h is None: break
        body = recv_exactly(c, struct.unpack("!I", h)[0])
        reply = h + body
        for i in range(0, len(reply), 50000):    # the echo leaves in many small sends
            c.sendall(reply[i:i + 50000])
    c.close()
`]);
    await waitFor(() => /^\d+\n/.test(srv.out()), 'the Python server');
    const port = srv.out().trim();
    const hand = await node('read-write-loops', ['client', '127.0.0.1', port, '1', '300000']);
    expect(hand.code).toBe(0);
    expect(hand.stdout).toMatch(/^1 bytes \(\+ the 4-byte header\) sent in 2 write\(\) calls, echo received in \d+ read\(\) calls: identical$/m);
    const reads = Number(/300000 bytes .* echo received in (\d+) read\(\) calls: identical/.exec(hand.stdout)![1]);
    expect(reads).toBeGreaterThanOrEqual(2);
    const lib = await node('read-write-loops', ['client', '127.0.0.1', port, '300000', '--lib']);
    expect(lib).toMatchObject({ code: 0, stdout: '300000 bytes (+ the 4-byte header) sent with writeAll/readExactly: identical\n' });
    expect(await exitCode(srv)).toBe(0);
  });

  it('our client and our server agree, with the library loops on one side and the hand-written ones on the other', async () => {
    const srv = await startExample('read-write-loops', ['server', '0', '--bind', '127.0.0.1', '--count', '1', '--lib'], /listening on port (\d+)/);
    const r = await node('read-write-loops', ['client', '127.0.0.1', srv.match, '0', '5', '2000000']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/: identical$/gm)).toHaveLength(3);
    expect(await exitCode(srv)).toBe(0);
  });
});

// ─── Process per client, by handing the descriptor to a new program ────────────────────────────────

describe('examples/echo-spawn', () => {
  it('serves 4 Python clients at once, each from its own child process, then exits', async () => {
    const srv = await startExample('echo-spawn', ['0', '--bind', '127.0.0.1', '--count', '4'], /listening on port (\d+)/);
    // Answered in reverse order while all stay connected: an iterative server would never answer
    // client 3 while busy with client 0 (and this would time out).
    const py = await python(`
import socket, sys
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) for _ in range(4)]
for i, s in enumerate(socks):
    s.sendall(b"client %d" % i)
out = []
for s in reversed(socks):
    data = b""
    while len(data) < 8:
        data += s.recv(8 - len(data))
    out.append(data.decode())
for s in socks:
    s.shutdown(socket.SHUT_WR)
    assert s.recv(10) == b""      # end of file: the child closed, and the parent had already
print("|".join(out))
`, [srv.match]);
    expect(py.stdout.trim()).toBe('client 3|client 2|client 1|client 0');
    expect(await exitCode(srv)).toBe(0);
    const pids = new Set([...srv.err().matchAll(/child (\d+) serves its client on descriptor 3/g)].map((m) => Number(m[1])));
    expect(pids.size).toBe(4);
    expect(pids.has(srv.child.pid!)).toBe(false);
    expect(srv.err().match(/child \d+ exits/g)).toHaveLength(4);
    expect(srv.err()).toContain('all clients served');
  });

  it('with --no-parent-close the client sees no end of file after the child exits, until the parent goes', async () => {
    const srv = await startExample('echo-spawn', ['0', '--bind', '127.0.0.1', '--no-parent-close'], /listening on port (\d+)/);
    const cli = start('python3', ['-c', `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"hello")
s.shutdown(socket.SHUT_WR)
data = b""
while len(data) < 5:
    data += s.recv(5 - len(data))
print(data.decode(), flush=True)
sys.stdin.readline()                  # the test has seen the child exit
s.settimeout(1.0)
try:
    print("eof" if s.recv(10) == b"" else "data", flush=True)
except socket.timeout:
    print("no eof", flush=True)
sys.stdin.readline()                  # the test has stopped the parent
s.settimeout(5)
print("eof" if s.recv(10) == b"" else "data", flush=True)
`, srv.match]);
    await waitFor(() => /child \d+ exits/.test(srv.err()), 'the child to exit');
    cli.child.stdin!.write('\n');
    await waitFor(() => cli.out().split('\n').length >= 3, 'the client to wait for end of file');
    expect(cli.out()).toBe('hello\nno eof\n'); // the parent's copy keeps the connection open
    srv.child.kill('SIGTERM');
    expect(await exitCode(srv)).toBe(0);
    cli.child.stdin!.end('\n');
    expect(await exitCode(cli)).toBe(0);
    expect(cli.out()).toBe('hello\nno eof\neof\n'); // the last reference is gone: FIN
  });
});
