// The sequence picture: a trace's calls laid out in a client column and a server column, with what
// crosses the wire between them (SYN, data, FIN), as the course's slides draw a TCP or UDP exchange.
// It reads trace lines (strace's format), so it works on a live trace or on a saved one. With the
// wire trace's packet lines among them (BSOCK_TRACE=wire), it draws the segments that were really
// sent, each where the kernel stamped it; without, it guesses them from the calls.

/** One traced call, parsed from its strace-format line. */
interface Call {
  /** The process, from strace -f's `[pid N] ` prefix ('' before the first fork, when there is none). */
  pid: string;
  name: string;
  fd: number;
  rc: string;
  ok: boolean;
  line: string;
  data?: string;
  addr?: string;
  newFd?: number;
}

const ADDR = /sin6?_port=htons\((\d+)\), (?:sin_addr=inet_addr\("([^"]+)"\)|sin6_flowinfo=htonl\(\d+\), inet_pton\(AF_INET6, "([^"]+)")/;

function parse(line: string): Call | undefined {
  const m = /^(?:\[pid +(\d+)\] )?(\w+)\((\d+|AF_\w+|child_stack=)?(.*)\)\s+= (.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, pid = '', name, first, rest, rc] = m;
  const call: Call = { pid, name, fd: Number(first), rc, ok: !rc.startsWith('-1'), line: line.trim() };
  const d = /^, ("(?:[^"\\]|\\.)*"(?:\.\.\.)?)/.exec(rest);
  if (d) call.data = d[1];
  const a = ADDR.exec(rest);
  if (a) call.addr = `${a[2] ?? `[${a[3]}]`}:${a[1]}`;
  if (name === 'socket' || name === 'accept4' || name === 'accept') call.newFd = Number(rc);
  return call;
}

/** One packet line of the wire trace (src/trace/wire.ts): who sent it, and what it was. */
interface Packet {
  srcPort: number;
  dstPort: number;
  /** What the arrow says: SYN, SYN+ACK, ACK, PSH+ACK len 5, FIN+ACK, RST, UDP len 5… */
  label: string;
}

const FLAG_NAMES: Record<string, string> = { S: 'SYN', F: 'FIN', R: 'RST', P: 'PSH', U: 'URG', E: 'ECE', W: 'CWR', '.': 'ACK' };

/** A packet line (`  ── TIME IP A.P > B.Q: …`), or undefined for any other line. */
function parsePacket(line: string): Packet | undefined {
  const m = /^\s*── \d+\.\d+ IP6? \S+?\.(\d+) > \S+?\.(\d+): (.*)$/.exec(line);
  if (!m) return undefined;
  const [, src, dst, rest] = m;
  const len = Number(/length (\d+)$/.exec(rest)?.[1] ?? 0);
  const f = /^Flags \[([^\]]+)\]/.exec(rest);
  let label: string;
  if (f) {
    const names = f[1] === 'none' ? ['none'] : [...f[1]].map((c) => FLAG_NAMES[c] ?? c);
    label = `${names.join('+')}${len > 0 ? ` len ${len}` : ''}`;
  } else {
    label = `${rest.split(',')[0]}${len > 0 ? ` len ${len}` : ''}`;
  }
  return { srcPort: Number(src), dstPort: Number(dst), label };
}

type Side = 'client' | 'server';

/** One socket from its creation to its close: a number may be reused by the next socket. */
interface Sock {
  side?: Side;
  stream: boolean;
  bound: boolean;
  connected: boolean;
  finSent: boolean;
}

/** Gives each call the socket it acts on, and each socket its side: listen/accept make a server,
 * connect or a first sendto from an unbound socket a client, recvfrom on a bound one a server.
 * Descriptors are per process: a fork's child starts with its parent's, and a close in one leaves
 * the other's as it was (the course's concurrent server closes each socket in the process that does
 * not use it). */
