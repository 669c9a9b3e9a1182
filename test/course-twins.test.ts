// The course's C programs and their TypeScript twins make the same system calls (examples/course/).
// Each test compiles the C program, runs it and then its twin under `strace -f -e trace=network,process`
// against the same peer (Python, not this library), and compares the two process trees call by call.
//
// What may differ, and nothing else (normalize() below):
//   - descriptor numbers, ports and pointers (numbered in order of appearance);
//   - the library's documented safety flags: SOCK_CLOEXEC on socket, accept4(…, SOCK_CLOEXEC) for
//     accept, MSG_NOSIGNAL on sends;
//   - what the runtime does that is not the program's: Node's own threads (clone3 with CLONE_THREAD and
//     their exits), the execve of the interpreter, and a signal the program does not handle re-raised
//     to itself (tgkill) once the library's signal chain saw it;
//   - a call the kernel interrupted for a signal (ERESTARTSYS, EINTR): when SIGCHLD lands is timing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AF_INET, SOCK_STREAM, bind, close, getsockname, socket } from '../src/index';
import { canRun, hasCommand } from './helpers';

const root = path.join(__dirname, '..');
const course = path.join(root, 'examples', 'course');
const twin = (name: string) => path.join(root, 'dist', 'examples', 'course', `${name}.js`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const available = canRun('comparing a C program with its twin needs strace, cc and python3',
  hasCommand('strace') && hasCommand('cc') && hasCommand('python3'));

let work = '';
const children: ChildProcess[] = [];
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'bs-twins-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A port nobody listens on right now (the kernel's choice, released at once). */
function freePort(): number {
  const s = socket(AF_INET, SOCK_STREAM, 0);
  try {
    bind(s, { family: AF_INET, address: '127.0.0.1', port: 0 });
    return getsockname(s).port;
  } finally {
    close(s);
  }
}

/** Compiles examples/course/NAME.c once; returns the binary. */
function compiled(name: string): string {
  const out = path.join(work, name);
  execFileSync('cc', ['-Wall', '-o', out, path.join(course, `${name}.c`)]);
  return out;
}

/** A Python peer: the script runs with PORT set; its stdout is returned. Bounded by `timeout`. */
function python(script: string, port: number, timeout = 10_000): { done: Promise<string>; child: ChildProcess } {
  const child = spawn('python3', ['-c', script], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const done = once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    if (code !== 0) throw new Error(`python peer failed (${code}): ${err}`);
    return out;
  });
  return { done, child };
}

/** Python: connect to PORT, retrying while the server is not listening yet (a refused SYN leaves no trace in the server). */
const CONNECT = `
import os, socket, time
def connect():
    deadline = time.time() + 8
    while True:
        try:
            return socket.create_connection(('127.0.0.1', int(os.environ['PORT'])))
        except ConnectionRefusedError:
            if time.time() > deadline: raise
            time.sleep(0.05)
`;

/** Resolves once strace has shown `text` in some process of the run (bounded: 8 s). */
type Seen = (text: string) => Promise<void>;

interface Run {
  /** The process tree as normalized lines, a header per process. */
  tree: string[];
  /** The program's standard output and error. */
  stdout: string;
}

/**
 * Runs `cmd args` under strace -ff (a file per process and thread), lets `drive` talk to it, then, if
 * `stop`, sends SIGTERM to the program (not to strace) and waits for every traced process to end.
 */
