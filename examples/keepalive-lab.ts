// The keepalive lab: TCP keepalive probes on the wire, a dead peer detected in idle + interval × count
// seconds, and TCP_USER_TIMEOUT cutting a connection whose data is never acknowledged.
//
//   npm run keepalive-lab -- [--idle S] [--interval S] [--count N] [--user-timeout MS] [--svg FILE]
//
// One client and one server on 127.0.0.1, in three parts:
//   1. A live peer: the client's kernel sends a probe after `idle` seconds of silence, then every
//      `interval` seconds; each is answered, so the connection stays up.
//   2. The peer vanishes (everything the server side sends is dropped): `count` probes go unanswered,
//      TCP_INFO's `probes` counts them, and the pending read() fails with ETIMEDOUT.
//   3. TCP_USER_TIMEOUT (--user-timeout MS, default 3000; 0 skips this part), keepalive off: the client
//      writes data the vanished peer never acknowledges. The kernel retransmits it, each time waiting
//      twice as long (RTO backoff: TCP_INFO's `backoff`), SIOCOUTQ says the bytes are still unacknowledged,
//      and MS milliseconds after the first retransmission timeout (tcp_write_timeout counts from there)
//      the pending read() fails with ETIMEDOUT. A first resend about 200 ms after the data, which
//      backoff does not count, is a tail loss probe (RFC 8985).
//
// Every packet is shown as the library's own capture sees it (a packet socket on the loopback, the
// course's example of packet(7): no tcpdump involved), with its time since the last data the client
// wrote; in between, what the client's socket says of itself: ioctl(SIOCOUTQ) and getsockopt(TCP_INFO).
//
// What it needs, and what it does without:
// - The packets: CAP_NET_RAW (root), for socket(AF_PACKET). Without it the lab says so and goes on
//   with SIOCOUTQ and TCP_INFO alone.
// - Parts 2 and 3: root, `unshare` and `ip` (the lab starts again in a network namespace of its own,
//   loopback up: its firewall rule then touches nothing else) and `iptables` (the rule that makes the
//   peer vanish). Without them the lab runs part 1 and says what it cannot do. KEEPALIVE_LAB_NETNS=1
//   says the lab is already alone in a namespace of its own (loopback up), so it does not unshare.
// - --svg FILE: the run's picture, written to FILE: the library's trace with the wire on
//   (trace({ to, wire: true })) records every call and the packets between them, and
//   renderDiagram(lines, 'svg') draws them, a lane per end, each call a box, each packet an arrow.
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  AF_INET, IPPROTO_TCP, SIOCOUTQ, SOCK_STREAM, TCP_INFO, type CapturedPacket, type SocketHandle, accept, bind, close, connect,
  getsockname, getsockopt, ioctl, listen, read, renderDiagram, setKeepAlive, socket, trace, write,
} from 'berkeley-sockets';
import * as promises from 'berkeley-sockets/promises';

const HELP = `usage: npm run keepalive-lab -- [options]

  --idle S           TCP_KEEPIDLE: seconds of silence before the first probe (default 1)
  --interval S       TCP_KEEPINTVL: seconds between probes (default 1)
  --count N          TCP_KEEPCNT: unanswered probes before the peer is declared dead (default 3)
  --user-timeout MS  TCP_USER_TIMEOUT for part 3: milliseconds data may stay unacknowledged
                     (default 3000; 0 skips part 3)
  --svg FILE         write the run's picture (calls and packets) to FILE
  --help             this text

Part 1 (a live peer) runs anywhere. Parts 2 and 3 make the peer vanish with iptables in a network
namespace of the lab's own: they need root, unshare, ip and iptables. The packets need CAP_NET_RAW.`;

// ---- The command line --------------------------------------------------------------------------
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}
function option(name: string, fallback: number, min: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < min) {
    console.error(`--${name} must be a whole number >= ${min}\n\n${HELP}`);
    process.exit(2);
  }
  return v;
}
const idle = option('idle', 1, 1);
const interval = option('interval', 1, 1);
const count = option('count', 3, 1);
const userTimeout = option('user-timeout', 3000, 0);
const svgAt = argv.indexOf('--svg');
const svgFile = svgAt >= 0 ? argv[svgAt + 1] : undefined;
if (svgAt >= 0 && !svgFile) {
  console.error(`--svg needs a file name\n\n${HELP}`);
  process.exit(2);
}