function assign(calls: Call[]): Sock[] {
  const tables = new Map<string, Map<number, Sock>>();
  const socks: Sock[] = [];
  const empty = (): Sock => ({ stream: true, bound: false, connected: false, finSent: false });
  for (const c of calls) {
    let current = tables.get(c.pid);
    if (current === undefined) {
      // A process first seen: the one the trace started in gets its `[pid N] ` prefix at its first
      // fork (its clone line); a child whose lines come before that line starts with a copy.
      const before = tables.get('') ?? new Map<number, Sock>();
      current = c.name === 'clone' ? before : new Map(before);
      tables.set(c.pid, current);
    }
    if (c.name === 'clone') {
      socks.push(empty());
      if (c.ok && !tables.has(c.rc)) tables.set(c.rc, new Map(current));
      continue;
    }
    const table = current;
    const get = (fd: number) => {
      let s = table.get(fd);
      if (s === undefined) {
        s = empty();
        table.set(fd, s);
      }
      return s;
    };
    let s: Sock;
    if (c.name === 'socket' && c.ok) {
      s = { stream: !/SOCK_DGRAM/.test(c.line), bound: false, connected: false, finSent: false };
      current.set(c.newFd!, s);
    } else {
      s = get(c.fd);
    }
    socks.push(s);
    if (c.name === 'listen') s.side = 'server';
    if ((c.name === 'accept4' || c.name === 'accept') && c.ok) {
      current.set(c.newFd!, { side: 'server', stream: true, bound: true, connected: true, finSent: false });
    }
    if (c.name === 'connect') {
      s.side ??= 'client';
      s.connected = c.ok;
    }
    if (c.name === 'bind') s.bound = true;
    if (c.name === 'recvfrom' && s.bound) s.side ??= 'server';
    if (c.name === 'sendto') s.side ??= s.bound ? 'server' : 'client';
    if (c.name === 'close') current.delete(c.fd);
  }
  return socks;
}

function short(c: Call): string {
  const how = /SHUT_\w+/.exec(c.line)?.[0];
  const args = c.name === 'socket' ? '' : `${c.fd}${how ? `, ${how}` : ''}${c.addr ? `, ${c.addr}` : ''}${c.data && !/^(read|recvfrom)$/.test(c.name) ? `, ${c.data}` : ''}`;
  const res = c.ok ? c.rc : c.rc.replace(/^-1 (\w+).*/, '-1 $1');
  return `${c.name}(${args}) = ${res}`;
}

/** What a call puts on the wire. */
function wire(c: Call, s: Sock): string | undefined {
  if (c.name === 'connect' && s.stream) return c.ok ? 'SYN, SYN+ACK, ACK' : 'SYN … RST';
  if (!c.ok) return undefined;
  if (/^(write|send|sendto)$/.test(c.name) && c.data) return c.data;
  if ((c.name === 'close' || (c.name === 'shutdown' && !/SHUT_RD\b/.test(c.line))) && s.stream && s.connected && !s.finSent) {
    s.finSent = true;
    return 'FIN';
  }
  return undefined;
}

/**
 * The ports of the server's sockets: those a client connects or sends to, and those the server side
 * binds or learns (getsockname). A packet from one of them goes from the server to the client.
 */
function serverPorts(rows: { c: Call; s: Sock }[]): Set<number> {
  const ports = new Set<number>();
  for (const { c, s } of rows) {
    const port = Number(/:(\d+)$/.exec(c.addr ?? '')?.[1] ?? 0);
    if (port === 0) continue;
    if (s.side === 'client' && /^(connect|sendto)$/.test(c.name)) ports.add(port);
    if (s.side === 'server' && /^(bind|getsockname)$/.test(c.name)) ports.add(port);
  }
  return ports;
}

type Row = { c: Call; s: Sock } | { p: Packet; from: Side };