async function traced(cmd: string, args: string[], drive: (seen: Seen) => Promise<unknown>, stop: boolean): Promise<Run> {
  const dir = mkdtempSync(path.join(work, 'run-'));
  // Output to a file, not a pipe: Node asks what a pipe is (getsockname, SO_TYPE on fds 1 and 2: a
  // Node parent's pipes are UNIX sockets), which is the runtime's business, not the program's.
  const outFile = path.join(work, `${path.basename(dir)}.out`);
  const out = openSync(outFile, 'w');
  const st = spawn('strace', ['-f', '-ff', '-o', path.join(dir, 't'), '-e', 'trace=network,process', cmd, ...args], {
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  children.push(st);
  const exited = once(st, 'exit');
  try {
    await drive(async (text) => {
      for (const deadline = Date.now() + 8000; Date.now() < deadline; await sleep(20)) {
        if (readdirSync(dir).some((f) => readFileSync(path.join(dir, f), 'utf8').includes(text))) return;
      }
      throw new Error(`strace never showed ${text}`);
    });
    if (stop) {
      await sleep(100); // the server back in accept (or pause)
      const rootPid = findRoot(dir);
      process.kill(rootPid, 'SIGTERM');
    }
    await Promise.race([exited, sleep(10_000).then(() => { throw new Error(`${cmd} did not end`); })]);
  } finally {
    if (st.exitCode === null) st.kill('SIGKILL');
  }
  return { tree: processTree(dir), stdout: readFileSync(outFile, 'utf8') };
}

/** The pid of the traced program: the one file that starts with its execve. */
function findRoot(dir: string): number {
  for (const f of readdirSync(dir)) {
    if (readFileSync(path.join(dir, f), 'utf8').startsWith('execve(')) return Number(f.split('.')[1]);
  }
  throw new Error('no traced program yet');
}

const CLONE = /^clone3?\((.*)\) = (\d+)$/;

/** Reads strace's per-pid files into the program's processes (threads dropped), normalized, in fork order. */
function processTree(dir: string): string[] {
  const files = new Map<number, string[]>();
  for (const f of readdirSync(dir)) {
    files.set(Number(f.split('.')[1]), readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)
      .map((l) => l.replace(/\s+= /, ' = ')));
  }
  const rootPid = findRoot(dir);
  const order: number[] = [rootPid];
  const names = new Map<number, string>([[rootPid, 'process 0']]);
  const out: string[] = [];
  const n = new Normalizer();
  for (let i = 0; i < order.length; i++) {
    const pid = order[i];
    out.push(`${names.get(pid)}:`);
    for (const line of files.get(pid) ?? []) {
      const clone = CLONE.exec(line);
      if (clone) {
        if (clone[1].includes('CLONE_THREAD')) continue; // one of Node's threads
        const child = Number(clone[2]);
        names.set(child, `process ${names.size}`);
        order.push(child);
        out.push(`  fork() = ${names.get(child)}`);
        continue;
      }
      const l = n.line(line, pid);
      if (l !== undefined) out.push(`  ${l}`);
    }
  }
  return out;
}

/** Numbers descriptors, ports and pointers in order of appearance, and drops what may differ (top of file). */
class Normalizer {
  private fds = new Map<string, string>();
  private ports = new Map<string, string>();

  line(raw: string, pid: number): string | undefined {
    let l = raw;
    if (l.startsWith('execve(') || l.startsWith('--- ') || / = \? ERESTART| = -1 EINTR /.test(l)) return undefined;
    const reraise = /^tgkill\((\d+), (\d+), (SIG\w+)\) = 0$/.exec(l);
    if (reraise && Number(reraise[1]) === pid && Number(reraise[2]) === pid) return undefined;
    l = l.replace(/^accept4\((.*), SOCK_CLOEXEC\)/, 'accept($1)');
    l = l.replace(/\|SOCK_CLOEXEC/g, '');
    l = l.replace(/\|MSG_NOSIGNAL|MSG_NOSIGNAL\|/g, '').replace(/\bMSG_NOSIGNAL\b/g, '0');
    l = l.replace(/0x[0-9a-f]+/g, '0x…');
    l = l.replace(/htons\((\d+)\)/g, (_, p: string) => (p === '0' ? 'htons(0)' : `htons(${this.map(this.ports, p, 'PORT')})`));
    // The descriptor a network call acts on, and the one socket/accept return.
    l = l.replace(/^(\w+)\((\d+)/, (m, call: string, fd: string) => (call === 'exit_group' ? m : `${call}(${this.map(this.fds, fd, 'fd')}`));
    l = l.replace(/^((?:socket|accept)\(.*) = (\d+)$/, (_, head: string, fd: string) => `${head} = ${this.map(this.fds, fd, 'fd')}`);
    return l;
  }

  private map(m: Map<string, string>, key: string, prefix: string): string {
    if (!m.has(key)) m.set(key, `${prefix}${m.size + 1}`);
    return m.get(key)!;
  }
}

/** Runs the C program and its twin the same way; returns both runs. */
async function both(
  name: string, args: (port: number) => string[], drive: (port: number, seen: Seen) => Promise<unknown>,
  options: { stop?: boolean; fork?: boolean } = {},
): Promise<{ c: Run; ts: Run }> {
  const bin = compiled(name);
  const p1 = freePort();
  const c = await traced(bin, args(p1), (seen) => drive(p1, seen), options.stop ?? false);
  const p2 = freePort();
  const node = options.fork ? ['--single-threaded'] : [];
  const ts = await traced(process.execPath, [...node, twin(name), ...args(p2)], (seen) => drive(p2, seen), options.stop ?? false);
  return { c, ts };
}

describe.runIf(available)('the course\'s programs and their twins: the same system calls (strace -f -e trace=network,process)', () => {
  it('the concurrent echo server (fork): a child per client, two clients', async () => {
    const script = `${CONNECT}
for m in [b'bonjour', b'salut']:
    s = connect(); s.sendall(m); s.shutdown(socket.SHUT_WR)
    assert s.recv(16) == b''   # end of file: the child closed the last copy
    s.close()
`;
    const { c, ts } = await both('echo-fork', (p) => [String(p)], (p) => python(script, p).done, { stop: true, fork: true });
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree.filter((l) => l.startsWith('process'))).toHaveLength(3);
    expect(c.tree).toContainEqual(expect.stringMatching(/^ {2}socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = fd1$/));
    expect(c.tree).toContainEqual('  listen(fd1, 0) = 0');
    expect(ts.stdout).toContain('bonjour');
    expect(ts.stdout).toContain('salut');
  });

  it('keepalive: the child connects, the parent accepts it and sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT', async () => {
    // Ended by SIGTERM once the four options are set; the child then reads end of file and exits 0.
    const { c, ts } = await both('keepalive', (p) => ['127.0.0.1', String(p)], (_, seen) => seen('TCP_KEEPCNT'), { stop: true, fork: true });
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree).toContainEqual('  setsockopt(fd2, SOL_TCP, TCP_KEEPCNT, [10], 4) = 0');
    expect(c.tree).toContainEqual('  accept(fd1, NULL, NULL) = fd2');
    expect(c.tree.slice(-2)).toEqual(['  exit_group(0) = ?', '  +++ exited with 0 +++']);
  });

  it('the iterative daytime server: two clients, each gets the date and end of file', async () => {
    const script = `${CONNECT}
for i in range(2):
    s = connect(); data = b''
    while True:
        d = s.recv(100)
        if not d: break
        data += d
    assert data.endswith(b'\\r\\n') and len(data) == 26, data
    print(data.decode().strip()); s.close()
`;
    const { c, ts } = await both('daytime-server', (p) => [String(p)], (p) => python(script, p).done, { stop: true });
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree.filter((l) => l.includes('accept(fd1, NULL, NULL)'))).toHaveLength(2);
  });

  it('the daytime client reads until end of file from a Python server', async () => {
    const server = (p: number) => python(`
import os, socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', int(os.environ['PORT']))); l.listen(1)
print('ready', flush=True)
c, _ = l.accept(); c.sendall(b'Fri Dec  4 09:00:00 2026\\r\\n'); c.close(); l.close()
`, p);
    const run = async (name: string, cmd: string, args: string[]) => {
      const p = freePort();
      const peer = server(p);
      await new Promise<void>((r) => peer.child.stdout!.once('data', () => r()));
      const r = await traced(cmd, [...args, '127.0.0.1', String(p)], async () => {}, false);
      await peer.done;
      return r;
    };
    const c = await run('c', compiled('daytime-client'), []);
    const ts = await run('ts', process.execPath, [twin('daytime-client')]);
    expect(ts.tree).toEqual(c.tree);
    expect(c.stdout).toBe('Fri Dec  4 09:00:00 2026\r\n');
    expect(ts.stdout).toBe(c.stdout);
  });

  it('the TCP server excerpt: accept, send "hello", recv on the connection (not on the listening socket)', async () => {
    const script = `${CONNECT}
s = connect(); s.sendall(b'bonjour'); assert s.recv(16) == b'hello'; s.close()
`;
    const { c, ts } = await both('tcp-server', (p) => [String(p)], (p) => python(script, p).done);
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree).toContainEqual('  sendto(fd2, "hello", 5, 0, NULL, 0) = 5');
    expect(c.tree).toContainEqual('  recvfrom(fd2, "bonjour", 512, 0, NULL, NULL) = 7');
    expect(ts.stdout).toMatch(/^Client with IP 127\.0\.0\.1 connected\n/);
    expect(ts.stdout).toContain('bonjour');
  });

  it('the TCP client excerpt: connect, send "hello", recv the answer of a Python server', async () => {
    const server = (p: number) => python(`
import os, socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', int(os.environ['PORT']))); l.listen(1)
print('ready', flush=True)
c, _ = l.accept(); assert c.recv(16) == b'hello'; c.sendall(b'bonjour'); c.close(); l.close()
`, p);
    const run = async (cmd: string, args: string[]) => {
      const p = freePort();
      const peer = server(p);
      await new Promise<void>((r) => peer.child.stdout!.once('data', () => r()));
      const r = await traced(cmd, [...args, String(p)], async () => {}, false);
      await peer.done;
      return r;
    };
    const c = await run(compiled('tcp-client'), []);
    const ts = await run(process.execPath, [twin('tcp-client')]);
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree).toContainEqual('  connect(fd1, {sa_family=AF_INET, sin_port=htons(PORT1), sin_addr=inet_addr("127.0.0.1")}, 16) = 0');
    expect(ts.stdout).toContain('bonjour');
  });

  it('the UDP server excerpt: one datagram, its sender in the struct, "hello" back', async () => {
    const script = `
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
for i in range(40):   # the server may not be bound yet: ask again
    s.sendto(b'bonjour', ('127.0.0.1', int(os.environ['PORT'])))
    try:
        data, _ = s.recvfrom(16); assert data == b'hello'; break
    except (socket.timeout, ConnectionRefusedError):
        pass
else:
    raise SystemExit('no answer')
`;
    const { c, ts } = await both('udp-server', (p) => [String(p)], (p) => python(script, p).done);
    expect(ts.tree).toEqual(c.tree);
    expect(c.tree).toContainEqual(expect.stringMatching(/^ {2}recvfrom\(fd1, "bonjour", 512, 0, \{sa_family=AF_INET, .*\}, \[16\]\) = 7$/));
    expect(ts.stdout).toContain('Client with IP 127.0.0.1 sent datagram');
  });
});
