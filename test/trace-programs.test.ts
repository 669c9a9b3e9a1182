// The trace against strace on whole programs: the tour (`npm start`), the course's keepalive program
// (it forks its own client), the concurrent echo server (a child per client) and talk (select on the
// keyboard and the socket, two processes). Each runs once under `strace -f -ff` with the trace on, and
// for every process the lines strace printed for the program's own descriptors are exactly the lines
// the trace printed, in the same order — none missing from the trace, none it made up.
//
// What is left out on both sides, and why: Node's own calls on the same numbers before the program
// made its sockets (the window starts at the program's first traced call and ends at its last); the
// epoll_ctl calls libuv's loop makes on its own epoll descriptor (not the program's); writes to
// standard error (Node's console).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';
import { CONNECT, type Run, findRoot, freePort, python, traced } from './straced';

const root = path.join(__dirname, '..');
const example = (name: string) => path.join(root, 'dist', 'examples', `${name}.js`);
const available = canRun('comparing the trace with strace needs strace and python3', hasCommand('strace') && hasCommand('python3'));

const CALLS = /^(socket|socketpair|bind|listen|accept4?|connect|getsockname|getpeername|sendto|recvfrom|sendmsg|recvmsg|setsockopt|getsockopt|shutdown|pselect6|poll|ppoll|epoll_create1|epoll_ctl|epoll_p?wait|read|write|close|ioctl|wait4|clone)\(/;
const CLASSES = 'execve,network,pselect6,poll,ppoll,epoll_create1,epoll_ctl,epoll_wait,epoll_pwait,read,write,close,ioctl,wait4,clone';

const normalize = (line: string) =>
  line.replace(/\s+= /, ' = ').replace(/left \{tv_sec=\d+, tv_nsec=\d+\}/, 'left {…}').replace(/\b0x[0-9a-f]+\b/g, '0x…').trim();

/** strace's lines for one process (a -ff file), a call split by a signal joined again. */
function straced(file: string): string[] {
  const out: string[] = [];
  let open = -1;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const cut = /^(.*) <unfinished \.\.\.>$/.exec(line);
    if (cut) {
      open = out.length;
      out.push(cut[1]);
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed && open >= 0) {
      out[open] += resumed[1];
      open = -1;
      continue;
    }
    out.push(line);
  }
  // A call the kernel restarted after a signal handler (ERESTARTSYS…) is one call to the program.
  return out.map(normalize).filter((l) => CALLS.test(l) && !/ = \? ERESTART/.test(l));
}

/** The trace's lines by process: `[pid N] ` after a fork, none before (the process strace started). */
function byProcess(lines: string[], rootPid: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const raw of lines) {
    const m = /^(?:\[pid +(\d+)\] )?(.*)$/.exec(raw)!;
    const text = normalize(m[2]);
    if (!CALLS.test(text)) continue;
    const pid = m[1] === undefined ? rootPid : Number(m[1]);
    out.set(pid, [...(out.get(pid) ?? []), text]);
  }
  return out;
}

/**
 * The lines that concern the program's descriptors, each from the call that made it (socket, accept,
 * socketpair, epoll_create1) to its close — a number Node reuses after that is Node's again — and the
 * program's fork and wait. `live`: the descriptors open at the start (a child's, inherited); the set
 * open at each clone is recorded in `atClone` by the child's pid.
 */
