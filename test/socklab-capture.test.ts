// socklab's `capture on|off`: the packets of the lab's own sockets shown between its commands — after
// the command that caused them and before the next prompt, or at the prompt as they come — with
// tcpdump -w on lo as the independent witness; the capture's descriptor kept apart from the lab's; and,
// without CAP_NET_RAW (setpriv drops it), the reason said and every other command still working.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../src/cli/i18n';
import { Session } from '../src/cli/session';
import { canRun, freePort, hasCommand, isRoot } from './helpers';
import { Proc, cli, killChildren, tmuxServer } from './socklab-proc';
import { startTcpdump } from './tcpdump';

const linux = process.platform === 'linux';
const asRoot = linux && canRun('socklab capture needs root (CAP_NET_RAW)', isRoot);
const withTcpdump = asRoot && canRun('socklab capture beside tcpdump needs tcpdump', hasCommand('tcpdump'));
const withTmux = asRoot && canRun('socklab capture in a real terminal needs tmux', hasCommand('tmux'));
/** As root, a child that lost CAP_NET_RAW (setpriv); not as root, the child has none anyway. */
const unprivileged = linux && (!isRoot || canRun('dropping CAP_NET_RAW needs setpriv (util-linux)', hasCommand('setpriv')));
const DROP = ['--bounding-set=-net_raw', '--inh-caps=-net_raw', '--'];

/** A packet line: `  ── SECONDS.MICROS TEXT` (BSOCK_TRACE=wire's). */
const PACKET = /^ {2}── (\d+)\.(\d{6}) (.*)$/;

afterEach(killChildren);

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli/socklab.js missing: run `npm run build:ts` (npm test does)');
});

/** socklab with `args`; `drop`: without CAP_NET_RAW (as root, through setpriv; otherwise it has none). */
function lab(args: string[], drop = false): Proc {
  return drop && isRoot ? new Proc(args, {}, 'setpriv', [...DROP, process.execPath, cli, ...args]) : new Proc(args);
}

/** A script's output cut at each echoed command: `socklab> connect …` and the lines up to the next one. */
function blocks(out: string): { command: string; lines: string[] }[] {
  return out.split(/^(?=socklab(?:\(udp\))?> )/m).filter((b) => b.startsWith('socklab')).map((b) => {
    const [first, ...lines] = b.split('\n');
    return { command: first.replace(/^socklab[^>]*> /, ''), lines: lines.filter((l) => l !== '') };
  });
}

const packets = (lines: string[]) => lines.map((l) => PACKET.exec(l)).filter((m) => m !== null).map((m) => ({ us: Number(m[1]) * 1e6 + Number(m[2]), text: m[3] }));

