// The examples are programs people run: each test runs one as a separate process over loopback, and
// talks to it with a peer not written with this library (Python's socket module) as well as ours.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reverseOrderClients } from './helpers';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const example = (name: string) => path.join(root, 'dist', 'examples', `${name}.js`);
const CTIME_CRLF = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); running vitest alone needs `npm run build:ts`.
  if (!existsSync(example('tour'))) throw new Error('dist/examples missing: run `npm run build:ts` (npm test does)');
});

/** Starts the daytime server on a kernel-chosen port and returns it with the port it printed. */
async function startDaytime(count: number): Promise<{ child: ChildProcess; port: number; exited: Promise<unknown[]> }> {
  const child = spawn(process.execPath, [example('daytime-server'), '0', '--count', String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = once(child, 'exit'); // attached now: a fast child may exit before the test awaits it
  let out = '';
  child.stdout!.setEncoding('utf8');
  const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    for await (const chunk of child.stdout!) {
      out += chunk;
      const m = /listening on port (\d+)/.exec(out);
      if (m) return { child, port: Number(m[1]), exited };
    }
  } finally {
    clearTimeout(deadline);
  }
  throw new Error(`daytime server did not start: ${out}`);
}

describe('examples/daytime', () => {
  it('serves the date in ctime format to our client and to a Python client, then exits', async () => {
    const { port, exited } = await startDaytime(2);

    const ours = await run(process.execPath, [example('daytime-client'), '127.0.0.1', String(port)], { timeout: 10_000 });
    expect(ours.stdout).toMatch(CTIME_CRLF);
    const year = new Date().getFullYear();
    expect(ours.stdout).toContain(String(year));

    const py = await run('python3', ['-c', `
import socket, sys
s = socket.create_connection(("127.0.0.1", ${port}), timeout=10)
data = b""
while True:
    chunk = s.recv(1024)
    if not chunk: break
    data += chunk
sys.stdout.buffer.write(data)
`], { timeout: 10_000 });
    expect(py.stdout).toMatch(CTIME_CRLF);

    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('the client reports a refused connection as a SystemError and a non-zero exit', async () => {
    const { port, exited } = await startDaytime(1);
    await run(process.execPath, [example('daytime-client'), '127.0.0.1', String(port)], { timeout: 10_000 });
    await exited;
    const err = await run(process.execPath, [example('daytime-client'), '127.0.0.1', String(port)], { timeout: 10_000 })
      .then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err).not.toBeNull();
    expect(err!.code).not.toBe(0);
    expect(err!.stderr).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});

/** Starts an example and waits for `pattern` on its stdout or stderr; returns the first capture group. */
async function startExample(name: string, args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: string; exited: Promise<unknown[]>; out: () => string }> {
  const child = spawn(process.execPath, [example(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const exited = once(child, 'exit');
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 200; i++) {
    const m = pattern.exec(out) ?? pattern.exec(err);
    if (m) return { child, match: m[1], exited, out: () => out };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not print ${pattern}: ${out} ${err}`);
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('examples/echo-async', () => {
  it('echoes 1 MiB to each of 5 concurrent Python clients, then stops on SIGTERM', async () => {
    const { child, match: port, exited } = await startExample('echo-async', ['0'], /listening on port (\d+)/);
    const py = `
import socket, threading
s = socket.create_connection(("127.0.0.1", ${port}), timeout=20)
data = bytes(range(256)) * 4096
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
got = bytearray()
while True:
    c = s.recv(65536)
    if not c: break
    got += c
t.join()
print(len(got), got == data)
`;
    const results = await Promise.all(Array.from({ length: 5 }, () => run('python3', ['-c', py], { timeout: 30_000 })));
    for (const r of results) expect(r.stdout.trim()).toBe('1048576 True');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

describe('examples/echo-threads', () => {
  it('serves 4 clients at once, each from its own thread, then exits', async () => {
    const { match: port, exited } = await startExample('echo-threads', ['0', '--count', '4'], /listening on port (\d+)/);
    // Four clients at once, answered in reverse order while all stay connected: an iterative server,
    // busy with client 0 until its end of file, would never answer client 3 (and this would time out).
    const py = reverseOrderClients(port as string);
    const r = await run('python3', ['-c', py], { timeout: 30_000 });
    expect(r.stdout.trim()).toBe('client 3|client 2|client 1|client 0');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

describe('examples/talk', () => {
  it('carries lines both ways with select() on the keyboard and the socket', async () => {
    const left = await startExample('talk', ['listen', '0'], /waiting on port (\d+)/);
    const right = await startExample('talk', ['127.0.0.1', left.match], /(connected)/);
    right.child.stdin!.write('salut\n');
    await waitFor(() => left.out().includes('salut\n'), 'salut on the listening side');
    left.child.stdin!.write('bonjour\n');
    await waitFor(() => right.out().includes('bonjour\n'), 'bonjour on the connecting side');
    right.child.stdin!.end(); // Ctrl-D: the connecting side leaves, the other sees end of file
    const [[rcode], [lcode]] = await Promise.all([right.exited, left.exited]);
    expect(rcode).toBe(0);
    expect(lcode).toBe(0);
  });
});

describe('npm start (the tour)', () => {
  it('prints each call as strace would for a daytime and a UDP exchange, then the sequence picture', async () => {
    const { stdout } = await run(process.execPath, [example('tour')], { timeout: 15_000 });
    expect(stdout).toMatch(/^socket\(AF_INET, SOCK_STREAM\|SOCK_CLOEXEC, IPPROTO_IP\) = \d+$/m);
    expect(stdout).toMatch(/^accept4\(\d+, \{sa_family=AF_INET, sin_port=htons\(\d+\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, \[128 => 16\], SOCK_CLOEXEC\) = \d+$/m);
    // The daytime line: ctime's 24 characters and CRLF, written by the server and read by the client.
    expect(stdout).toMatch(/^write\(\d+, "\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\\r\\n", 26\)\s+= 26$/m);
    expect(stdout).toMatch(/^read\(\d+, "\w{3} \w{3} .*\\r\\n", 64\)\s+= 26$/m);
    expect(stdout).toMatch(/^read\(\d+, "", 64\)\s+= 0$/m);
    expect(stdout).toMatch(/= -1 ECONNREFUSED \(Connection refused\)$/m);
    expect(stdout).toMatch(/^recvfrom\(\d+, "quelle heure \?", 64, 0, \{sa_family=AF_INET/m);
    expect(stdout).toMatch(/the client read "il est \d\d:\d\d:\d\d"/);
    expect(stdout).toMatch(/^client\s+server$/m);
    expect(stdout).toMatch(/connect\(\d+, 127\.0\.0\.1:\d+\) = 0 +SYN, SYN\+ACK, ACK ─▶/);
    // The step that explains the receive buffer prints the call it explains.
    expect(stdout).toMatch(/^getsockopt\(\d+, SOL_SOCKET, SO_RCVBUF, \[\d+\], \[4\]\) = 0\n {4}its receive buffer: \d+ bytes/m);
    // The picture cuts no result off: a call too long for its column goes on below.
    const picture = stdout.slice(stdout.search(/^client\s+server$/m));
    expect(picture).toMatch(/connect\(\d+, 127\.0\.0\.1:\d+\) = -1\s+─+ SYN … RST ─▶\n\s+ECONNREFUSED\n/);
    expect(picture).toMatch(/write\(\d+, "\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\\r\\n"\) =\s+26\n/);
    for (const line of picture.split('\n')) expect(line).not.toMatch(/= $/);
  });

  it('speaks French where the locale is French (LANG=fr_FR.UTF-8), as socklab does; the calls stay C\'s', async () => {
    const { stdout } = await run(process.execPath, [example('tour')], { timeout: 15_000, env: { ...process.env, LANG: 'fr_FR.UTF-8', LC_ALL: '', LC_MESSAGES: '' } });
    expect(stdout).toContain('1. Daytime sur TCP : un serveur et un client dans un même processus, sur 127.0.0.1');
    expect(stdout).toMatch(/le client a lu "il est \d\d:\d\d:\d\d"/);
    expect(stdout).toContain('3. Les mêmes appels en diagramme de séquence');
    expect(stdout).not.toContain('the client read');
    expect(stdout).toMatch(/^socket\(AF_INET, SOCK_STREAM\|SOCK_CLOEXEC, IPPROTO_IP\) = \d+$/m);
  });
});
