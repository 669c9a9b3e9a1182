// socklab, the interactive laboratory: driven as a separate process, the way students use it — scripts
// on standard input, two socklab processes talking to each other (the lab scripts), Python peers, a
// prompt over a pipe, and a real terminal. Every wait is bounded and every child is killed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../src/cli/i18n';
import { Session } from '../src/cli/session';
import { canRun, freePort, hasCommand, hasIPv6Loopback } from './helpers';
import { ENV, Proc, type Run, cli, killChildren, tmuxServer } from './socklab-proc';

const root = path.join(__dirname, '..');
const labs = path.join(root, 'examples', 'labs');

afterEach(killChildren);

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); running vitest alone needs `npm run build:ts`.
  if (!existsSync(cli)) throw new Error('dist/cli/socklab.js missing: run `npm run build:ts` (npm test does)');
});

/** Runs a script given on standard input. */
function script(text: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Proc(args, env).end(text);
}

const ipv6 = hasIPv6Loopback();

/** A terminal's end of output: the prompt, then maybe readline's cursor moves. */
const ESC = '(?:\\x1b\\[[\\d;]*[A-Za-z])*';
const atPrompt = new RegExp(`socklab> ${ESC}$`);
const ending = (text: string) => new RegExp(`${text}${ESC}$`);


/** The rows of the last `=` table in `out`, by socket id (its descriptor). */
function table(out: string): Record<string, { proto: string; local: string; remote: string; state: string; rwx: string }> {
  const blocks = out.split(/^socklab[^>]*> =\s*$/m);
  const rows: Record<string, { proto: string; local: string; remote: string; state: string; rwx: string }> = {};
  for (const line of blocks[blocks.length - 1].split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+(?: \S+)?)\s+([R.] [W.] [X.])$/.exec(line);
    if (m) rows[m[1]] = { proto: m[2], local: m[3], remote: m[4], state: m[5], rwx: m[6] };
  }
  return rows;
}

/**
 * The ids socklab gave its sockets — their descriptors — in the order made (socket, passive, connect
 * HOST PORT, accept): what a script calls ${id1}, ${id2}…
 */
function ids(out: string): string[] {
  return [...out.matchAll(/^ {2}id (\d+)(?: \(the descriptor\)|: connection from )/gm)].map((m) => m[1]);
}

/** The output of each `=` of a script, in order. */
function tables(out: string): ReturnType<typeof table>[] {
  const parts = out.split(/^(?=socklab[^>]*> )/m);
  return parts.filter((p) => /^socklab[^>]*> =\s*$/m.test(p.split('\n')[0])).map((p) => table(p));
}

