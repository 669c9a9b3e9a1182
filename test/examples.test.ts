// The examples are programs people run: each test runs one as a separate process over loopback, and
// talks to it with a peer not written with this library (Python's socket module) as well as ours.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

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

describe('npm start (the tour)', () => {
  it('prints each call with its result, for a TCP and a UDP exchange', async () => {
    const { stdout } = await run(process.execPath, [example('tour')], { timeout: 15_000 });
    expect(stdout).toMatch(/^socket\(AF_INET, SOCK_STREAM, 0\) = \d+$/m);
    expect(stdout).toMatch(/^read\(\d+, buf, 64\) = 7$/m);
    expect(stdout).toContain('buf = "bonjour"');
    expect(stdout).toMatch(/= -1 ECONNREFUSED \(Connection refused\)/);
    expect(stdout).toContain('buf = "quelle heure ?"');
    expect(stdout).toContain('buf = "il est midi"');
  });
});
