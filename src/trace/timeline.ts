// A trace read back: its call lines (strace's format) and the wire trace's packet lines (wire.ts),
// parsed into calls and packets in the trace's order, each call given the socket it acts on and each
// socket its side (client or server). The pictures (diagram.ts: text and Mermaid; svg.ts) draw from it,
// so that a saved trace draws as a live one does.

/** One traced call, parsed from its strace-format line. */
export interface Call {
  /** The process, from strace -f's `[pid N] ` prefix ('' before the first fork, when there is none). */
  pid: string;
  name: string;
  fd: number;
  rc: string;
  ok: boolean;
  line: string;
  data?: string;
  addr?: string;
  /** The port of `addr`, or 0. */
  port: number;
  newFd?: number;
}

const ADDR = /sin6?_port=htons\((\d+)\), (?:sin_addr=inet_addr\("([^"]+)"\)|sin6_flowinfo=htonl\(\d+\), inet_pton\(AF_INET6, "([^"]+)")/;

/** A call line, or undefined for any other line. */
export function parseCall(line: string): Call | undefined {
  const m = /^(?:\[pid +(\d+)\] )?(\w+)\((\d+|AF_\w+|child_stack=)?(.*)\)\s+= (.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, pid = '', name, first, rest, rc] = m;
  const call: Call = { pid, name, fd: Number(first), rc, ok: !rc.startsWith('-1'), line: line.trim(), port: 0 };
  const d = /^, ("(?:[^"\\]|\\.)*"(?:\.\.\.)?)/.exec(rest);
  if (d) call.data = d[1];
  const a = ADDR.exec(rest);
  if (a) {
    call.addr = `${a[2] ?? `[${a[3]}]`}:${a[1]}`;
    call.port = Number(a[1]);
  }
  if (name === 'socket' || name === 'accept4' || name === 'accept') call.newFd = Number(rc);
  return call;
}

/** One packet line of the wire trace (src/trace/wire.ts): who sent it, when, and what it was. */
export interface Packet {
  line: string;
  /** tcpdump -tt's time, `1796400281.366128`, and the same in microseconds. */
  time: string;
  us: number;
  src: string;
  dst: string;
  /** TCP's or UDP's ports (0 for ICMP); `quoted`: the destination port of the datagram an ICMP error quotes. */
  srcPort: number;
  dstPort: number;
  quoted?: number;
  /** TCP's flags as tcpdump prints them (`S.`, `P.`), and the numbers it prints (-S: absolute). */
  flags?: string;
  seq?: number;
  ack?: number;
  win?: number;
  length: number;
  /** What the arrow says: SYN, SYN+ACK, ACK, PSH+ACK len 5, FIN+ACK, RST, UDP len 5, keepalive probe… */
  label: string;
  /** A keepalive probe, or the peer's answer to one (named by nameKeepalive). */
  keepalive?: 'probe' | 'ack';
}

const FLAG_NAMES: Record<string, string> = { S: 'SYN', F: 'FIN', R: 'RST', P: 'PSH', U: 'URG', E: 'ECE', W: 'CWR', '.': 'ACK' };

/** tcpdump's `127.0.0.1.41234` or `::1.41234`: the address and the port (0 when there is none). */
function endpoint(v6: boolean, s: string): [string, number] {
  const m = (v6 ? /^(.*:(?:[^.:]*|\d+\.\d+\.\d+\.\d+))\.(\d+)$/ : /^(\d+\.\d+\.\d+\.\d+)\.(\d+)$/).exec(s);
  return m ? [m[1], Number(m[2])] : [s, 0];
}

/** A packet line (`  ── TIME IP A.P > B.Q: …`), or undefined for any other line. */
export function parsePacket(line: string): Packet | undefined {
  const m = /^\s*── (\d+)\.(\d+) (IP6?) (\S+) > (\S+): (.*)$/.exec(line);
  if (!m) return undefined;
  const [, sec, usec, ip, from, to, rest] = m;
  const [src, srcPort] = endpoint(ip === 'IP6', from);
  const [dst, dstPort] = endpoint(ip === 'IP6', to);
  const length = Number(/length (\d+)$/.exec(rest)?.[1] ?? 0);
  const p: Packet = { line: line.trim(), time: `${sec}.${usec}`, us: Number(sec) * 1e6 + Number(usec), src, dst, srcPort, dstPort, length, label: '' };
  const f = /^Flags \[([^\]]+)\]/.exec(rest);
  if (f) {
    p.flags = f[1];
    const num = (name: string) => {
      const n = new RegExp(`, ${name} (\\d+)`).exec(rest)?.[1];
      return n === undefined ? undefined : Number(n);
    };
    [p.seq, p.ack, p.win] = [num('seq'), num('ack'), num('win')];
    const names = f[1] === 'none' ? ['none'] : [...f[1]].map((c) => FLAG_NAMES[c] ?? c);
    p.label = `${names.join('+')}${length > 0 ? ` len ${length}` : ''}`;
  } else {
    const q = /udp port (\d+) unreachable/.exec(rest);
    if (q) p.quoted = Number(q[1]);
    p.label = `${rest.replace(/^ICMP \S+ udp port \d+ unreachable/, 'ICMP port unreachable').split(',')[0]}${length > 0 && srcPort > 0 ? ` len ${length}` : ''}`;
  }
  return p;
}

