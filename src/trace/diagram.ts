// The sequence picture: a trace's calls laid out in a client column and a server column, with what
// crosses the wire between them (SYN, data, FIN), as the course's slides draw a TCP or UDP exchange.
// It reads trace lines (strace's format), so it works on a live trace or on a saved one.

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
 * Renders trace lines as a two-column sequence picture. `format` 'text' draws it for a terminal;
 * 'mermaid' writes a Mermaid sequenceDiagram for a web page (GitHub renders it).
 */
export function renderDiagram(lines: string[], format: 'text' | 'mermaid' = 'text'): string {
  const calls = lines.map(parse).filter((c): c is Call => c !== undefined);
  const socks = assign(calls);
  const rows = calls.map((c, i) => ({ c, s: socks[i] })).filter((r) => r.s.side !== undefined);
  if (format === 'mermaid') {
    const out = ['sequenceDiagram', '    participant C as client', '    participant S as server'];
    for (const { c, s } of rows) {
      const me = s.side === 'client' ? 'C' : 'S';
      const other = s.side === 'client' ? 'S' : 'C';
      const w = wire(c, s);
      const label = short(c).replace(/"/g, "'").replace(/[;#]/g, ' ');
      if (w) out.push(`    ${me}-)${other}: ${label} [${w.replace(/"/g, "'")}]`);
      else out.push(`    Note over ${me}: ${label}`);
    }
    return `${out.join('\n')}\n`;
  }
  const W = 44;
  const out = [`${'client'.padEnd(W)}${' '.repeat(22)}server`, `${'─'.repeat(W)}${' '.repeat(22)}${'─'.repeat(W)}`];
  for (const { c, s } of rows) {
    const w = wire(c, s);
    const client = s.side === 'client';
    // A call that does not fit its column goes on below, indented: a result is never cut off.
    const [first, ...more] = wrap(short(c), W - 1);
    const arrow = w ? (client ? ` ${w.slice(0, 17)} ─▶ `.padStart(22, '─') : ` ◀─ ${w.slice(0, 17)} `.padEnd(22, '─')) : ' '.repeat(22);
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