describe('socklab: one command per system call', () => {
  it('runs a TCP exchange in one socklab and prints each call as C reports it', async () => {
    const r = await script(`
      passive 127.0.0.1 0
      connect 127.0.0.1 \${port}
      accept \${id1}
      write \${id2} "bonjour\\n"
      read \${id3}
      close \${id2}
      read \${id3}
      close \${id3}
      close \${id1}
    `);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const fd = Number(/^socket\(AF_INET, SOCK_STREAM, 0\) = (\d+)$/m.exec(r.out)![1]);
    expect(r.out).toContain(`  id ${fd} (the descriptor)`);
    expect(r.out).toMatch(new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:0\\) = 0$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^listen\\(${fd}, 5\\) = 0$`, 'm'));
    const port = Number(new RegExp(`^getsockname\\(${fd}, 127\\.0\\.0\\.1:(\\d+)\\) = 0$`, 'm').exec(r.out)![1]);
    expect(r.out).toMatch(new RegExp(`^connect\\(\\d+, 127\\.0\\.0\\.1:${port}\\) = 0$`, 'm'));
    const accepted = new RegExp(`^accept\\(${fd}, 127\\.0\\.0\\.1:\\d+\\) = (\\d+)$`, 'm').exec(r.out)![1];
    expect(r.out).toMatch(new RegExp(`^ {2}id ${accepted}: connection from 127\\.0\\.0\\.1:\\d+$`, 'm'));
    expect(ids(r.out)).toHaveLength(3);
    expect(ids(r.out)[0]).toBe(String(fd));
    expect(ids(r.out)[2]).toBe(accepted);
    expect(r.out).toMatch(/^write\(\d+, "bonjour\\n", 8\) = 8$/m);
    expect(r.out).toMatch(/^read\(\d+, "bonjour\\n", 1024\) = 8$/m);
    expect(r.out).toMatch(/^read\(\d+, "", 1024\) = 0\n {2}end of file/m);
    expect(r.out.match(/^close\(\d+\) = 0$/gm)).toHaveLength(3);
  });

  it('takes the descriptor socket printed as the id, refuses a number that is no open socket, and reuses a closed one\'s', async () => {
    const sh = new Proc([]);
    sh.write('socket tcp\n');
    const fd = (await sh.waitFor(/^socket\(AF_INET, SOCK_STREAM, 0\) = (\d+)\n {2}id \1 \(the descriptor\)$/m))[1];
    expect(Number(fd)).toBeGreaterThan(2);
    // The number itself, typed: every command takes it, as in C.
    sh.write(`bind ${fd} 127.0.0.1 0\nlisten ${fd}\ngetsockname ${fd}\noptions ${fd} SO_REUSEADDR\n=\n`);
    await sh.waitFor(new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:0\\) = 0\\nsocklab> listen ${fd}\\nlisten\\(${fd}, 5\\) = 0$`, 'm'));
    await sh.waitFor(new RegExp(`^getsockname\\(${fd}, 127\\.0\\.0\\.1:\\d+\\) = 0$`, 'm'));
    await sh.waitFor(new RegExp(`^getsockopt\\(${fd}, SOL_SOCKET, SO_REUSEADDR, 0\\) = 0$`, 'm'));
    await sh.waitFor(new RegExp(`^ *${fd} +tcp +127\\.0\\.0\\.1:\\d+ +- +LISTEN `, 'm'));
    // Standard input, a number nobody opened, a socket once closed: none is a socket of this session.
    sh.write(`listen 0\nlisten 99999\nclose ${fd}\nlisten ${fd}\n`);
    await sh.waitFor(/^no socket has id 0 \(= lists them\)$/m);
    await sh.waitFor(/^no socket has id 99999 \(= lists them\)$/m);
    await sh.waitFor(new RegExp(`^close\\(${fd}\\) = 0\\nsocklab> listen ${fd}\\nno socket has id ${fd} \\(= lists them\\)$`, 'm'));
    // The number comes back with a later socket, as in C: socket(2) returns the lowest free descriptor
    // (Node may have freed a lower one meanwhile, which comes first). It is then that socket's id.
    let made = 1;
    let again = '';
    while (again !== fd && made < 10) {
      sh.write('socket udp\n');
      again = (await sh.waitFor(/^socket\(AF_INET, SOCK_DGRAM, 0\) = (\d+)\n {2}id \1 \(the descriptor\)$/m))[1];
      made++;
    }
    expect(again).toBe(fd);
    sh.write(`bind ${fd} 127.0.0.1 0\n`);
    await sh.waitFor(new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:0\\) = 0$`, 'm'));
    // \${id1} still names the first socket, \${idN} the Nth: the same number, as both got it.
    const r = await sh.end(`echo \${id1} \${id${made}} \${id}\n`);
    expect(r.out).toMatch(new RegExp(`^${fd} ${fd} ${fd}$`, 'm'));
    expect(r.out).not.toMatch(/^(listen|close)\(\d+(, 5)?\) = -1/m); // refused before any call
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`3 commands failed unexpectedly\\n {2}stdin:7: listen 0\\n {2}stdin:8: listen 99999\\n {2}stdin:10: listen ${fd}\\n$`));
  });

  it('reports a failed call as -1 ERRNO (strerror) and exits 1, unless the script expected the failure', async () => {
    // A port that was just released: nobody listens there.
    const refused = 'passive 127.0.0.1 0\nclose ${id}\n';
    const plain = await script(`${refused}connect 127.0.0.1 \${port}\necho after\n`);
    expect(plain.out).toMatch(/^connect\(\d+, 127\.0\.0\.1:\d+\) = -1 ECONNREFUSED \(Connection refused\)$/m);
    expect(plain.out).toContain('after'); // the script went on
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(/1 command failed unexpectedly\n {2}stdin:3: connect 127\.0\.0\.1 \$\{port\}/);

    expect((await script(`${refused}! connect 127.0.0.1 \${port}\n`)).code).toBe(0);
    expect((await script(`${refused}!ECONNREFUSED connect 127.0.0.1 \${port}\n`)).code).toBe(0);
    const wrong = await script(`${refused}!EAGAIN connect 127.0.0.1 \${port}\n`);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain('expected EAGAIN, got ECONNREFUSED');
    const succeeded = await script('! socket tcp\n');
    expect(succeeded.code).toBe(1);
    expect(succeeded.out).toContain('expected a failure (!), but the command succeeded');
  });

  it('suggests the command a typo was meant to be, in either language, and none for a word far from all', async () => {
    const en = await script('lisen 1\nredd 1\nfrobnicate\n', ['--lang', 'en']);
    expect(en.out).toContain('unknown command: lisen (did you mean listen? help lists the commands)');
    expect(en.out).toContain('unknown command: redd (did you mean read? help lists the commands)');
    expect(en.out).toContain('unknown command: frobnicate (help lists the commands)');
    const fr = await script('socke tcp\n', ['--lang', 'fr']);
    expect(fr.out).toContain('commande inconnue : socke (vouliez-vous dire socket ? help liste les commandes)');
  });

  it('says a call blocks only when it waits: one the kernel refuses at once fails without that line', async () => {
    // read on a listening socket: nothing to read (poll says so), but read(2) fails at once (ENOTCONN).
    const r = await script('passive 127.0.0.1 0\n!ENOTCONN read ${id}\nsocket tcp\n!EINVAL accept ${id}\n');
    expect(r.out).toMatch(/^read\(\d+, buf, 1024\) = -1 ENOTCONN/m);
    expect(r.out).toMatch(/^accept\(\d+, addr\) = -1 EINVAL/m);
    expect(r.out).not.toContain('blocks');
  });

  it('shows TIME_WAIT where the kernel has it: the side that sent the first FIN, once the peer\'s FIN came', async () => {
    const r = await script('passive 127.0.0.1 0\nsocket tcp\nconnect ${id} 127.0.0.1 ${port}\naccept ${id1}\nshutdown ${id2} wr\nclose ${id3}\nsleep 0.2\n=\n');
    expect(r.out).toMatch(new RegExp(`^ *${ids(r.out)[1]} +tcp +127\\.0\\.0\\.1:\\d+ +- +TIME_WAIT `, 'm'));
  });

  it('answers bad commands and bad arguments with a clear message and goes on', async () => {
    const r = await script([
      'frobnicate', 'socket sctp', 'socket tcp', 'bind 99999 0', 'bind ${id} 127.0.0.1 70000', 'listen ${id} lots', 'read ${id} -x',
      'shutdown ${id} sideways', 'write ${id}', 'connect ${id} 127.0.0.1', 'options ${id} SO_NOSUCH 1', 'options ${id} SO_ERROR 1',
      'echo "unterminated', 'echo still here',
    ].join('\n'));
    expect(r.out).toContain('unknown command: frobnicate (help lists the commands)');
    expect(r.out).toContain('usage: socket tcp|udp|raw [v6]');
    expect(r.out).toContain('no socket has id 99999 (= lists them)');
    expect(r.out).toContain('not a port (0..65535 or a service name): 70000');
    expect(r.out).toContain('N must be a number: lots');
    expect(r.out).toContain('-x: expected -nb');
    expect(r.out).toContain('usage: shutdown ID rd|wr|rdwr');
    expect(r.out).toContain('the text to send is missing');
    expect(r.out).toContain('usage: connect ID HOST PORT [-nb]');
    expect(r.out).toMatch(/unknown option SO_NOSUCH; options: SO_BROADCAST .*TCP_NODELAY/);
    expect(r.out).toContain('SO_ERROR can only be read');
    expect(r.out).toContain('unterminated quote');
    expect(r.out).toMatch(/^still here$/m);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/12 commands failed unexpectedly/);
  });

  it('stops at the first unexpected failure with -e', async () => {
    const r = await script('socket tcp\nlisten 99999\necho not reached\n', ['-e']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('stopped at the first unexpected failure (-e)');
    expect(r.out).not.toContain('not reached');
  });

  it('shows every socket in the = table: addresses, TCP state and select() readiness at that instant', async () => {
    const r = await script(`
      =
      passive 127.0.0.1 0
      =
      connect 127.0.0.1 \${port}
      =
      accept \${id1}
      =
      write \${id2} hello
      =
      shutdown \${id2} wr
      =
      socket udp
      =
      close \${id3}
      =
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^socklab> =\nno sockets$/m);
    const t = tables(r.out);
    expect(t).toHaveLength(8);
    const port = Number(/getsockname\(\d+, 127\.0\.0\.1:(\d+)\)/.exec(r.out)![1]);
    const srv = `127.0.0.1:${port}`;
    const [one, two, three, four] = ids(r.out);
    expect(t[1][one]).toMatchObject({ proto: 'tcp', local: srv, remote: '-', state: 'LISTEN', rwx: '. . .' });
    // A completed connection waits in the backlog: the listening socket is readable (accept won't block).
    expect(t[2][one].rwx).toBe('R . .');
    expect(t[2][two]).toMatchObject({ remote: srv, state: 'ESTABLISHED', rwx: '. W .' });
    const client = t[2][two].local;
    expect(t[3][one].rwx).toBe('. . .');
    expect(t[3][three]).toMatchObject({ local: srv, remote: client, state: 'ESTABLISHED', rwx: '. W .' });
    expect(t[4][three].rwx).toBe('R W .'); // "hello" is waiting to be read
    expect(t[5][two].state).toMatch(/^FIN_WAIT[12]$/);
    expect(t[5][three].state).toBe('CLOSE_WAIT');
    expect(t[6][four]).toMatchObject({ proto: 'udp', local: '-', remote: '-', state: 'unbound', rwx: '. W .' });
    expect(t[7][three]).toBeUndefined();
    // One row per open socket, by descriptor, in order; the id column is the descriptor the calls show.
    expect(Object.keys(t[7])).toEqual([one, two, four].sort((a, b) => Number(a) - Number(b)));
    for (const id of Object.keys(t[7])) expect(Number(id)).toBeGreaterThan(2);
    expect(r.out).toMatch(/^id {2}proto {2}local +remote +state +R W X$/m);
  });

  it('-nb makes a blocking call a non-blocking attempt: EAGAIN, EINPROGRESS', async () => {
    const r = await script(`
      passive 127.0.0.1 0
      !EAGAIN accept \${id1} -nb
      socket tcp
      !EINPROGRESS connect \${id2} 127.0.0.1 \${port} -nb
      sleep 0.1
      accept \${id1} -nb
      !EAGAIN read \${id3} -nb
      !EAGAIN recv \${id3} -nb
      !EAGAIN recvfrom \${id3} -nb
      write \${id2} x -nb
      sleep 0.1
      read \${id3} -nb
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^accept\(\d+, addr\) = -1 EAGAIN \(Resource temporarily unavailable\)$/m);
    expect(r.out).toMatch(/^connect\(\d+, 127\.0\.0\.1:\d+\) = -1 EINPROGRESS \(Operation now in progress\)\n {2}the handshake goes on/m);
    expect(r.out).toMatch(/^accept\(\d+, 127\.0\.0\.1:\d+\) = \d+$/m);
    expect(r.out).toMatch(/^read\(\d+, buf, 1024\) = -1 EAGAIN/m);
    expect(r.out).toMatch(/^recv\(\d+, buf, 1024, MSG_DONTWAIT\) = -1 EAGAIN/m);
    expect(r.out).toMatch(/^recvfrom\(\d+, buf, 1024, MSG_DONTWAIT, addr\) = -1 EAGAIN/m);
    expect(r.out).toMatch(/^read\(\d+, "x", 1024\) = 1$/m);
    expect(r.out).not.toContain('blocks');
  });

  it('says when a call blocks, and ends it at SO_RCVTIMEO with EAGAIN as the kernel would', async () => {
    const started = Date.now();
    const r = await script(`
      passive 127.0.0.1 0
      options \${id1} SO_RCVTIMEO 300
      !EAGAIN accept \${id1}
      connect 127.0.0.1 \${port}
      accept \${id1}
      options \${id3} rcvtimeo 0.2s
      !EAGAIN read \${id3}
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^setsockopt\(\d+, SOL_SOCKET, SO_RCVTIMEO, \{tv_sec=0, tv_usec=300000\}\) = 0$/m);
    expect(r.out).toMatch(/^ {2}accept\(\d+\) blocks until a client connects \(Ctrl-C interrupts\)\n {2}SO_RCVTIMEO expired\naccept\(\d+, addr\) = -1 EAGAIN/m);
    expect(r.out).toMatch(/^ {2}read\(\d+\) blocks until data arrives \(Ctrl-C interrupts\)\n {2}SO_RCVTIMEO expired\nread\(\d+, buf, 1024\) = -1 EAGAIN/m);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('sends and receives urgent data: send -oob, X in the table, recv -oob, recv -peek', async () => {
    const r = await script(`
      passive 127.0.0.1 0
      connect 127.0.0.1 \${port}
      accept \${id1}
      send \${id2} "!" -oob
      send \${id2} "hello world"
      sleep 0.1
      =
      recv \${id3} 5 -peek
      recv \${id3} -oob
      read \${id3}
      !EINVAL recv \${id3} -oob
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^send\(\d+, "!", 1, MSG_OOB\) = 1$/m);
    expect(table(r.out)[ids(r.out)[2]].rwx).toBe('R W X');
    expect(r.out).toMatch(/^recv\(\d+, "hello", 5, MSG_PEEK\) = 5$/m);
    expect(r.out).toMatch(/^recv\(\d+, "!", 1024, MSG_OOB\) = 1$/m);
    expect(r.out).toMatch(/^read\(\d+, "hello world", 1024\) = 11$/m);
  });

  it('UDP: sendto, recvfrom with its sender and ${from}, connect on a datagram socket', async () => {
    const r = await script(`
      mode udp
      passive 127.0.0.1 0
      socket udp
      sendto \${id2} 127.0.0.1 \${port} "question ?"
      recvfrom \${id1}
      sendto \${id1} \${from} "réponse"
      recvfrom \${id2}
      connect \${id2} 127.0.0.1 \${port}
      send \${id2} again
      recv \${id1}
      =
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^socklab\(udp\)> passive 127\.0\.0\.1 0\nsocket\(AF_INET, SOCK_DGRAM, 0\) = \d+\n.*\nbind\(\d+, 127\.0\.0\.1:0\) = 0\ngetsockname/m);
    expect(r.out).not.toMatch(/^listen/m);
    const from = /^recvfrom\(\d+, "question \?", 1024, 0, 127\.0\.0\.1:(\d+)\) = 10$/m.exec(r.out);
    expect(from).not.toBeNull();
    expect(r.out).toMatch(new RegExp(`^sendto\\(\\d+, "réponse", 8, 0, 127\\.0\\.0\\.1:${from![1]}\\) = 8$`, 'm'));
    expect(r.out).toMatch(/^recvfrom\(\d+, "réponse", 1024, 0, 127\.0\.0\.1:\d+\) = 8$/m);
    expect(r.out).toMatch(/^recv\(\d+, "again", 1024, 0\) = 5$/m);
    expect(table(r.out)[ids(r.out)[1]].state).toBe('connected');
    expect(table(r.out)[ids(r.out)[0]].state).toBe('bound');
  });

  it('shows and sets socket options, and keepalive sets its three timers', async () => {
    const r = await script(`
      socket tcp
      options \${id1}
      options \${id1} SO_RCVBUF 32768
      options \${id1} nodelay on
      options \${id1} linger 0
      keepalive \${id1} 10 5 3
      options \${id1} TCP_KEEPINTVL
      socket udp
      options \${id2} broadcast 1
      options \${id2} IP_MULTICAST_IF 127.0.0.1
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}SO_REUSEADDR +0$/m);
    expect(r.out).toMatch(/^ {2}SO_RCVTIMEO +\{tv_sec=0, tv_usec=0\}$/m);
    expect(r.out).toMatch(/^ {2}TCP_KEEPCNT +\d+$/m);
    expect(r.out).toMatch(/^setsockopt\(\d+, SOL_SOCKET, SO_RCVBUF, 32768\) = 0\ngetsockopt\(\d+, SOL_SOCKET, SO_RCVBUF, 65536\) = 0$/m); // socket(7): doubled
    expect(r.out).toMatch(/^setsockopt\(\d+, IPPROTO_TCP, TCP_NODELAY, 1\) = 0$/m);
    expect(r.out).toMatch(/^setsockopt\(\d+, SOL_SOCKET, SO_LINGER, \{l_onoff=1, l_linger=0\}\) = 0$/m);
    for (const [opt, v] of [['SO_KEEPALIVE', 1], ['TCP_KEEPIDLE', 10], ['TCP_KEEPINTVL', 5], ['TCP_KEEPCNT', 3]]) {
      expect(r.out).toMatch(new RegExp(`^setsockopt\\(\\d+, (SOL_SOCKET|IPPROTO_TCP), ${opt}, ${v}\\) = 0$`, 'm'));
    }
    expect(r.out).toContain('keepalive on: first probe after 10 s of silence, then every 5 s; a dead peer is detected after about 10 + 5 × 3 = 25 s');
    expect(r.out).toMatch(/^getsockopt\(\d+, IPPROTO_TCP, TCP_KEEPINTVL, 5\) = 0$/m);
    expect(r.out).toMatch(/^getsockopt\(\d+, IPPROTO_IP, IP_MULTICAST_IF, 127\.0\.0\.1\) = 0$/m);
  });

  it('broadcasts and multicasts on loopback: EACCES without SO_BROADCAST, mjoin/mleave', async () => {
    const r = await script(`
      socket udp
      bind \${id1} 127.255.255.255 0
      getsockname \${id1}
      socket udp
      !EACCES broadcast \${id2} 127.255.255.255 \${port} hi
      options \${id2} SO_BROADCAST 1
      broadcast \${id2} 127.255.255.255 \${port} hi
      recvfrom \${id1}
      socket udp
      bind \${id3} 239.255.77.77 0
      getsockname \${id3}
      mjoin \${id3} 239.255.77.77 127.0.0.1
      socket udp
      options \${id4} IP_MULTICAST_IF 127.0.0.1
      sendto \${id4} 239.255.77.77 \${port} "to the group"
      recvfrom \${id3}
      mleave \${id3} 239.255.77.77 127.0.0.1
    `);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^sendto\(\d+, "hi", 2, 0, 127\.255\.255\.255:\d+\) = -1 EACCES \(Permission denied\)\n {2}sending to a broadcast address needs SO_BROADCAST/m);
    expect(r.out).toMatch(/^recvfrom\(\d+, "hi", 1024, 0, 127\.0\.0\.1:\d+\) = 2$/m);
    expect(r.out).toMatch(/^setsockopt\(\d+, IPPROTO_IP, IP_ADD_MEMBERSHIP, \{imr_multiaddr=239\.255\.77\.77, imr_interface=127\.0\.0\.1\}\) = 0$/m);
    expect(r.out).toMatch(/^recvfrom\(\d+, "to the group", 1024, 0, 127\.0\.0\.1:\d+\) = 12$/m);
    expect(r.out).toMatch(/IP_DROP_MEMBERSHIP.* = 0$/m);
  });

  it.runIf(canRun('IPv6 loopback (::1)', ipv6))('makes IPv6 sockets with v6 or an IPv6 address', async () => {
    const r = await script(`
      passive ::1 0
      connect ::1 \${port}
      accept \${id1}
      socket udp v6
      =
    `);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^socket\(AF_INET6, SOCK_STREAM, 0\) = \d+$/m);
    expect(r.out).toMatch(/^accept\(\d+, \[::1\]:\d+\) = \d+$/m);
    expect(table(r.out)[ids(r.out)[2]]).toMatchObject({ proto: 'tcp6', state: 'ESTABLISHED' });
    expect(table(r.out)[ids(r.out)[3]]).toMatchObject({ proto: 'udp6', state: 'unbound' });
  });

  it('resolves names with getaddrinfo (/etc/hosts)', async () => {
    const r = await script('resolve localhost 3400\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('getaddrinfo("localhost", "3400", &hints, &res) = 0');
    expect(r.out).toMatch(/^ {2}AF_INET +127\.0\.0\.1:3400$/m);
  });

  it('reads comments, quotes, C escapes and ${variables} in scripts', async () => {
    const r = await script([
      '# a comment line',
      '   # an indented one',
      'passive 127.0.0.1 0   # an inline comment mentioning ${undefined_variable}',
      'connect 127.0.0.1 ${port}',
      'accept ${id1}',
      'write ${id2} tab\\there, "quoted #not a comment", \\x41\\102',
      "write ${id2} 'single \\n kept'",
      'write ${id2} "  spaces kept  "',
      'write ${id2} ${GREETING:-salut} ${WHO}',
      'sleep 0.1',
      'read ${id3}',
      'echo id ${id}',
    ].join('\n'), [], { WHO: 'toi' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^write\(\d+, "tab\\there, \\"quoted #not a comment\\", AB", 37\) = 37$/m);
    expect(r.out).toMatch(/^write\(\d+, "single \\\\n kept", 14\) = 14$/m);
    expect(r.out).toMatch(/^write\(\d+, " {2}spaces kept {2}", 15\) = 15$/m);
    expect(r.out).toMatch(/^write\(\d+, "salut toi", 9\) = 9$/m);
    expect(r.out).toMatch(/^socklab> passive 127\.0\.0\.1 0$/m); // echoed without its comment
    expect(r.out).toMatch(new RegExp(`^id ${ids(r.out)[2]}$`, 'm')); // the last socket made: the accepted one
  });

  it('speaks French with --lang fr or LANG=fr_FR.UTF-8', async () => {
    const flag = await script('help\nfrobnicate\nsocket udp\nread ${id} -nb\nclose 99999\n', ['--lang', 'fr']);
    expect(flag.out).toContain("Commandes (ID : l'identificateur d'une socket, son descripteur");
    expect(flag.out).toMatch(/^ {2}Identificateur : \d+$/m);
    expect(flag.out).toContain("aucune socket n'a l'identificateur 99999 (= les liste)");
    expect(flag.out).toContain('connect ID HÔTE PORT [-nb]');
    expect(flag.out).toContain('commande inconnue : frobnicate');
    expect(flag.out).toMatch(/^read\(\d+, buf, 1024\) = -1 EAGAIN \(Resource temporarily unavailable\)$/m); // the C library's words
    expect(flag.err).toContain('socklab : 3 commandes en échec inattendu');
    const env = await script('help listen\n', [], { LANG: 'fr_FR.UTF-8' });
    expect(env.out).toContain('rend une socket TCP passive');
    const english = await script('help listen\n', ['--lang', 'en'], { LANG: 'fr_FR.UTF-8' });
    expect(english.out).toContain('make a TCP socket passive');
  });

  it('runs a script file given as an argument, and refuses a missing one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-file-'));
    try {
      const file = path.join(dir, 'lab.txt');
      writeFileSync(file, 'socket udp\n! connect ${id} 127.0.0.1\nfrobnicate\n');
      const ok = await new Proc([file]).end();
      expect(ok.code).toBe(1);
      expect(ok.out).toContain('usage: connect ID HOST PORT [-nb]'); // a script is never asked for the missing port
      expect(ok.err).toContain(`${file}:2: ! connect \${id} 127.0.0.1`); // a usage error is never an expected failure
      expect(ok.err).toContain(`${file}:3: frobnicate`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const missing = await new Proc(['/nonexistent/lab.txt']).end();
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read /nonexistent/lab.txt');
    const bad = await new Proc(['--frobnicate']).end();
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown argument --frobnicate');
    const help = await new Proc(['--help']).end();
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: socklab [tcp|udp]');
  }, 30_000);

  it.runIf(canRun('comparing socklab\'s trace with strace needs strace', hasCommand('strace')))(
    'trace on prints each call exactly as strace -f -e trace=network does',
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'socklab-strace-'));
      try {
        const straceOut = path.join(dir, 'strace.txt');
        const lines = [
          'trace on', 'passive 127.0.0.1 0 -reuseaddr', 'connect 127.0.0.1 ${port}', 'accept ${id1}', 'write ${id2} "bonjour\\r\\n"',
          'read ${id3}', 'send ${id3} "\\x00\\x01\\x029 octal" -oob', 'recv ${id2} -oob', 'recv ${id2} -peek', 'options ${id2} SO_RCVTIMEO 1500',
          'options ${id2} linger 0', 'shutdown ${id2} wr', 'getpeername ${id3}', 'socket udp', 'bind ${id4} 127.0.0.1 0', 'getsockname ${id4}',
          'options ${id4} IP_MULTICAST_IF 127.0.0.1', 'mjoin ${id4} 239.255.77.77 127.0.0.1', 'sendto ${id4} 127.0.0.1 ${port} datagram',
          'recvfrom ${id4}', 'close ${id4}', '! getpeername ${id1}', ...(ipv6 ? ['socket udp v6', 'bind ${id5} ::1 0', 'getsockname ${id5}'] : []),
          'keepalive ${id3} 10 5 3', 'options ${id3}', '=', 'close ${id2}', 'close ${id3}', 'close ${id1}',
        ];
        const r = spawnSync('strace', ['-f', '-e', 'trace=network,close,read,write,pselect6', '-o', straceOut, process.execPath, cli], {
          env: ENV, input: lines.join('\n'), encoding: 'utf8', timeout: 30_000,
        });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        // socklab's connect is the blocking C call; strace sees the non-blocking one (EINPROGRESS) it waits on.
        const CALL = /^(socket|bind|listen|accept4|getsockname|getpeername|sendto|recvfrom|setsockopt|getsockopt|shutdown|close|read|write|pselect6)\(/;
        const normalize = (line: string) => line.replace(/^\d+\s+/, '').replace(/0x[0-9a-f]+,/, '0x…,').replace(/\s+= /, ' = ').trim();
        const ours = r.stdout.split('\n').filter((l) => CALL.test(l)).map(normalize);
        const theirs = readFileSync(straceOut, 'utf8').split('\n').map(normalize).filter((l) => CALL.test(l));
        expect(ours.length).toBeGreaterThanOrEqual(40);
        let j = 0;
        for (const line of ours) {
          while (j < theirs.length && theirs[j] !== line) j++;
          expect(j < theirs.length, `not in strace's output (in order): ${line}\n--- socklab:\n${r.stdout}`).toBe(true);
          j++;
        }
        // The = table's select is the pselect6 glibc makes, printed by the library's formatter.
        expect(ours).toContainEqual(expect.stringMatching(/^pselect6\(\d+, \[[\d ]+\], \[[\d ]+\], \[[\d ]+\], \{tv_sec=0, tv_nsec=0\}, NULL\) = \d+ \(.*left \{tv_sec=0, tv_nsec=0\}\)$/));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    40_000,
  );
});

describe('socklab: the README', () => {
  it('shows a session that socklab really prints (descriptors and ports aside)', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## socklab'));
    const transcript = /```text\n([\s\S]*?)```/.exec(section)![1];
    // The session's ports, replaced by ports free here: 3400 listens, 3401 refuses.
    const [listening, refused] = [String(freePort()), String(freePort())];
    const local = (text: string) => text.replace(/\b3400\b/g, listening).replace(/\b3401\b/g, refused);
    const sh = new Proc(['-i']);
    await sh.waitFor(/^socklab> $/m);
    // The session's descriptors, which the kernel may number otherwise here: a command's ID is the
    // descriptor the session's socket or accept printed, so it becomes the one this run printed there.
    const fds = new Map<string, string>();
    // Each command with what it printed; a ^C in that output is a Ctrl-C to send once the call blocks.
    for (const block of transcript.split(/^(?=socklab> )/m).filter((b) => b.startsWith('socklab> '))) {
      const command = local(block.split('\n')[0].slice('socklab> '.length))
        .replace(/^(\S+ )(\d+)(?=\s|$)/, (_, name: string, id: string) => `${name}${fds.get(id) ?? id}`);
      // A command missing arguments asks for them: "socket id? 22", "text? …" are answered on the next lines.
      const answers = [...block.matchAll(/^([a-z][a-z ,()]*)\? (.+)$/gm)].map(([, label, answer]) => (label === 'socket id' ? fds.get(answer) ?? answer : local(answer)));
      const from = sh.out.length;
      sh.write(`${[command, ...answers].join('\n')}\n`);
      if (command === 'quit') break;
      if (/^\^C$/m.test(block)) {
        await sh.waitFor(/blocks until/);
        sh.child.kill('SIGINT');
      }
      await sh.waitFor(/\nsocklab> $/);
      const [theirs, ours] = [ids(block), ids(sh.out.slice(from))];
      expect(ours, command).toHaveLength(theirs.length);
      theirs.forEach((id, i) => fds.set(id, ours[i]));
    }
    const r = await sh.done();
    // In a terminal the banner and ^C are shown too; descriptors and ephemeral ports differ run to run.
    const shape = (text: string) => text.split('\n').filter((l) => l && !/^(socklab \d|help lists|\^C$)/.test(l))
      .map((l) => l.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim());
    expect(shape(r.out)).toEqual(shape(local(transcript)));
    expect(r.code).toBe(1); // the interrupted accept and the refused connect, unexpected in a script
  });
});