/** One end of a TCP connection, as its segments show it. */
interface End {
  ack?: number;
  win?: number;
  /** Whether the other end sent data, a SYN or a FIN since this end's last segment. */
  peerSent: boolean;
}

/**
 * Names keepalive probes and their answers (RFC 9293 3.8.4; tcp(7) TCP_KEEPIDLE). Linux's probe
 * (tcp_write_wakeup → tcp_xmit_probe_skb) is an empty ACK whose seq is one below what the peer last
 * acknowledged: below the window, so the peer must answer with an ACK of its own. Other stacks send one
 * byte with that seq, which tcpdump -S prints (`seq X:X+1`, X+1 the peer's last ack). tcpdump prints
 * no seq for an empty segment, so the empty probe is told by what that seq implies: an ACK that has
 * no reason to be — it acknowledges nothing new, with the same window, and the peer has sent no data,
 * SYN or FIN since the sender's last segment. The next segment, the peer's empty ACK that acknowledges
 * nothing new either, is its answer. (A zero-window probe is made by the same function: a receiver
 * whose window is shut sees the same segments.)
 */
export function nameKeepalive(packets: Packet[]): void {
  const conns = new Map<string, { ends: Map<string, End>; probeFrom?: string }>();
  for (const p of packets) {
    if (p.flags === undefined) continue;
    const me = `${p.src}.${p.srcPort}`;
    const peer = `${p.dst}.${p.dstPort}`;
    const key = [me, peer].sort().join(' ');
    let conn = conns.get(key);
    if (conn === undefined) conns.set(key, (conn = { ends: new Map() }));
    const end = (k: string) => {
      let e = conn!.ends.get(k);
      if (e === undefined) conn!.ends.set(k, (e = { peerSent: false }));
      return e;
    };
    const mine = end(me);
    const theirs = end(peer);
    const empty = p.flags === '.' && p.length === 0;
    const unchanged = mine.ack !== undefined && p.ack === mine.ack;
    if (empty && unchanged && conn.probeFrom === peer) {
      p.keepalive = 'ack';
      p.label = 'keepalive ACK';
    } else if (
      (p.flags === '.' && p.length === 1 && p.seq !== undefined && theirs.ack !== undefined && ((p.seq + 1) >>> 0) === theirs.ack) ||
      (empty && unchanged && p.win === mine.win && !mine.peerSent)
    ) {
      p.keepalive = 'probe';
      p.label = 'keepalive probe';
    }
    conn.probeFrom = p.keepalive === 'probe' ? me : undefined;
    if (p.ack !== undefined) mine.ack = p.ack;
    if (p.win !== undefined) mine.win = p.win;
    mine.peerSent = false;
    if (p.keepalive === undefined && (p.length > 0 || /[SF]/.test(p.flags))) theirs.peerSent = true;
  }
}

export type Side = 'client' | 'server';

/** One socket from its creation to its close: a number may be reused by the next socket. */
export interface Sock {
  side?: Side;
  stream: boolean;
  bound: boolean;
  connected: boolean;
  finSent: boolean;
}

const empty = (): Sock => ({ stream: true, bound: false, connected: false, finSent: false });

/**
 * Gives each call the socket it acts on (`socks`), and each socket its side: listen/accept make a
 * server, connect or a first sendto from an unbound socket a client, recvfrom on a bound one a server.
 * `made`: the socket accept returned; `heldBy`: for a close, a process that still holds the socket. Descriptors are per process: a fork's child starts with its
 * parent's, and a close in one leaves the other's as it was (the course's concurrent server closes
 * each socket in the process that does not use it).
 */
