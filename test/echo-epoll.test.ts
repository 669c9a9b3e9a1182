// examples/echo-epoll.ts, the event-driven echo server written with epoll(7) as a C programmer writes
// it, against its C twin examples/echo-epoll.c, both driven by a Python client (not this library):
// the same system calls in the same order for one client, and every byte echoed, with the waits for
// EPOLLOUT, to a client that writes far more than the kernel's buffers hold before it reads.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';
import { CONNECT, type Run, findRoot, freePort, python, traced, workDir } from './straced';

const root = path.join(__dirname, '..');
const ts = path.join(root, 'dist', 'examples', 'echo-epoll.js');
const available = canRun('the epoll echo server against its C twin needs strace, cc and python3',
  hasCommand('strace') && hasCommand('cc') && hasCommand('python3'));

function compiled(): string {
  const out = path.join(workDir(), 'echo-epoll');
  execFileSync('cc', ['-Wall', '-O2', '-o', out, path.join(root, 'examples', 'echo-epoll.c')]);
  return out;
}

/**
 * The server's calls as strace saw them (its main thread: Node's threads have files of their own),
 * from its first socket() on, its own output left out; descriptors and ports named in order of
 * appearance wherever they appear (first argument, epoll_ctl's target, the event's data, a result).
 */
function calls(run: Run): string[] {
  const raw = readFileSync(path.join(run.dir, `t.${findRoot(run.dir)}`), 'utf8').split('\n');
  const lines = raw.slice(raw.findIndex((l) => l.startsWith('socket(')))
    .filter((l) => l !== '' && !/^write\([12], /.test(l) && !l.startsWith('+++') && !l.startsWith('---'))
    .map((l) => l.replace(/\s+= /, ' = ').replace(/0x[0-9a-f]+/g, '0x…'));
  const fds = new Map<string, string>();
  const fd = (n: string) => {
    if (!fds.has(n)) fds.set(n, `s${fds.size + 1}`);
    return fds.get(n)!;
  };
  const ports = new Map<string, string>();
  return lines.map((l) => l
    .replace(/^((?:socket|accept4|epoll_create1)\(.*) = (\d+)$/, (_, head: string, n: string) => `${head} = ${fd(n)}`)
    .replace(/^(\w+)\((\d+)/, (_, call: string, n: string) => `${call}(${fd(n)}`)
    .replace(/(EPOLL_CTL_\w+, )(\d+)/, (_, head: string, n: string) => `${head}${fd(n)}`)
    .replace(/u32=(\d+), u64=(\d+)/g, (_, n: string) => `u32=${fd(n)}, u64=${fd(n)}`)
    .replace(/htons\((\d+)\)/g, (_, p: string) => {
      if (!ports.has(p)) ports.set(p, `PORT${ports.size + 1}`);
      return `htons(${ports.get(p)})`;
    }));
}

/** Starts a server; resolves with it and its port once it prints the port. */
async function start(cmd: string, args: string[]): Promise<{ child: ChildProcess; port: number; out: () => string }> {
  const child = spawn(cmd, [...args, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const m = /listening on port (\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]), out: () => out };
    if (child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  throw new Error(`${cmd} did not start: ${out}`);
}

describe.runIf(available)('examples/echo-epoll: the epoll echo server and its C twin', () => {
  it('make the same calls for one client (strace -f -e trace=network,epoll_*,read,write,close)', async () => {
    // The client waits for the echo, then a moment, so that the server's read after the echo finds
    // nothing yet (EAGAIN) rather than the end of file: the order is the same in both runs.
    const script = `${CONNECT}
s = connect(); s.sendall(b'hello')
got = b''
while len(got) < 5: got += s.recv(16)
assert got == b'hello', got
time.sleep(0.3); s.close(); time.sleep(0.3)
`;
    const classes = 'execve,network,epoll_create1,epoll_ctl,epoll_wait,epoll_pwait,read,write,close';
    const bin = compiled();
    const p1 = freePort();
    const c = await traced(bin, [String(p1)], () => python(script, p1).done, { stop: true }, classes);
    const p2 = freePort();
    const t = await traced(process.execPath, [ts, String(p2)], () => python(script, p2).done, { stop: true }, classes);
    const cc = calls(c);
    expect(calls(t)).toEqual(cc);
    // What a C programmer expects to see, in this order.
    const ev = (fd: string) => `{events=EPOLLIN, data={u32=${fd}, u64=${fd}}}`;
    expect(cc).toEqual([
      'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = s1',
      'setsockopt(s1, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0',
      'bind(s1, {sa_family=AF_INET, sin_port=htons(PORT1), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
      'listen(s1, 4096) = 0',
      'getsockname(s1, {sa_family=AF_INET, sin_port=htons(PORT1), sin_addr=inet_addr("127.0.0.1")}, [16]) = 0',
      'epoll_create1(EPOLL_CLOEXEC) = s2',
      `epoll_ctl(s2, EPOLL_CTL_ADD, s1, ${ev('s1')}) = 0`,
      `epoll_wait(s2, [${ev('s1')}], 64, -1) = 1`,
      'accept4(s1, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK) = s3',
      `epoll_ctl(s2, EPOLL_CTL_ADD, s3, ${ev('s3')}) = 0`,
      'accept4(s1, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK) = -1 EAGAIN (Resource temporarily unavailable)',
      `epoll_wait(s2, [${ev('s3')}], 64, -1) = 1`,
      'read(s3, "hello", 65536) = 5',
      'write(s3, "hello", 5) = 5',
      'read(s3, 0x…, 65536) = -1 EAGAIN (Resource temporarily unavailable)',
      `epoll_wait(s2, [${ev('s3')}], 64, -1) = 1`,
      'read(s3, "", 65536) = 0',
      'close(s3) = 0',
      expect.stringMatching(/^epoll_wait\(s2, /),
    ]);
    expect(t.stdout).toMatch(/connection \d+ closed \(end of file\): 5 bytes echoed, 0 waits for EPOLLOUT/);
  }, 60_000);

  it.each(['c', 'ts'])('%s: echoes 8 MiB to a client that reads only once it has sent it all, waiting for EPOLLOUT', async (which) => {
    const server = which === 'c' ? await start(compiled(), []) : await start(process.execPath, [ts]);
    try {
      // Two clients at once, each sending 8 MiB while its reader sleeps half a second first, with a small
      // receive buffer: the server's writes fill it, the kernel pushes back, and the server must keep
      // the rest and wait for EPOLLOUT, without blocking the other client. (Sending all before reading
      // would deadlock against any server that stops reading when it cannot write: it must.)
      const script = `${CONNECT}
import threading
N = 8 << 20
data = bytes((i * 7 + 3) & 0xff for i in range(256)) * (N // 256)
ok = []
def one():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(30)
    s.connect(('127.0.0.1', int(os.environ['PORT'])))
    got = bytearray()
    def reader():
        time.sleep(0.5)
        while True:
            b = s.recv(1 << 16)
            if not b: break
            got.extend(b)
    r = threading.Thread(target=reader); r.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    r.join(30)
    ok.append(bytes(got) == data)
    s.close()
ts = [threading.Thread(target=one) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join(40)
print(ok)
`;
      // The server closes a connection at the client's end of file, once all it read is written back.
      const out = await python(script, server.port, 45_000).done;
      expect(out.trim()).toBe('[True, True]');
      for (const deadline = Date.now() + 5000; Date.now() < deadline && (server.out().match(/closed/g) ?? []).length < 2;) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const closed = [...server.out().matchAll(/closed \(end of file\): (\d+) bytes echoed, (\d+) waits for EPOLLOUT/g)];
      expect(closed.map((m) => Number(m[1]))).toEqual([8 << 20, 8 << 20]);
      expect(closed.every((m) => Number(m[2]) > 0), server.out()).toBe(true);
    } finally {
      server.child.kill('SIGKILL');
      await once(server.child, 'exit').catch(() => {});
    }
  }, 60_000);
});