/**
 * Renders trace lines as a two-column sequence picture. `format` 'text' draws it for a terminal;
 * 'mermaid' writes a Mermaid sequenceDiagram for a web page (GitHub renders it). Packet lines from
 * the wire trace are drawn as the arrows they were (the handshake's SYN, SYN+ACK, ACK between connect
 * and accept, data and its ACKs, FIN, RST); with none, the calls' segments are guessed.
 */
export function renderDiagram(lines: string[], format: 'text' | 'mermaid' = 'text'): string {
  const items = lines.map((line) => parsePacket(line) ?? parse(line)).filter((x): x is Call | Packet => x !== undefined);
  const calls = items.filter((x): x is Call => 'name' in x);
  const socks = assign(calls);
  const callRows = calls.map((c, i) => ({ c, s: socks[i] }));
  const real = items.length > calls.length;
  const servers = serverPorts(callRows.filter((r) => r.s.side !== undefined));
  const rows: Row[] = [];
  let next = 0;
  for (const x of items) {
    if ('name' in x) {
      const r = callRows[next++];
      if (r.s.side !== undefined) rows.push(r);
    } else if (servers.has(x.srcPort) || servers.has(x.dstPort)) {
      rows.push({ p: x, from: servers.has(x.srcPort) ? 'server' : 'client' });
    }
  }
  // Only the guesses: a call's wire() also marks a socket's FIN sent.
  const guess = (c: Call, s: Sock) => {
    const w = wire(c, s);
    return real ? undefined : w;
  };
  if (format === 'mermaid') {
    const out = ['sequenceDiagram', '    participant C as client', '    participant S as server'];
    for (const r of rows) {
      if ('p' in r) {
        out.push(r.from === 'client' ? `    C-)S: ${r.p.label}` : `    S-)C: ${r.p.label}`);
        continue;
      }
      const { c, s } = r;
      const me = s.side === 'client' ? 'C' : 'S';
      const other = s.side === 'client' ? 'S' : 'C';
      const w = guess(c, s);
      const label = short(c).replace(/"/g, "'").replace(/[;#]/g, ' ');
      if (w) out.push(`    ${me}-)${other}: ${label} [${w.replace(/"/g, "'")}]`);
      else out.push(`    Note over ${me}: ${label}`);
    }
    return `${out.join('\n')}\n`;
  }
  const W = 44;
  const out = [`${'client'.padEnd(W)}${' '.repeat(22)}server`, `${'─'.repeat(W)}${' '.repeat(22)}${'─'.repeat(W)}`];
  const arrowOf = (w: string, client: boolean) => (client ? ` ${w.slice(0, 17)} ─▶ `.padStart(22, '─') : ` ◀─ ${w.slice(0, 17)} `.padEnd(22, '─'));
  for (const r of rows) {
    if ('p' in r) {
      out.push(`${' '.repeat(W)}${arrowOf(r.p.label, r.from === 'client')}`.trimEnd());
      continue;
    }
    const { c, s } = r;
    const w = guess(c, s);
    const client = s.side === 'client';
    // A call that does not fit its column goes on below, indented: a result is never cut off.
    const [first, ...more] = wrap(short(c), W - 1);
    const arrow = w ? arrowOf(w, client) : ' '.repeat(22);
    out.push(client ? `${first.padEnd(W)}${arrow}`.trimEnd() : `${' '.repeat(W)}${arrow}${w ? ' ' : ''}${first}`);
    for (const rest of more) out.push(client ? `  ${rest}` : `${' '.repeat(W + 22 + (w ? 1 : 0))}  ${rest}`);
  }
  return `${out.join('\n')}\n`;
}

/** `text` in lines of at most `width` characters, broken after a comma or a space where there is one. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  let w = width;
  while (rest.length > w) {
    const cut = Math.max(rest.lastIndexOf(', ', w - 1) + 1, rest.lastIndexOf(' ', w));
    const at = cut > w / 3 ? cut : w;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
    w = width - 2; // continuation lines are indented by two
  }
  lines.push(rest);
  return lines;
}
