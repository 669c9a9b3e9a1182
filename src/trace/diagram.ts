// The sequence picture: a trace's calls laid out in a client column and a server column, with what
// crosses the wire between them (SYN, data, FIN), as the course's slides draw a TCP or UDP exchange.
// It reads trace lines (strace's format), so it works on a live trace or on a saved one. With the
// wire trace's packet lines among them (BSOCK_TRACE=wire), it draws the segments that were really
// sent, each where the kernel stamped it; without, it guesses them from the calls.

import { type Call, type Packet, type Side, type Sock, readTrace, short, wrap } from './timeline';
import { invalidArgType, invalidArgValue } from '../errors';
import { renderSvg } from './svg';

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
    const port = c.port;
    if (port === 0) continue;
    if (s.side === 'client' && /^(connect|sendto)$/.test(c.name)) ports.add(port);
    if (s.side === 'server' && /^(bind|getsockname)$/.test(c.name)) ports.add(port);
  }
  return ports;
}

type Row = { c: Call; s: Sock } | { p: Packet; from: Side };

/**
 * Renders trace lines as a sequence picture. `format` 'text' draws it for a terminal, client and
 * server in two columns; 'mermaid' writes a Mermaid sequenceDiagram for a web page (GitHub renders it);
 * 'svg' a self-contained SVG picture with a lane per process and end (svg.ts), for a browser or a
 * projector. Packet lines from the wire trace are drawn as the arrows they were (the handshake's SYN,
 * SYN+ACK, ACK between connect and accept, data and its ACKs, FIN, RST, keepalive probes and their
 * ACKs); with none, text and Mermaid guess the calls' segments.
 */
export function renderDiagram(lines: string[], format: 'text' | 'mermaid' | 'svg' = 'text'): string {
  if (!Array.isArray(lines)) throw invalidArgType('lines', 'an array of trace lines', lines);
  if (format === 'svg') return renderSvg(lines);
  if (format !== 'text' && format !== 'mermaid') throw invalidArgValue('format', format, "must be 'text', 'mermaid' or 'svg'");
  const { items, calls } = readTrace(lines);
  const callRows = items.flatMap((x) => ('call' in x ? [{ c: x.call, s: x.sock }] : []));
  const real = items.length > calls.length;
  const servers = serverPorts(callRows.filter((r) => r.s.side !== undefined));
  const rows: Row[] = [];
  for (const x of items) {
    if ('call' in x) {
      if (x.sock.side !== undefined) rows.push({ c: x.call, s: x.sock });
    } else if (servers.has(x.packet.srcPort) || servers.has(x.packet.dstPort)) {
      rows.push({ p: x.packet, from: servers.has(x.packet.srcPort) ? 'server' : 'client' });
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
    const [first, ...more] = wrap(short(c), W - 1, 2);
    const arrow = w ? arrowOf(w, client) : ' '.repeat(22);
    out.push(client ? `${first.padEnd(W)}${arrow}`.trimEnd() : `${' '.repeat(W)}${arrow}${w ? ' ' : ''}${first}`);
    for (const rest of more) out.push(client ? `  ${rest}` : `${' '.repeat(W + 22 + (w ? 1 : 0))}  ${rest}`);
  }
  return `${out.join('\n')}\n`;
}