function on(lines: string[], live: Set<number>, atClone?: Map<number, Set<number>>): string[] {
  const open = new Set(live);
  return lines.filter((l) => {
    const one = /^(socket|accept4?|epoll_create1)\(.* = (\d+)$/.exec(l);
    if (one) {
      open.add(Number(one[2]));
      return true;
    }
    const pair = /^socketpair\(.*\[(\d+), (\d+)\]\) = 0$/.exec(l);
    if (pair) {
      open.add(Number(pair[1])).add(Number(pair[2]));
      return true;
    }
    if (/^(socket|socketpair|accept4?)\(/.test(l)) return true; // failed
    const clone = /^clone\(.* = (\d+)$/.exec(l);
    if (clone) {
      if (/CLONE_THREAD/.test(l)) return false;
      atClone?.set(Number(clone[1]), new Set(open));
      return true;
    }
    // wait4, and select (pselect6: its first argument is nfds), are the program's: Node makes neither.
    if (/^(wait4|pselect6)\(/.test(l)) return true;
    const first = /^\w+\((\d+),/.exec(l) ?? /^close\((\d+)\)/.exec(l);
    if (first === null || !open.has(Number(first[1]))) return false;
    if (l.startsWith('close(')) open.delete(Number(first[1]));
    return true;
  });
}

/**
 * Compares, process by process, what strace saw with what the trace printed; `extra`: descriptors the
 * program uses without making them (the keyboard, standard output). Returns the lines compared.
 */
function compare(run: Run, traceLines: string[], extra: number[] = []): Map<number, string[]> {
  const rootPid = findRoot(run.dir);
  const ours = byProcess(traceLines, rootPid);
  const files = new Map(readdirSync(run.dir).map((f) => [Number(f.split('.')[1]), path.join(run.dir, f)]));
  const compared = new Map<number, string[]>();
  const inherited = new Map<number, Set<number>>([[rootPid, new Set(extra)]]);
  // Parents before children: a child starts with the descriptors its parent had open at the clone.
  const order = [rootPid];
  for (let i = 0; i < order.length; i++) {
    const pid = order[i];
    const theirs = straced(files.get(pid)!);
    const lines = ours.get(pid) ?? [];
    // Ours, in order, among strace's: that fixes the window the program's own calls span.
    let j = 0;
    let first = -1;
    for (const line of lines) {
      while (j < theirs.length && theirs[j] !== line) j++;
      expect(j < theirs.length, `process ${pid}: not in strace's output (in order): ${line}\n--- strace:\n${theirs.join('\n')}`).toBe(true);
      if (first < 0) first = j;
      j++;
    }
    const atClone = new Map<number, Set<number>>();
    const mine = on(lines, inherited.get(pid)!, atClone);
    // With no traced call of its own, the window is all that strace saw of the process.
    const window = lines.length === 0 ? theirs : theirs.slice(first, j);
    expect(on(window, inherited.get(pid)!), `process ${pid}`).toEqual(mine);
    compared.set(pid, mine);
    for (const [child, open] of atClone) {
      inherited.set(child, open);
      order.push(child);
    }
  }
  // Every process strace saw was reached through the program's clones (Node's threads are not processes).
  expect([...ours.keys()].every((pid) => compared.has(pid))).toBe(true);
  return compared;
}

describe.runIf(available)('the trace and strace on whole programs, process by process', () => {
  it('the tour (npm start): every call it prints is strace\'s, and strace sees none it did not print', async () => {
    const run = await traced(process.execPath, [example('tour')], async () => {}, {}, CLASSES);
    // The calls it printed step by step; the sequence picture after them repeats them in short.
    const out = run.stdout.split('\n');
    const compared = compare(run, out.slice(0, out.findIndex((l) => /^3\. /.test(l))));
    const calls = [...compared.values()].flat();
    expect(calls.length).toBeGreaterThanOrEqual(25);
    expect(calls).toContainEqual(expect.stringMatching(/^getsockopt\(\d+, SOL_SOCKET, SO_RCVBUF, \[\d+\], \[4\]\) = 0$/));
    expect(calls).toContainEqual(expect.stringMatching(/^connect\(\d+, .*\) = -1 ECONNREFUSED /));
    expect(calls).toContainEqual(expect.stringMatching(/^recvfrom\(\d+, "quelle heure \?", 64, 0, \{sa_family=AF_INET, /));
  }, 60_000);

  it('the course\'s keepalive program: the parent\'s accept and four setsockopt, the child\'s connect and read', async () => {
    const p = freePort();
    const run = await traced(process.execPath, ['--single-threaded', example('course/keepalive'), '127.0.0.1', String(p)],
      (ctl) => ctl.seen('TCP_KEEPCNT'), { stop: true, env: { BSOCK_TRACE: '1' } }, CLASSES);
    const compared = compare(run, run.stderr.split('\n'));
    expect(compared.size).toBe(2);
    const [parent, child] = [...compared.values()];
    expect(parent).toContainEqual(expect.stringMatching(/^clone\(child_stack=NULL, flags=CLONE_CHILD_CLEARTID\|CLONE_CHILD_SETTID\|SIGCHLD, child_tidptr=0x…\) = \d+$/));
    expect(parent).toContainEqual(expect.stringMatching(/^setsockopt\(\d+, SOL_TCP, TCP_KEEPCNT, \[10\], 4\) = 0$/));
    expect(child).toContainEqual(expect.stringMatching(/^connect\(\d+, /));
    expect(child).toContainEqual(expect.stringMatching(/^read\(\d+, "", 1\) = 0$/));
  }, 60_000);

  it('the concurrent echo server: a child per client, each child\'s calls under its own pid', async () => {
    const p = freePort();
    const script = `${CONNECT}
for m in [b'bonjour', b'salut']:
    s = connect(); s.sendall(m); s.shutdown(socket.SHUT_WR)
    assert s.recv(16) == b''
    s.close()
`;
    const run = await traced(process.execPath, ['--single-threaded', example('course/echo-fork'), String(p)],
      () => python(script, p).done, { stop: true, env: { BSOCK_TRACE: '1' } }, CLASSES);
    const compared = compare(run, run.stderr.split('\n'));
    expect(compared.size).toBe(3);
    const children = [...compared.values()].slice(1);
    for (const c of children) expect(c).toContainEqual(expect.stringMatching(/^read\(\d+, "(bonjour|salut)", \d+\) = \d+$/));
  }, 60_000);

  it('talk: select (pselect6) on the keyboard and the socket, on both sides', async () => {
    const p = freePort();
    // The listening side under strace; the other side is talk too, driven through its standard input.
    const run = await traced(process.execPath, [example('talk'), 'listen', String(p)], async (ctl) => {
      await ctl.seen('listen(');
      const other = spawn(process.execPath, [example('talk'), '127.0.0.1', String(p)], { stdio: ['pipe', 'pipe', 'ignore'] });
      let got = '';
      other.stdout!.setEncoding('utf8').on('data', (d: string) => (got += d));
      ctl.stdin!.write('bonjour\n');
      for (const deadline = Date.now() + 8000; !got.includes('bonjour') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
      other.stdin!.write('salut\n');
      await ctl.seen('"salut\\n"');
      other.stdin!.end(); // end of file on the keyboard: talk closes its socket and leaves
      await once(other, 'exit');
      expect(got).toContain('bonjour');
    }, { stdin: true, env: { BSOCK_TRACE: '1' } }, CLASSES);
    const compared = compare(run, run.stderr.split('\n'), [0, 1]);
    const calls = [...compared.values()].flat();
    expect(calls).toContainEqual(expect.stringMatching(/^pselect6\(\d+, \[0 \d+\], NULL, NULL, NULL, NULL\) = 1 \(in \[\d+\]\)$/));
    expect(calls).toContainEqual('read(0, "bonjour\\n", 1024) = 8');
  }, 60_000);
});