describe('socklab: the lab scripts, across two socklab processes', () => {
  it('lab 1: a TCP exchange between two socklab instances', async () => {
    const env = { PORT: String(freePort()) };
    const server = new Proc([path.join(labs, 'lab1-tcp-server.txt')], env);
    await server.waitFor(/^listen\(\d+, 5\) = 0$/m);
    const client = await new Proc([path.join(labs, 'lab1-tcp-client.txt')], env).end();
    const s = await server.done();
    expect(client.code, client.out + client.err).toBe(0);
    expect(s.code, s.out + s.err).toBe(0);
    expect(client.out).toMatch(new RegExp(`^connect\\(\\d+, 127\\.0\\.0\\.1:${env.PORT}\\) = 0$`, 'm'));
    expect(client.out).toMatch(/^read\(\d+, "bonjour, client\\n", 1024\) = 16$/m);
    expect(s.out).toMatch(/^read\(\d+, "bonjour, serveur\\n", 1024\) = 17$/m);
    expect(s.out).toMatch(/^read\(\d+, "", 1024\) = 0$/m);
    const [listening, closing] = tables(s.out);
    const [passive, connection] = ids(s.out);
    expect(listening[passive]).toMatchObject({ local: `127.0.0.1:${env.PORT}`, state: 'LISTEN' });
    expect(closing[connection]).toMatchObject({ local: `127.0.0.1:${env.PORT}`, state: 'CLOSE_WAIT' });
    // The quadruplet: the server's remote is the client's local.
    expect(closing[connection].remote).toBe(tables(client.out)[0][ids(client.out)[0]].local);
  });

  it('lab 2: a UDP question and its answer between two socklab instances', async () => {
    const env = { PORT: String(freePort()) };
    const server = new Proc([path.join(labs, 'lab2-udp-server.txt')], env);
    await server.waitFor(/^bind\(\d+, 127\.0\.0\.1:\d+\) = 0$/m);
    const client = await new Proc([path.join(labs, 'lab2-udp-client.txt')], env).end();
    const s = await server.done();
    expect(client.code, client.out + client.err).toBe(0);
    expect(s.code, s.out + s.err).toBe(0);
    const clientPort = /^getsockname\(\d+, 0\.0\.0\.0:(\d+)\) = 0$/m.exec(client.out)![1];
    expect(s.out).toMatch(new RegExp(`^recvfrom\\(\\d+, "question : quelle est la réponse \\?\\\\n", 1024, 0, 127\\.0\\.0\\.1:${clientPort}\\) = 36$`, 'm'));
    expect(s.out).toMatch(new RegExp(`^sendto\\(\\d+, "réponse : 42\\\\n", 14, 0, 127\\.0\\.0\\.1:${clientPort}\\) = 14$`, 'm'));
    expect(client.out).toMatch(new RegExp(`^recvfrom\\(\\d+, "réponse : 42\\\\n", 1024, 0, 127\\.0\\.0\\.1:${env.PORT}\\) = 14$`, 'm'));
  });
});

