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
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';
import { CONNECT, type Ctl, type Run, freePort, python, traced, workDir } from './straced';

const root = path.join(__dirname, '..');
const course = path.join(root, 'examples', 'course');
const twin = (name: string) => path.join(root, 'dist', 'examples', 'course', `${name}.js`);
const available = canRun('comparing a C program with its twin needs strace, cc and python3',
  hasCommand('strace') && hasCommand('cc') && hasCommand('python3'));

/** Compiles examples/course/NAME.c once; returns the binary. */
function compiled(name: string): string {
  const out = path.join(workDir(), name);
  execFileSync('cc', ['-Wall', '-o', out, path.join(course, `${name}.c`)]);
  return out;
}

/** Runs the C program and its twin the same way; returns both runs. */
async function both(
  name: string, args: (port: number) => string[], drive: (port: number, ctl: Ctl) => Promise<unknown>,
  options: { stop?: boolean; fork?: boolean } = {},
): Promise<{ c: Run; ts: Run }> {
  const bin = compiled(name);
  const p1 = freePort();
  const c = await traced(bin, args(p1), (ctl) => drive(p1, ctl), options);
  const p2 = freePort();
  const node = options.fork ? ['--single-threaded'] : [];
  const ts = await traced(process.execPath, [...node, twin(name), ...args(p2)], (ctl) => drive(p2, ctl), options);
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
    const { c, ts } = await both('keepalive', (p) => ['127.0.0.1', String(p)], (_, ctl) => ctl.seen('TCP_KEEPCNT'), { stop: true, fork: true });
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
      const r = await traced(cmd, [...args, '127.0.0.1', String(p)], async () => {});
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
      const r = await traced(cmd, [...args, String(p)], async () => {});
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