export function assign(calls: Call[]): { socks: Sock[]; made: (Sock | undefined)[]; heldBy: (string | undefined)[] } {
  const tables = new Map<string, Map<number, Sock>>();
  const socks: Sock[] = [];
  const made: (Sock | undefined)[] = [];
  const heldBy: (string | undefined)[] = [];
  for (const c of calls) {
    let current = tables.get(c.pid);
    if (current === undefined) {
      // A process first seen: the one the trace started in gets its `[pid N] ` prefix at its first
      // fork (its clone line); a child whose lines come before that line starts with a copy.
      const before = tables.get('') ?? new Map<number, Sock>();
      current = c.name === 'clone' ? before : new Map(before);
      tables.set(c.pid, current);
    }
    made.push(undefined);
    heldBy.push(undefined);
    if (c.name === 'clone') {
      socks.push(empty());
      if (c.ok && !tables.has(c.rc)) tables.set(c.rc, new Map(current));
      continue;
    }
    const table = current;
    let s = table.get(c.fd);
    if (c.name === 'socket' && c.ok) {
      s = { stream: !/SOCK_DGRAM/.test(c.line), bound: false, connected: false, finSent: false };
      current.set(c.newFd!, s);
    } else if (s === undefined) {
      s = empty();
      table.set(c.fd, s);
    }
    socks.push(s);
    if (c.name === 'listen') s.side = 'server';
    if ((c.name === 'accept4' || c.name === 'accept') && c.ok) {
      const conn: Sock = { side: 'server', stream: true, bound: true, connected: true, finSent: false };
      current.set(c.newFd!, conn);
      made[made.length - 1] = conn;
    }
    if (c.name === 'connect') {
      s.side ??= 'client';
      s.connected = c.ok;
    }
    if (c.name === 'bind') s.bound = true;
    if (c.name === 'recvfrom' && s.bound) s.side ??= 'server';
    if (c.name === 'sendto') s.side ??= s.bound ? 'server' : 'client';
    if (c.name === 'close') {
      current.delete(c.fd);
      heldBy[heldBy.length - 1] = [...tables].find(([pid, t]) => pid !== '' && [...t.values()].includes(s))?.[0];
    }
  }
  return { socks, made, heldBy };
}

/**
 * A call as the pictures show it: `socket(AF_INET, SOCK_STREAM) = 3`,
 * `connect(4, 127.0.0.1:3400) = 0`, `setsockopt(4, SOL_SOCKET, SO_KEEPALIVE) = 0`, `read(5) = -1 EAGAIN`.
 */
export function short(c: Call): string {
  const how = /SHUT_\w+/.exec(c.line)?.[0];
  // What socket made (its family and type, without the SOCK_CLOEXEC the library always adds), and an
  // option's level and name: what a lesson is about.
  const made = c.name === 'socket' ? /\bsocket\((\w+), (\w+)/.exec(c.line)?.slice(1).join(', ') : undefined;
  const opt = /^[gs]etsockopt$/.test(c.name) ? /\(\d+, (\w+), (\w+)/.exec(c.line) : undefined;
  const args = made !== undefined ? made
    : `${c.fd}${how ? `, ${how}` : ''}${opt ? `, ${opt[1]}, ${opt[2]}` : ''}${c.addr ? `, ${c.addr}` : ''}${c.data && !/^(read|recvfrom)$/.test(c.name) ? `, ${c.data}` : ''}`;
  const res = c.ok ? c.rc : c.rc.replace(/^-1 (\w+).*/, '-1 $1');
  return `${c.name}(${args}) = ${res}`;
}

/**
 * `text` in lines of at most `width` characters, broken after a comma or a space where there is one;
 * lines after the first are `indent` characters narrower (the text picture indents them by two).
 */
export function wrap(text: string, width: number, indent = 0): string[] {
  const lines: string[] = [];
  let rest = text;
  let w = width;
  while (rest.length > w) {
    const cut = Math.max(rest.lastIndexOf(', ', w - 1) + 1, rest.lastIndexOf(' ', w));
    const at = cut > w / 3 ? cut : w;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
    w = width - indent;
  }
  lines.push(rest);
  return lines;
}

/** A trace read back: each line that is a call or a packet, in order, with its index among `lines`. */
export interface Timeline {
  items: ({ index: number } & ({ call: Call; sock: Sock; made?: Sock; heldBy?: string } | { packet: Packet }))[];
  calls: Call[];
  packets: Packet[];
}

/** Parses trace lines; keepalive probes and their ACKs are named. */
export function readTrace(lines: string[]): Timeline {
  const parsed: ({ index: number; call: Call } | { index: number; packet: Packet })[] = [];
  lines.forEach((line, index) => {
    const packet = parsePacket(line);
    const call = packet ? undefined : parseCall(line);
    if (packet) parsed.push({ index, packet });
    else if (call) parsed.push({ index, call });
  });
  const calls = parsed.flatMap((x) => ('call' in x ? [x.call] : []));
  const packets = parsed.flatMap((x) => ('packet' in x ? [x.packet] : []));
  nameKeepalive(packets);
  const { socks, made, heldBy } = assign(calls);
  let next = 0;
  const items = parsed.map((x): Timeline['items'][number] => {
    if ('packet' in x) return x;
    const i = next++;
    return { index: x.index, call: x.call, sock: socks[i], made: made[i], heldBy: heldBy[i] };
  });
  return { items, calls, packets };
}