describe('socklab: foreign peers', () => {
  it('serves a Python client, and connects to a Python server', async () => {
    const port = freePort();
    const server = new Proc([], { PORT: String(port) });
    server.write('passive 127.0.0.1 ${PORT}\naccept ${id1}\nread ${id2}\nwrite ${id2} "pong\\n"\nread ${id2}\n');
    await server.waitFor(/blocks until a client connects/);
    const py = new Proc([], {}, 'python3', ['-c', `
import socket
s = socket.create_connection(("127.0.0.1", ${port}), timeout=10)
s.sendall(b"ping\\n")
print(s.recv(64).decode(), end="")
s.close()
`]);
    const p = await py.end();
    expect(p.out).toBe('pong\n');
    const s = await server.end('close ${id2}\n');
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^read\(\d+, "ping\\n", 1024\) = 5$/m);

    const pyServer = new Proc([], {}, 'python3', ['-c', `
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept(); c.settimeout(10)
c.sendall(c.recv(64).upper()); c.close()
`]);
    const pyPort = (await pyServer.waitFor(/^(\d+)$/m))[1];
    const r = await script(`connect 127.0.0.1 ${pyPort}\nwrite \${id1} "echo me"\nread \${id1}\nread \${id1}\n`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^read\(\d+, "ECHO ME", 1024\) = 7$/m);
    expect(r.out).toMatch(/^read\(\d+, "", 1024\) = 0$/m);
    await pyServer.done();
  });
});