describe('socklab capture', () => {
  it.runIf(withTcpdump)('shows the handshake after connect and the data after write, before the next prompt, as tcpdump saw them; capture off stops them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-capture-'));
    const port = freePort();
    const dump = await startTcpdump(`tcp port ${port}`, dir);
    let out: string;
    let code: number | null;
    try {
      const run = await lab([]).end([
        'capture on', `passive 127.0.0.1 ${port}`, 'socket tcp', `connect \${id} 127.0.0.1 ${port}`, 'accept ${id1}',
        'write ${id2} hello', 'read ${id3}', 'capture off', 'write ${id2} again', 'read ${id3}', '=', 'capture', '',
      ].join('\n'));
      ({ code, out } = run);
    } finally {
      await dump.stop();
    }
    let witness: string;
    try {
      witness = execFileSync('tcpdump', ['-r', dump.file, '-nn', '-tt', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(code, out).toBe(0);
    const b = blocks(out);
    const block = (command: string) => b.find((x) => x.command === command)!;
    const client = /connection from 127\.0\.0\.1:(\d+)/.exec(out)![1];
    const cap = /descriptor (\d+) is the capture's packet socket/.exec(out)![1];
    const up = `IP 127.0.0.1.${client} > 127.0.0.1.${port}: `;
    const down = `IP 127.0.0.1.${port} > 127.0.0.1.${client}: `;

    // connect: its call line, then the three segments of the handshake, then the next prompt.
    const conn = block(`connect \${id} 127.0.0.1 ${port}`);
    expect(conn.lines[0]).toMatch(new RegExp(`^connect\\(\\d+, 127\\.0\\.0\\.1:${port}\\) = 0$`));
    const hs = packets(conn.lines);
    expect(conn.lines.slice(1).every((l) => PACKET.test(l)), conn.lines.join('\n')).toBe(true);
    expect(hs.map((p) => p.text.replace(/,.*/, ''))).toEqual([`${up}Flags [S]`, `${down}Flags [S.]`, `${up}Flags [.]`]);
    // write: the 5 bytes, after the call line.
    const wr = block('write ${id2} hello');
    expect(wr.lines[0]).toMatch(/^write\(\d+, "hello", 5\) = 5$/);
    expect(wr.lines.slice(1).every((l) => PACKET.test(l))).toBe(true);
    const data = packets(wr.lines).find((p) => p.text.startsWith(`${up}Flags [P.]`));
    expect(data?.text).toMatch(/seq (\d+):(\d+), ack \d+, .*length 5$/);
    // Commands that send nothing show nothing.
    for (const c of ['capture on', `passive 127.0.0.1 ${port}`, 'socket tcp']) expect(packets(block(c).lines)).toEqual([]);
    // After capture off, nothing, though tcpdump saw the second write go by.
    const after = b.slice(b.findIndex((x) => x.command === 'capture off'));
    expect(after.flatMap((x) => packets(x.lines))).toEqual([]);
    expect(block('capture').lines).toEqual(['capture off']);

    // tcpdump, in the same run: the packets socklab showed are its first ones for this port, in the same
    // words and order, each stamped within a millisecond; the rest (the second write's) socklab did not show.
    const ours = b.flatMap((x) => packets(x.lines));
    const theirs = witness.split('\n').map((l) => /^(\d+)\.(\d{6}) (.*)$/.exec(l)).filter((m) => m !== null)
      .map((m) => ({ us: Number(m[1]) * 1e6 + Number(m[2]), text: m[3] }));
    expect(ours.map((p) => p.text)).toEqual(theirs.slice(0, ours.length).map((p) => p.text));
    ours.forEach((p, i) => expect(Math.abs(p.us - theirs[i].us)).toBeLessThanOrEqual(1000));
    const [, seqStart, seqEnd] = /seq (\d+):(\d+)/.exec(data!.text)!;
    expect(seqEnd).toBe(String(Number(seqStart) + 5));
    expect(theirs.slice(ours.length).map((p) => p.text)).toContainEqual(expect.stringMatching(new RegExp(`^${up.replace(/\./g, '\\.')}Flags \\[P\\.\\], seq ${seqEnd}:${Number(seqEnd) + 5}, `)));

    // The capture's descriptor is not a lab socket: no id is it, the = table does not list it.
    const ids = [...out.matchAll(/^ {2}id (\d+)(?: \(the descriptor\)|: connection from)/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(3);
    expect(ids).not.toContain(cap);
    const table = block('=').lines.map((l) => l.trim().split(/\s+/)[0]);
    expect(table.slice(1).sort()).toEqual([...ids].sort());
  });

  it.runIf(asRoot)('at the prompt (-i), shows a peer\'s packets as they come, and capture off closes the capture\'s descriptor', async () => {
    const sl = lab(['-i']);
    sl.write('capture on\n');
    const fd = (await sl.waitFor(/descriptor (\d+) is the capture's packet socket[^\n]*\nsocklab> $/))[1];
    const link = () => {
      try {
        return readlinkSync(`/proc/${sl.child.pid}/fd/${fd}`);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    };
    expect(link()).toMatch(/^socket:\[\d+\]$/);
    sl.write(`close ${fd}\n`); // not a lab socket: no command takes it
    await sl.waitFor(new RegExp(`no socket has id ${fd} \\(= lists them\\)\\nsocklab> $`));
    sl.write('passive 127.0.0.1 0\n');
    const port = (await sl.waitFor(/getsockname\(\d+, 127\.0\.0\.1:(\d+)\) = 0\nsocklab> $/))[1];
    // A peer connects and writes while the lab waits at its prompt, no command typed.
    const peer = tcpConnect(Number(port), '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => peer.once('connect', resolve).once('error', reject));
      peer.write('ping');
      // Right after the prompt (the previous wait ended on it): a new line, the packets, the prompt again.
      const shown = await sl.waitFor(new RegExp(`^\\n((?: {2}── .*\\n)+)socklab> `));
      const texts = packets(shown[1].split('\n')).map((p) => p.text);
      const me = `127.0.0.1.${peer.localPort}`;
      expect(texts.slice(0, 3).map((t) => t.replace(/,.*/, ''))).toEqual([
        `IP ${me} > 127.0.0.1.${port}: Flags [S]`, `IP 127.0.0.1.${port} > ${me}: Flags [S.]`, `IP ${me} > 127.0.0.1.${port}: Flags [.]`,
      ]);
      if (!texts.some((t) => t.includes('length 4'))) await sl.waitFor(new RegExp(`IP ${me.replace(/\./g, '\\.')} > 127\\.0\\.0\\.1\\.${port}: Flags \\[P\\.\\], .*length 4\\n`));
    } finally {
      peer.destroy();
    }
    sl.write('capture off\n');
    await sl.waitFor(/capture off\nsocklab> $/);
    expect(link()).toBe('ENOENT'); // closed, not leaked
    // The one command that failed is the close of the capture's descriptor.
    expect((await sl.end('quit\n')).code).toBe(1);
    expect(sl.err).toBe(`socklab: 1 command failed unexpectedly\n  stdin:2: close ${fd}\n`);
  });

  it.runIf(withTmux)('in a terminal, prints packets above the prompt and keeps the line being typed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-capture-tmux-'));
    const { tmux, screen, until, quit } = tmuxServer(`socklab-capture-${process.pid}`);
    try {
      const cmd = `env LANG=C SOCKLAB_HISTORY=${path.join(dir, 'h')} ${process.execPath} ${cli}`;
      expect(tmux('new-session', '-d', '-s', 'lab', '-x', '250', '-y', '50', cmd).status).toBe(0);
      await until(/socklab>\s*$/m);
      tmux('send-keys', '-t', 'lab', '-l', 'capture on');
      tmux('send-keys', '-t', 'lab', 'Enter');
      await until(/not a lab socket\)\nsocklab>\s*$/m);
      tmux('send-keys', '-t', 'lab', '-l', 'passive 127.0.0.1 0');
      tmux('send-keys', '-t', 'lab', 'Enter');
      await until(/getsockname\(\d+, 127\.0\.0\.1:\d+\) = 0\nsocklab>\s*$/m);
      const port = /getsockname\(\d+, 127\.0\.0\.1:(\d+)\) = 0/.exec(screen())![1];
      tmux('send-keys', '-t', 'lab', '-l', 'echo half');
      await until(/socklab> echo half\s*$/m);
      const peer = tcpConnect(Number(port), '127.0.0.1');
      try {
        await new Promise<void>((resolve, reject) => peer.once('connect', resolve).once('error', reject));
        // The handshake above the prompt, and the prompt below it with what was typed. At most 12 s: on
        // a loaded machine the capture also reads every other test's SYN, FIN and RST (the wire's
        // kernel filter keeps them for connections whose ports are not learnt yet) before it gets there.
        await until(new RegExp(`= 0\\n(?: {2}── .*\\n)*? {2}── \\d+\\.\\d+ IP 127\\.0\\.0\\.1\\.${port} > 127\\.0\\.0\\.1\\.${peer.localPort}: Flags \\[S\\.\\].*\\n(?: {2}── .*\\n)*socklab> echo half\\s*$`), 12_000);
      } finally {
        peer.destroy();
      }
      tmux('send-keys', '-t', 'lab', '-l', ' done');
      tmux('send-keys', '-t', 'lab', 'Enter');
      await until(/^half done$/m);
      expect(await quit()).toBe(true);
    } finally {
      tmux('kill-server');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const withNetns = asRoot && canRun('a network namespace with a veth pair needs unshare, nsenter and ip', ['unshare', 'nsenter', 'ip'].every(hasCommand));
  it.runIf(withNetns)('says so, and is off, when the interface it captures on goes away (recvmsg ENETDOWN)', async () => {
    // In a network namespace of its own (gone with the process): a veth pair, captured on, then deleted.
    const setup = 'ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && exec "$0" "$@"';
    const sl = new Proc(['-i'], {}, 'unshare', ['-n', '--', 'sh', '-c', setup, process.execPath, cli, '-i']);
    sl.write('capture on v0\n');
    await sl.waitFor(/^socklab> capture on v0\ncapture on v0: the packets .*\n.*not a lab socket\)\nsocklab> $/);
    execFileSync('nsenter', ['-t', String(sl.child.pid), '-n', 'ip', 'link', 'del', 'v0'], { timeout: 5000 });
    await sl.waitFor(/^\ncapture on v0: recvmsg: ENETDOWN \(Network is down\)\ncapture off\nsocklab> $/);
    sl.write('capture\n');
    await sl.waitFor(/^capture\ncapture off\nsocklab> $/);
    sl.write('passive 127.0.0.1 0\n'); // the lab goes on
    await sl.waitFor(/getsockname\(\d+, 127\.0\.0\.1:\d+\) = 0\nsocklab> $/);
    expect((await sl.end('quit\n')).code).toBe(0);
  });

  it.runIf(unprivileged)('without CAP_NET_RAW, says why capture on fails, and every other command works', async () => {
    const lines = [
      'capture on', 'passive 127.0.0.1 0', 'connect 127.0.0.1 ${port}', 'accept ${id1}', 'write ${id2} hello', 'read ${id3}', 'capture', '',
    ].join('\n');
    const sl = lab([], true);
    const { code } = await sl.end(lines);
    expect(sl.out).toContain("capture on lo: socket(AF_PACKET, SOCK_RAW, 0) = -1 EPERM (Operation not permitted)\n  capturing packets needs CAP_NET_RAW (root): the lab goes on without them\n");
    expect(sl.out).toMatch(/^read\(\d+, "hello", 1024\) = 5$/m);
    expect(blocks(sl.out).find((b) => b.command === 'capture')!.lines).toEqual(['capture off']);
    expect(sl.out).not.toMatch(/^ {2}── /m);
    // The script's status counts the one failure, capture on's; expected with !EPERM, it is no failure.
    expect(code).toBe(1);
    expect(sl.err).toBe('socklab: 1 command failed unexpectedly\n  stdin:1: capture on\n');
    const expected = lab(['--lang', 'fr'], true);
    expect((await expected.end('!EPERM capture on\n')).code).toBe(0);
    expect(expected.out).toContain('capturer les paquets demande CAP_NET_RAW (root) : le lab continue sans eux');
  });

  it('completes capture\'s words, lists it in help in both languages, and refuses bad arguments', async () => {
    const said: string[] = [];
    const session = new Session((l) => said.push(l), messages('en'), {});
    try {
      expect(session.complete('capt')).toEqual([['capture'], 'capt']);
      expect(session.complete('capture ')[0]).toEqual(['on', 'off']);
      expect(session.complete('capture on ')[0]).toContain('lo');
      expect(session.complete('capture off ')[0]).toEqual([]);
      expect((await session.execute('capture maybe')).status).toBe('usage');
      expect((await session.execute('capture on lo eth0')).status).toBe('usage');
      expect((await session.execute('capture off lo')).status).toBe('usage');
      expect(await session.execute('capture')).toEqual({ status: 'ok' });
      expect(said.slice(-1)).toEqual(['capture off']);
      await session.execute('help');
      expect(said).toContainEqual(expect.stringMatching(/^ {2}capture \[on \[IFNAME\]\|off\] +capture on: the packets of the lab's sockets \(matched by their ports\)/));
    } finally {
      session.closeAll();
    }
    const fr: string[] = [];
    const french = new Session((l) => fr.push(l), messages('fr'), {});
    await french.execute('help capture');
    expect(fr).toEqual(['usage : capture [on [IFNAME]|off]', expect.stringMatching(/^ {2}capture on : les paquets des sockets du lab \(reconnus à leurs ports\)/)]);
  });
});