// ---- Where we run: root? a namespace of our own? which tools? ----------------------------------
const root = process.getuid?.() === 0;
const isolated = process.env.KEEPALIVE_LAB_NETNS === '1';

/** Whether `cmd` is an executable file in one of PATH's directories (what the shell's `command -v` finds). */
function has(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(path.join(dir || '.', cmd), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

// As root, start again inside a fresh network namespace (unshare -n): the iptables rule that makes the
// peer vanish then touches nothing but the lab, and the namespace dies with the lab's process.
// (A container may refuse unshare even to root: it needs CAP_SYS_ADMIN. Try it first.)
const canUnshare = root && !isolated && has('unshare') && has('ip') && has('iptables') && spawnSync('unshare', ['-n', 'true']).status === 0;
if (canUnshare) {
  const r = spawnSync('unshare', ['-n', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, KEEPALIVE_LAB_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}
// A new namespace's loopback is down: 127.0.0.1 is unreachable until it is up.
if (isolated && has('ip')) spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'inherit' });

/** Why the peer cannot be made to vanish here, or undefined when it can. */
function whyNoVanishing(): string | undefined {
  if (!root) return 'they need root (a network namespace of the lab\'s own, and iptables in it)';
  const missing = (isolated ? ['iptables'] : ['unshare', 'ip', 'iptables']).filter((c) => !has(c));
  if (missing.length > 0) return `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not on PATH (the lab will not touch this host's own firewall)`;
  if (!isolated && !canUnshare) return 'unshare -n failed (CAP_SYS_ADMIN refused?), and the lab will not touch this host\'s own firewall';
  return undefined;
}

// ---- A clock, and the lines of the run in time order --------------------------------------------
/**
 * Now on CLOCK_REALTIME, to the microsecond: the clock the kernel stamps each captured packet with
 * (SO_TIMESTAMPNS). Date.now() has only the millisecond.
 */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The packets arrive through the capture a little after the kernel stamped them, and the socket's
 * state is sampled on a timer: each line waits here a moment and is printed in the order of its time.
 */
const pending: { t: number; text: string }[] = [];
/** Times are printed since the client's last data (before any: since its connect()): these moments. */
const bases: number[] = [];
function newBase(): void {
  bases.push(now());
}
function since(t: number): string {
  let base = bases[0] ?? t;
  for (const b of bases) if (b <= t) base = b;
  return `+${((t - base) / 1000).toFixed(3)} s`;
}
function at(t: number, text: string): void {
  pending.push({ t, text });
}
function flush(all = false): void {
  pending.sort((a, b) => a.t - b.t);
  const until = all ? Infinity : now() - 50;
  while (pending.length > 0 && pending[0].t <= until) {
    const { t, text } = pending.shift()!;
    console.log(`  ${since(t).padStart(8)}  ${text}`);
  }
}
const printer = setInterval(flush, 20);
function say(text: string): void {
  flush(true);
  console.log(text);
}

// ---- The packets ---------------------------------------------------------------------------------
/** What the lab knows of one connection: initial sequence numbers, the client's next byte, its sends. */
interface Conn {
  isn: { client?: number; server?: number };
  sent: number; // the client's highest sequence number sent + 1 (relative)
  lastSend?: number; // when the client's last new data or retransmission left
  retransmissions: number;
  probeAt?: number; // when the last keepalive probe left
}
const conns = new Map<number, Conn>(); // by the client's port
let droppedSince = Infinity; // when the iptables rule went in: the server's packets after it are lost

const rel = (seq: number, isn: number | undefined) => (isn === undefined ? seq : (seq - isn) >>> 0);

/**
 * One packet, in tcpdump's words with relative sequence numbers (as tcpdump prints them without -S),
 * plus the sequence number of every segment (tcpdump shows it only for data, SYN, FIN and RST: a
 * keepalive probe's is the point), and what the packet is.
 */
function describe(p: CapturedPacket, serverPort: number): void {
  const tcp = p.tcp!;
  const fromServer = tcp.srcPort === serverPort;
  const c = conns.get(fromServer ? tcp.dstPort : tcp.srcPort);
  if (c === undefined) return;
  const me = fromServer ? 'server' : 'client';
  const peer = fromServer ? 'client' : 'server';
  if (tcp.flags.SYN) c.isn[me] = tcp.seq;
  const seq = rel(tcp.seq, c.isn[me]);
  const ack = rel(tcp.ack, c.isn[peer]);
  const len = tcp.payloadLength;
  let words = `Flags [${tcp.flagString}], seq ${seq}${len > 0 ? `:${seq + len}` : ''}`;
  if (tcp.flags.ACK) words += `, ack ${ack}`;
  words += `, length ${len}`;

  let what = '';
  if (tcp.flags.SYN) what = 'handshake';
  else if (tcp.flags.RST && fromServer) what = 'RST: the server closed with data it never read';
  else if (tcp.flags.RST) what = 'RST: the client\'s kernel gives the connection up';
  else if (tcp.flags.FIN) what = `FIN: the ${me} closed`;
  else if (!fromServer && len > 0 && seq + len > c.sent) {
    c.sent = seq + len;
    c.lastSend = p.ms;
    c.retransmissions = 0;
    what = `${len} byte(s) of data`;
  } else if (!fromServer && len > 0) {
    c.retransmissions++;
    what = `retransmission ${c.retransmissions}, ${((p.ms - c.lastSend!) / 1000).toFixed(3)} s after the previous send`;
    c.lastSend = p.ms;
  } else if (!fromServer && len === 0 && seq === c.sent - 1) {
    // RFC 9293 3.8.4: a probe carries the sequence number of the last byte already acknowledged,
    // so the peer, seeing old data, must answer with an ACK.
    what = `keepalive probe: seq ${seq}, one below the next byte (${c.sent}), so the peer must answer`;
    c.probeAt = p.ms;
  } else if (!fromServer && len === 0 && c.lastSend === undefined && c.probeAt === undefined) {
    what = 'handshake';
  } else if (fromServer && len === 0) {
    const lost = p.ms >= droppedSince ? ', dropped by iptables before the client sees it' : '';
    if (c.probeAt !== undefined && p.ms - c.probeAt < 100) what = `ACK of the probe${lost || ': the peer is alive'}`;
    else what = `${ack === c.sent ? 'ACK of the data' : 'ACK'}${lost}`;
  } else if (len === 0) {
    what = 'ACK';
  }
  at(p.ms, `${me} → ${peer}  ${words.padEnd(43)} ${what}`);
}

/** Reads the capture until it is closed, printing each packet; resolves when it ends. */
async function printPackets(stream: promises.PacketStream, serverPort: number): Promise<void> {
  for await (const p of stream) if (p.tcp) describe(p, serverPort);
}

// ---- The client's socket, as it sees itself -------------------------------------------------------
/**
 * Every 10 ms, ioctl(SIOCOUTQ) (bytes sent and not yet acknowledged) and getsockopt(TCP_INFO) (probes:
 * unanswered keepalive probes; backoff: how many times the retransmission timeout doubled;
 * retransmits) on the client; a line each time one of them changes. Without packets to show, also
 * each ACK that came in (TCP_INFO's last_ack_recv going back to 0): the answer to a probe.
 */
function watch(cli: SocketHandle, withAcks: boolean): () => void {
  let last = '';
  let lastAck = Infinity;
  const sample = () => {
    let info;
    let outq;
    try {
      info = getsockopt(cli, IPPROTO_TCP, TCP_INFO!);
      outq = ioctl(cli, SIOCOUTQ!);
    } catch {
      return; // the socket is gone
    }
    const t = now();
    const line = `SIOCOUTQ ${outq}, TCP_INFO probes ${info.probes}, backoff ${info.backoff}, retransmits ${info.retransmits} (${info.stateName})`;
    if (line !== last) at(t, `client's socket: ${line}`);
    last = line;
    if (withAcks && info.last_ack_recv < lastAck && lastAck !== Infinity && info.last_ack_recv < 50) {
      at(t, `client's socket: an ACK came in ${info.last_ack_recv} ms ago (TCP_INFO last_ack_recv)`);
    }
    lastAck = info.last_ack_recv;
  };
  sample();
  const timer = setInterval(sample, 10);
  return () => clearInterval(timer);
}

/** Waits on read() until the kernel fails it (or the lab's own limit, an abort — never ETIMEDOUT). */
async function readUntilError(cli: SocketHandle, limitMs: number): Promise<{ code?: string; ms: number }> {
  const t0 = now();
  try {
    await promises.read(cli, Buffer.alloc(16), undefined, { signal: AbortSignal.timeout(limitMs) });
    return { code: 'none: read() returned data', ms: now() - t0 };
  } catch (e) {
    return { code: (e as { code?: string }).code, ms: now() - t0 };
  }
}

/** iptables -A (add) or -D (delete) the rule that drops every packet the server side sends. */
function dropServer(port: number, add: boolean): void {
  const r = spawnSync('iptables', [add ? '-A' : '-D', 'INPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iptables failed: ${r.stderr || r.error}`);
  droppedSince = add ? now() : Infinity;
}

/** A new connection to the server: connect, accept, and the names the lab prints for it. */
function connectTo(srv: SocketHandle, port: number): { cli: SocketHandle<typeof AF_INET>; conn: SocketHandle } {
  const cli = socket(AF_INET, SOCK_STREAM, 0);
  newBase();
  connect(cli, { family: AF_INET, address: '127.0.0.1', port });
  const { fd: conn } = accept(srv);
  const cport = getsockname(cli).port;
  conns.set(cport, { isn: {}, sent: 1, retransmissions: 0 });
  say(`client 127.0.0.1:${cport} → server 127.0.0.1:${port}`);
  return { cli, conn };
}

async function main(): Promise<void> {
  // --svg: the library's trace records every call of the run, and (wire: true) the packets between
  // them, from a capture of its own; the picture is drawn from those lines at the end.
  const traced: string[] = [];
  if (svgFile !== undefined) trace({ to: (line: string) => traced.push(line), wire: true });

  // The server: a listening socket on a port the kernel chooses.
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 1);
  const port = getsockname(srv).port;

  // The capture: a packet socket on the loopback with a BPF filter for this port, opened now so
  // that it sees the handshake. Needs CAP_NET_RAW: without it the first next() fails with EPERM.
  const stream = promises.capture('lo', { filter: `tcp and port ${port}` });
  const captureFd = stream.socket?.fd.fd;
  let packets: Promise<void> | undefined;
  if (stream.socket !== undefined) {
    console.log(`capturing on lo with the library's packet socket: tcp and port ${port}`);
    packets = printPackets(stream, port);
  } else {
    const err = await stream.next().then(() => undefined, (e: { code?: string; message?: string }) => e);
    if (err?.code === 'EPERM' || err?.code === 'EACCES') {
      console.log(`no packets: the capture needs CAP_NET_RAW to open a packet socket (socket(AF_PACKET, SOCK_RAW) failed: ${err.code}).`);
      console.log('The socket\'s own view (SIOCOUTQ, TCP_INFO) follows; as root: sudo npm run keepalive-lab');
    } else {
      console.log(`no packets: the capture could not be opened (${err?.code ?? ''} ${err?.message ?? ''}); the socket's own view follows.`);
    }
  }
  const noPackets = packets === undefined;
  const buf = Buffer.alloc(16);

  // 1. A live peer: every probe is answered, the connection stays up.
  console.log(`\n1. A live peer answers every probe (keepalive idle=${idle}s interval=${interval}s count=${count}):`);
  console.log(`   watch: after ${idle} s of silence, a probe every ${interval} s, each answered at once`);
  const { cli, conn } = connectTo(srv, port);
  setKeepAlive(cli, { idle, interval, count });
  newBase();
  let stop = watch(cli, noPackets);
  write(cli, 'x'); // the last data: keepalive counts from here
  read(conn, buf);
  await sleep((idle + interval * Math.min(count, 2)) * 1000 + 400);
  stop();

  const why = whyNoVanishing();
  if (why !== undefined) {
    say(`\n2. and 3. (a vanished peer: keepalive, then TCP_USER_TIMEOUT) cannot run here: ${why}.`);
    say(`   By hand, as root: sudo unshare -n sh -c 'ip link set lo up; iptables -A INPUT -p tcp --sport PORT -j DROP; …'`);
  } else {
    // 2. The peer vanishes: from now on everything the server side sends is dropped.
    const expected = idle + interval * count;
    say('\n2. The peer vanishes (iptables drops what it sends) right after acknowledging the last data:');
    say(`   watch: the probes go unanswered, TCP_INFO's probes counts them; at ${count} the kernel gives up`);
    newBase();
    stop = watch(cli, noPackets);
    write(cli, 'y');
    read(conn, buf);
    await sleep(20); // the ACK of 'y' reaches the client: no data is left unacknowledged
    dropServer(port, true);
    const r = await readUntilError(cli, (expected + 10) * 1000);
    stop();
    at(now(), `read() failed with ${r.code} after ${(r.ms / 1000).toFixed(2)} s` +
      ` (idle + interval × count = ${idle} + ${interval} × ${count} = ${expected} s)`);
    if (r.code !== 'ETIMEDOUT') process.exitCode = 1;
    close(cli);
    close(conn);

    if (userTimeout > 0) {
      // 3. A new connection (the rule lifted for its handshake), keepalive off, TCP_USER_TIMEOUT on;
      // the peer vanishes again, and the client writes data that will never be acknowledged.
      await sleep(100);
      dropServer(port, false);
      say(`\n3. TCP_USER_TIMEOUT=${userTimeout} ms, keepalive off: the peer vanishes, the client writes data it never acknowledges:`);
      say('   watch: each retransmission waits twice as long as the one before (TCP_INFO backoff), SIOCOUTQ keeps');
      say(`   the bytes, and the kernel gives up ${userTimeout} ms after the first retransmission timeout (a first resend`);
      say('   ~200 ms after the data that backoff does not count is a tail loss probe, RFC 8985)');
      const c3 = connectTo(srv, port);
      setKeepAlive(c3.cli, { enable: false, userTimeout });
      dropServer(port, true);
      newBase();
      stop = watch(c3.cli, noPackets);
      const n = write(c3.cli, 'never acknowledged');
      at(now(), `write() returned ${n}: the bytes are in the kernel's send queue, not at the peer`);
      const r3 = await readUntilError(c3.cli, userTimeout + 10_000);
      stop();
      at(now(), `read() failed with ${r3.code} after ${(r3.ms / 1000).toFixed(2)} s (TCP_USER_TIMEOUT = ${(userTimeout / 1000).toFixed(2)} s, counted from the first retransmission timeout)`);
      if (r3.code !== 'ETIMEDOUT') process.exitCode = 1;
      close(c3.cli);
      close(c3.conn);
    }
  }
  close(cli); // close() is idempotent: part 2 may have closed these already
  close(conn);
  close(srv);
  await sleep(150); // the last packets reach the capture
  stream.close();
  await packets;
  clearInterval(printer);
  flush(true);
  if (svgFile !== undefined) {
    trace(false);
    writeFileSync(svgFile, renderDiagram(forThePicture(traced, captureFd), 'svg'));
    console.log(`\nthe run's picture: ${svgFile} (open it in a browser)`);
  }
}

/**
 * The trace lines the picture draws: not the lab's own machinery — its capture's packet socket
 * (opened, watched, then read packet by packet), the TCP_INFO it samples every 10 ms, and how the
 * promises API starts watching a descriptor (getsockopt SO_TYPE, libuv's epoll_ctl: see trace.ts's
 * traceWatch) — and of the SIOCOUTQ samples (strace calls the request TIOCOUTQ: the same number)
 * only those whose answer changed.
 */
function forThePicture(lines: string[], captureFd: number | undefined): string[] {
  const own = captureFd === undefined ? undefined : new RegExp(`^(\\[pid +\\d+\\] )?\\w+\\(${captureFd}[,)]`); // a call on the capture
  const outq = new Map<string, string>(); // descriptor → the last SIOCOUTQ answer drawn
  return lines.filter((line) => {
    if (/AF_PACKET|TCP_INFO|^(\[pid +\d+\] )?epoll_ctl\(|SO_TYPE/.test(line) || own?.test(line)) return false;
    const fresh = /^socket\(.*= (\d+)$/.exec(line); // a descriptor number used again: a new socket
    if (fresh !== null) outq.delete(fresh[1]);
    const q = /ioctl\((\d+), [TS]IOCOUTQ, \[(\d+)\]\)/.exec(line);
    if (q === null) return true;
    const changed = outq.get(q[1]) !== q[2];
    outq.set(q[1], q[2]);
    return changed;
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