describe('socklab: interactive', () => {
  it('Ctrl-C (SIGINT) during a blocking accept returns to the prompt, and the shell goes on', async () => {
    const sh = new Proc(['-i']);
    await sh.waitFor(/^socklab> $/m);
    sh.write('passive 127.0.0.1 0\n');
    await sh.waitFor(/getsockname\(\d+, 127\.0\.0\.1:\d+\) = 0\nsocklab> $/);
    sh.write('! accept ${id1}\n');
    await sh.waitFor(/^ {2}accept\(\d+\) blocks until a client connects \(Ctrl-C interrupts\)\n$/m);
    sh.child.kill('SIGINT');
    await sh.waitFor(/^accept\(\d+, addr\) = -1 EINTR \(Interrupted system call\)\n {2}interrupted by Ctrl-C \(SIGINT\)[^\n]*\nsocklab> $/m);
    // SIGINT with nothing blocked is not fatal either.
    sh.child.kill('SIGINT');
    sh.write('=\n');
    await sh.waitFor(/LISTEN {2}\. \. \.\nsocklab> $/);
    // The listening socket still works: a client, then the accept that was interrupted.
    sh.write('connect 127.0.0.1 ${port}\naccept ${id1}\n');
    const accepted = (await sh.waitFor(/^accept\(\d+, 127\.0\.0\.1:\d+\) = (\d+)$/m))[1];
    await sh.waitFor(new RegExp(`^ {2}id ${accepted}: connection from 127\\.0\\.0\\.1:\\d+\\nsocklab> $`, 'm'));
    // Ctrl-C ends any wait, sleep included.
    sh.write('! sleep 30\n');
    await sh.waitFor(/sleep 30\n/);
    await new Promise((r) => setTimeout(r, 100));
    sh.child.kill('SIGINT');
    await sh.waitFor(/^nanosleep\(\{tv_sec=30, tv_nsec=0\}\) = -1 EINTR/m, 3000);
    const r = await sh.end('! sleep 0\nquit\n');
    expect(r.out).toContain('expected a failure (!)'); // sleep 0 succeeded: the one unexpected result
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/1 command failed unexpectedly\n {2}stdin:\d+: ! sleep 0\n$/);
  });

  it('a blocking write says so once the send buffer is full, and Ctrl-C returns the bytes written so far', async () => {
    const sh = new Proc(['-i'], { BIG: 'x'.repeat(100_000) });
    await sh.waitFor(/^socklab> $/m);
    // Small buffers on both sides, and nobody reads: the write cannot finish.
    sh.write('passive 127.0.0.1 0\nsocket tcp\noptions ${id2} SO_SNDBUF 4096\nconnect ${id2} 127.0.0.1 ${port}\naccept ${id1}\noptions ${id3} SO_RCVBUF 4096\n');
    await sh.waitFor(/connection from[^\n]*\n(?:.*\n)*?getsockopt\(\d+, SOL_SOCKET, SO_RCVBUF, \d+\) = 0\nsocklab> $/);
    sh.write('write ${id2} ${BIG}\n');
    await sh.waitFor(/^ {2}write\(\d+\) blocks until there is room in the send buffer \(Ctrl-C interrupts\)$/m);
    sh.child.kill('SIGINT');
    const m = await sh.waitFor(/^write\(\d+, "x+"\.\.\., 100000\) = (\d+)\n {2}only (\d+) of 100000 bytes were written before the interruption\nsocklab> $/m);
    expect(Number(m[1])).toBeGreaterThan(0);
    expect(Number(m[1])).toBeLessThan(100_000);
    expect(m[2]).toBe(m[1]);
    const r = await sh.end('quit\n');
    expect(r.code).toBe(0); // a partial write is a success, as write(2) says
  });

  it('in a script, Ctrl-C ends the blocked call and the script (status 130)', async () => {
    const sh = new Proc([]);
    sh.write('passive 127.0.0.1 0\naccept ${id}\necho not reached\n');
    await sh.waitFor(/blocks until a client connects/);
    sh.child.kill('SIGINT');
    const r = await sh.done();
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^accept\(\d+, addr\) = -1 EINTR \(Interrupted system call\)$/m);
    expect(r.out).not.toContain('not reached');
    expect(r.err).toContain('interrupted (Ctrl-C): the script stops here');
  });

  it('asks for the arguments a command is missing, one prompt each, with -i: the next lines answer', async () => {
    const lines = [
      'passive 127.0.0.1 0', 'connect 127.0.0.1', '${port}', 'accept', '${id1}', 'write ${id2} -nb', 'bonjour, serveur',
      'read', '${id3}', 'socket', 'udp', 'bind', '${id}', '0', 'shutdown ${id3}', '',
      'sendto', '${id4}', '127.0.0.1 ${port}', '"x"', 'connect', '${id4}', '127.0.0.1', '${port}',
      'listen', '', 'write', '${id2}', '', 'read',
    ];
    const r = await script(lines.join('\n'), ['-i']);
    // Each prompt, then the answer as typed at it; then the command runs as if typed complete.
    expect(r.out).toMatch(/^socklab> connect 127\.0\.0\.1\nport\? \$\{port\}\nsocket\(AF_INET, SOCK_STREAM, 0\) = \d+\n {2}id \d+ \(the descriptor\)\nconnect\(\d+, 127\.0\.0\.1:\d+\) = 0$/m);
    expect(r.out).toMatch(/^socklab> accept\nsocket id\? \$\{id1\}\naccept\(\d+, 127\.0\.0\.1:\d+\) = \d+\n {2}id \d+: connection from 127\.0\.0\.1:\d+$/m);
    expect(r.out).toMatch(/^socklab> write \$\{id2\} -nb\ntext\? bonjour, serveur\nwrite\(\d+, "bonjour, serveur", 16\) = 16$/m); // -nb stays a flag
    expect(r.out).toMatch(/^socklab> read\nsocket id\? \$\{id3\}\nread\(\d+, "bonjour, serveur", 1024\) = 16$/m);
    expect(r.out).toMatch(/^socklab> socket\nprotocol \(tcp, udp or raw\)\? udp\nsocket\(AF_INET, SOCK_DGRAM, 0\) = \d+$/m);
    // bind ID [ADDR] PORT: the optional address is not asked for.
    const udp = ids(r.out)[3];
    expect(r.out).toMatch(new RegExp(`^socklab> bind\\nsocket id\\? \\$\\{id\\}\\nport\\? 0\\nbind\\(${udp}, 0\\.0\\.0\\.0:0\\) = 0$`, 'm'));
    // An answer of two words fills two places; connect's first answer, an id, tells its form.
    expect(r.out).toMatch(new RegExp(`^socklab> sendto\\nsocket id\\? \\$\\{id4\\}\\nhost\\? 127\\.0\\.0\\.1 \\$\\{port\\}\\ntext\\? "x"\\nsendto\\(${udp}, "x", 1, 0, 127\\.0\\.0\\.1:\\d+\\) = 1$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^socklab> connect\\nsocket id\\? \\$\\{id4\\}\\nhost\\? 127\\.0\\.0\\.1\\nport\\? \\$\\{port\\}\\nconnect\\(${udp}, 127\\.0\\.0\\.1:\\d+\\) = 0$`, 'm'));
    // An empty answer cancels with the usage, at the first question or a later one, before any call.
    expect(r.out).toMatch(/^socklab> shutdown \$\{id3\}\ndirection \(rd, wr or rdwr\)\? \nusage: shutdown ID rd\|wr\|rdwr$/m);
    expect(r.out).toMatch(/^socklab> listen\nsocket id\? \nusage: listen ID \[N\]$/m);
    expect(r.out).toMatch(/^socklab> write\nsocket id\? \$\{id2\}\ntext\? \nusage: write ID TEXT \[-nb\]$/m);
    expect(r.out.match(/^listen\(/gm)).toHaveLength(1); // passive's
    expect(r.out).not.toMatch(/^shutdown\(/m);
    // So does the end of input.
    expect(r.out).toMatch(/\nsocklab> read\nsocket id\? \nusage: read ID \[N\] \[-nb\]\n$/);
    expect(r.code).toBe(1);
    const failed = ['shutdown ${id3}', 'listen', 'write'].map((l) => `stdin:${lines.indexOf(l) + 1}: ${l}\n`).join('  ');
    expect(r.err).toContain(`4 commands failed unexpectedly\n  ${failed}  stdin:${lines.length}: read\n`);
    // In French, and not in a script, which must be complete: there a missing argument is a usage error.
    const fr = await script('socket\ntcp\nbind\n', ['-i', '--lang', 'fr']);
    expect(fr.out).toMatch(/^socklab> socket\nprotocole \(tcp, udp ou raw\) \? tcp\n/m);
    expect(fr.out).toMatch(/^socklab> bind\nIdentificateur de socket \? \nusage : bind ID \[ADDR\] PORT$/m);
    const plain = await script('socket\ntcp\nsocket tcp\nbind ${id}\n0\n');
    expect(plain.out).not.toMatch(/protocol \(|socket id\?/);
    expect(plain.out).toContain('usage: socket tcp|udp|raw [v6]');
    expect(plain.out).toContain('usage: bind ID [ADDR] PORT');
    expect(plain.err).toMatch(/stdin:1: socket\n {2}stdin:2: tcp\n {2}stdin:4: bind \$\{id\}\n {2}stdin:5: 0\n$/);
  });

  it('completes the answer to a missing argument: descriptors for an id, the choices for a word', async () => {
    const session = new Session(() => {}, messages('en'), {});
    try {
      await session.execute('socket tcp');
      const fd = session.vars.get('id')!;
      const offered: [string[], string][] = [];
      const labels: string[] = [];
      const replies = ['w', fd];
      session.ask = async (label) => {
        labels.push(label);
        offered.push(session.complete(''), session.complete(fd.slice(0, 1)), session.complete('r'));
        return replies.pop();
      };
      // Run as if typed complete, and refused as such: w is not rd|wr|rdwr.
      expect(await session.execute('shutdown')).toEqual({ status: 'usage', completed: `shutdown ${fd} w` });
      expect(labels).toEqual(['socket id? ', 'direction (rd, wr or rdwr)? ']);
      expect(offered[0]).toEqual([[fd], '']);
      expect(offered[1]).toEqual([[fd], fd.slice(0, 1)]);
      expect(offered[3]).toEqual([['rd', 'wr', 'rdwr'], '']);
      expect(offered[5]).toEqual([['rd', 'rdwr'], 'r']);
      expect(session.asking).toBeUndefined();
      expect(session.complete('sh')).toEqual([['shutdown'], 'sh']); // a command line again
    } finally {
      session.closeAll();
    }
  });

  it('completes commands, their words, socket ids, option names and flags', async () => {
    const session = new Session(() => {}, messages('en'), {});
    try {
      await session.execute('socket tcp');
      await session.execute('socket udp');
      const [tcp, udp] = [session.vars.get('id1')!, session.vars.get('id2')!];
      const both = [tcp, udp].sort((a, b) => Number(a) - Number(b));
      expect(session.ids().map(String)).toEqual(both); // the descriptors, in order: the only ids
      expect(session.complete('so')).toEqual([['socket'], 'so']);
      expect(session.complete('socket ')[0]).toEqual(['tcp', 'udp', 'raw']);
      expect(session.complete('read ')[0]).toEqual(both);
      expect(session.complete('! close ')[0]).toEqual(both);
      expect(session.complete('!ECONNREFUSED con')[0]).toEqual(['connect']);
      expect(session.complete(`recv ${tcp} -p`)).toEqual([['-peek'], '-p']);
      expect(session.complete(`options ${tcp} TCP_KEEP`)[0]).toEqual(['TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT']);
      expect(session.complete(`options ${udp} `)[0]).toContain('IP_MULTICAST_IF'); // UDP options for a UDP socket
      expect(session.complete(`options ${udp} `)[0]).not.toContain('TCP_NODELAY');
      expect(session.complete(`shutdown ${tcp} `)[0]).toEqual(['rd', 'wr', 'rdwr']);
      expect(session.complete('help re')[0]).toEqual(['read', 'recv', 'recvfrom', 'resolve']);
    } finally {
      session.closeAll();
    }
  });

  it.runIf(hasCommand('script'))('in a terminal (a pseudo-terminal through script(1)): prompt, Tab completion, history, Ctrl-C', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-pty-'));
    try {
      const history = path.join(dir, 'history');
      // TERM=dumb would turn readline's completion off: a terminal that can move its cursor.
      const sh = new Proc([], { SOCKLAB_HISTORY: history, TERM: 'xterm' }, 'script', ['-qfec', `${process.execPath} ${cli}`, '/dev/null']);
      await sh.waitFor(/Tab completes/);
      await sh.waitFor(atPrompt);
      sh.write('soc\t');
      await sh.waitFor(ending('socket'));
      sh.write(' tcp\r');
      const fd = (await sh.waitFor(/socket\(AF_INET, SOCK_STREAM, 0\) = (\d+)\r?\n {2}id \1 \(the descriptor\)/))[1];
      await sh.waitFor(atPrompt);
      sh.write(`listen ${fd}\r`);
      await sh.waitFor(new RegExp(`listen\\(${fd}, 5\\) = 0`));
      await sh.waitFor(atPrompt);
      sh.write('accept \t');
      await sh.waitFor(ending(fd)); // the only socket's descriptor
      sh.write('\r');
      await sh.waitFor(/blocks until a client connects/);
      sh.write('\x03'); // Ctrl-C: the terminal is raw, so readline gets it, not the kernel
      await sh.waitFor(/\^C\r?\n(?:.*\n)*?accept\(\d+, addr\) = -1 EINTR/);
      await sh.waitFor(atPrompt);
      sh.write('half-typed\x03'); // at the prompt: drops the line, as a shell does
      await sh.waitFor(/\^C/);
      await sh.waitFor(atPrompt);
      sh.write('=\r');
      await sh.waitFor(/LISTEN/);
      await sh.waitFor(atPrompt);
      const r = await sh.end('quit\r');
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('unknown command');
      expect(readFileSync(history, 'utf8').split('\n')).toEqual(expect.arrayContaining(['socket tcp', `listen ${fd}`, `accept ${fd}`, '=', 'quit']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(hasCommand('script'))('in a terminal: a command missing arguments asks for each, Tab completes the answer, Ctrl-C cancels', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-ask-'));
    try {
      const history = path.join(dir, 'history');
      const sh = new Proc([], { SOCKLAB_HISTORY: history, TERM: 'xterm' }, 'script', ['-qfec', `${process.execPath} ${cli}`, '/dev/null']);
      await sh.waitFor(atPrompt);
      sh.write('socket\r');
      await sh.waitFor(ending('protocol \\(tcp, udp or raw\\)\\? '));
      sh.write('tcp\r');
      const fd = (await sh.waitFor(/socket\(AF_INET, SOCK_STREAM, 0\) = (\d+)\r?\n {2}id \1 \(the descriptor\)/))[1];
      await sh.waitFor(atPrompt);
      sh.write('listen\r');
      await sh.waitFor(ending('socket id\\? '));
      sh.write(`${fd}\r`);
      await sh.waitFor(new RegExp(`listen\\(${fd}, 5\\) = 0`));
      await sh.waitFor(atPrompt);
      // Tab completes the answer: an id is a descriptor, and this is the only socket.
      sh.write('getsockname\r');
      await sh.waitFor(ending('socket id\\? '));
      sh.write('\t');
      await sh.waitFor(ending(fd));
      sh.write('\r');
      await sh.waitFor(new RegExp(`getsockname\\(${fd}, 0\\.0\\.0\\.0:\\d+\\) = 0`));
      await sh.waitFor(atPrompt);
      // Ctrl-C at a question cancels the command, with its usage, and the shell goes on.
      sh.write('bind\r');
      await sh.waitFor(ending('socket id\\? '));
      sh.write(`${fd}\r`);
      await sh.waitFor(ending('port\\? '));
      sh.write('12\x03');
      await sh.waitFor(/\^C\r?\n(?:.*\n)*?usage: bind ID \[ADDR\] PORT/);
      await sh.waitFor(atPrompt);
      sh.write('=\r');
      await sh.waitFor(new RegExp(`${fd} +tcp +\\*:\\d+ +- +LISTEN`));
      await sh.waitFor(atPrompt);
      const r = await sh.end('quit\r');
      expect(r.code).toBe(0);
      expect(r.out).not.toMatch(/^bind\(/m);
      // The history keeps each command as completed by its answers, and no answer alone.
      const h = readFileSync(history, 'utf8').split('\n');
      expect(h).toEqual(expect.arrayContaining(['socket tcp', `listen ${fd}`, `getsockname ${fd}`, 'bind', '=', 'quit']));
      expect(h).not.toContain('tcp');
      expect(h).not.toContain(fd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The socklab points, as a student meets them at a terminal: the descriptor as the
  // identifier, a call the kernel refuses at once says nothing of blocking, and TIME_WAIT in the table.
  it.runIf(canRun('socklab in a real terminal needs tmux', hasCommand('tmux')))('in tmux: descriptors as ids, no "blocks" for a call refused at once, TIME_WAIT in the table', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-tmux-'));
    const { tmux, screen, until, quit } = tmuxServer(`socklab-test2-${process.pid}`);
    const type = async (line: string, then: RegExp) => {
      tmux('send-keys', '-t', 'lab', '-l', line);
      tmux('send-keys', '-t', 'lab', 'Enter');
      await until(then);
    };
    try {
      const cmd = `env LANG=C SOCKLAB_HISTORY=${path.join(dir, 'h')} ${process.execPath} ${cli}`;
      expect(tmux('new-session', '-d', '-s', 'lab', '-x', '200', '-y', '50', cmd).status).toBe(0);
      await until(/socklab>\s*$/m);
      await type('passive 127.0.0.1 0', /getsockname\(\d+, 127\.0\.0\.1:\d+\) = 0\nsocklab>\s*$/m);
      const lfd = /^ {2}id (\d+) \(the descriptor\)$/m.exec(screen())![1];
      const port = /getsockname\(\d+, 127\.0\.0\.1:(\d+)\) = 0/.exec(screen())![1];
      // read(2) on a listening socket fails at once: no line saying it blocks.
      await type(`read ${lfd}`, new RegExp(`^read\\(${lfd}, buf, 1024\\) = -1 ENOTCONN.*\\n(?:.*\\n)*?socklab>\\s*$`, 'm'));
      expect(screen()).not.toContain('blocks');
      await type('socket tcp', /^ {2}id (\d+) \(the descriptor\)\nsocklab>\s*$/m);
      const cfd = [...screen().matchAll(/^ {2}id (\d+) \(the descriptor\)$/gm)].pop()![1];
      // The number socket printed is what every command takes.
      await type(`connect ${cfd} 127.0.0.1 ${port}`, new RegExp(`^connect\\(${cfd}, 127\\.0\\.0\\.1:${port}\\) = 0$`, 'm'));
      await type(`accept ${lfd}`, /^ {2}id (\d+): connection from 127\.0\.0\.1:\d+\nsocklab>\s*$/m);
      const afd = /^ {2}id (\d+): connection from/m.exec(screen())![1];
      await type(`shutdown ${cfd} wr`, new RegExp(`^shutdown\\(${cfd}, SHUT_WR\\) = 0$`, 'm'));
      await type(`close ${afd}`, new RegExp(`^close\\(${afd}\\) = 0$`, 'm'));
      await type('sleep 0.2', /^socklab> sleep 0\.2\nsocklab>\s*$/m); // the peer's FIN comes meanwhile
      await type('=', new RegExp(`^ *${cfd} +tcp +127\\.0\\.0\\.1:\\d+ +- +TIME_WAIT `, 'm'));
      expect(await quit()).toBe(true);
    } finally {
      tmux('kill-server');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A real terminal emulator: .ci/run installs tmux, so CI always runs this.
  it.runIf(canRun('socklab in a real terminal needs tmux', hasCommand('tmux')))('in tmux: completion of commands, options and ids, and the prompt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'socklab-tmux-'));
    const { tmux, screen, until } = tmuxServer(`socklab-test-${process.pid}`, []);
    try {
      const cmd = `env LANG=C SOCKLAB_HISTORY=${path.join(dir, 'h')} ${process.execPath} ${cli}`;
      expect(tmux('new-session', '-d', '-s', 'lab', '-x', '160', '-y', '40', cmd).status).toBe(0);
      await until(/socklab>\s*$/m);
      tmux('send-keys', '-t', 'lab', 'pass');
      await until(/socklab> pass\s*$/m);
      tmux('send-keys', '-t', 'lab', 'Tab');
      await until(/socklab> passive\s*$/m);
      tmux('send-keys', '-t', 'lab', ' 127.0.0.1 0', 'Enter');
      await until(/getsockname\(\d+, 127\.0\.0\.1:\d+\) = 0\nsocklab>\s*$/m);
      const fd = /^ {2}id (\d+) \(the descriptor\)$/m.exec(screen())![1];
      // One key at a time, as a person types: readline completes asynchronously.
      tmux('send-keys', '-t', 'lab', `options ${fd} SO_RCV`);
      await until(new RegExp(`socklab> options ${fd} SO_RCV\\s*$`, 'm'));
      tmux('send-keys', '-t', 'lab', 'Tab');
      await new Promise((r) => setTimeout(r, 200));
      tmux('send-keys', '-t', 'lab', 'Tab');
      await until(/SO_RCVBUF\s+SO_RCVTIMEO/);
      tmux('send-keys', '-t', 'lab', 'B');
      await until(new RegExp(`socklab> options ${fd} SO_RCVB\\s*$`, 'm'));
      tmux('send-keys', '-t', 'lab', 'Tab');
      await until(new RegExp(`socklab> options ${fd} SO_RCVBUF\\s*$`, 'm'));
      tmux('send-keys', '-t', 'lab', 'Enter');
      await until(new RegExp(`getsockopt\\(${fd}, SOL_SOCKET, SO_RCVBUF, \\d+\\) = 0`));
      tmux('send-keys', '-t', 'lab', `read ${fd} -n`);
      await until(new RegExp(`socklab> read ${fd} -n\\s*$`, 'm'));
      tmux('send-keys', '-t', 'lab', 'Tab');
      await until(new RegExp(`socklab> read ${fd} -nb\\s*$`, 'm'));
      tmux('send-keys', '-t', 'lab', 'C-u', 'quit', 'Enter');
      const deadline = Date.now() + 5000;
      while (tmux('has-session', '-t', 'lab').status === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(tmux('has-session', '-t', 'lab').status).not.toBe(0); // socklab left, and its window with it
    } finally {
      tmux('kill-server');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
