// The sequence picture as SVG (renderDiagram(lines, 'svg'), BSOCK_TRACE=svg:FILE): what a teacher
// projects. A lane per process and end of the exchange (the tour holds client and server in one
// process: two lanes), time running down; each call a box with its result (errors in red), each packet
// of the wire trace an arrow from the lane of the socket that sent it to the lane of the one that
// received it, with its flags, length and time. Self-contained: no fonts, scripts, styles or links
// from elsewhere, so the file opens in any browser. Every call and packet carries its trace line in a
// <title> (a tooltip) and `data-line`, its index among the lines given.
import { type Call, type Packet, type Sock, readTrace, short, wrap } from './timeline';

/** XML's five: text and attribute values both. */
export function escapeXml(s: string): string {
  // XML 1.0 has no place for most control characters, even escaped: shown as \xNN, as strace does.
  return s.replace(/[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// Measures, in pixels. CHAR: a generous width of one character of the 12px monospace font (DejaVu
// Sans Mono's is 7.22), so a box is never narrower than its text.
const FONT = 12;
const CHAR = 7.6;
const LINE = 15;
const MARGIN = 16;
const GAP = 180; // between two lanes' boxes: room for an arrow's words
const MIN_LANE = 220;
const WRAP = 56; // characters of a call's text per line of its box
const PACKET_ROW = 40;

/** A lane: one process's client or server end (or a peer the trace does not show). */
interface Lane {
  key: string;
  pid: string;
  role: string;
  ports: Set<number>;
  width: number;
  x: number;
}

/** One end of the exchange as the packets find it: a socket and what its calls taught of its ports. */
interface End {
  sock: Sock;
  local?: number;
  remote?: number;
  lane: string;
}

/** `18:04:15.366128` (UTC) from a packet's microseconds. */
function clock(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return `${d.toISOString().slice(11, 19)}.${String(us % 1e6).padStart(6, '0')}`;
}

/**
 * Renders trace lines (calls and the wire trace's packet lines, as trace() prints them) as a
 * standalone SVG document: a lane per process and end, each call a box, each packet an arrow. Lines
 * starting with `# ` (the trace's notes, e.g. why there are no packets) are written above the lanes.
 */
export function renderSvg(lines: string[]): string {
  const { items, calls } = readTrace(lines);
  // The process the trace began in prints no `[pid N] ` until its first fork: its clone line names it.
  const root = calls.find((c) => c.name === 'clone')?.pid ?? '';
  const pidOf = (c: Call) => c.pid || root;
  const sided = new Set(items.flatMap((x) => ('call' in x && x.sock.side ? [`${pidOf(x.call)}/${x.sock.side}`] : [])));
  const lanes = new Map<string, Lane>();
  const laneOf = (key: string, pid: string, role: string) => {
    let l = lanes.get(key);
    if (l === undefined) lanes.set(key, (l = { key, pid, role, ports: new Set(), width: MIN_LANE, x: 0 }));
    return l;
  };
  /** A call's lane: its process's end; a call on no end (clone, wait4) goes to its process's first. */
  const callLane = (c: Call, s: Sock) => {
    const pid = pidOf(c);
    if (s.side) return laneOf(`${pid}/${s.side}`, pid, s.side);
    const first = [...sided].find((k) => k.startsWith(`${pid}/`));
    return first ? laneOf(first, pid, first.slice(pid.length + 1)) : laneOf(`${pid}/`, pid, '');
  };

  // First pass: the lanes, and each packet's ends, following the sockets' ports as the calls show them.
  const ends = new Map<Sock, End>();
  const endOf = (s: Sock, lane: string) => {
    let e = ends.get(s);
    if (e === undefined) ends.set(s, (e = { sock: s, lane }));
    e.lane = lane; // a socket both processes hold after fork is drawn where it was last used
    return e;
  };
  const live = (): End[] => [...ends.values()].reverse(); // the most recently created first
  /** The end with local port `port` (talking to `peer`), or one that connected to `peer` from a port not yet known. */
  const find = (port: number, peer: number): End | undefined => {
    const all = live();
    let e = all.find((x) => x.local === port && x.remote === peer) ?? all.find((x) => x.local === port && x.remote === undefined) ?? all.find((x) => x.local === port);
    if (e === undefined && port !== 0) {
      e = all.find((x) => x.local === undefined && x.remote === peer);
      if (e) e.local = port;
    }
    return e;
  };
  type Drawn = { index: number; call: Call; lane: Lane } | { index: number; packet: Packet; from: Lane; to: Lane };
  const drawn: Drawn[] = [];
  for (const x of items) {
    if ('call' in x) {
      const { call: c, sock: s } = x;
      const lane = callLane(c, s);
      // Closed here but still open in another process (a fork's): its packets are that process's now.
      const e = endOf(s, x.heldBy !== undefined && s.side ? laneOf(`${x.heldBy}/${s.side}`, x.heldBy, s.side).key : lane.key);
      if (c.port !== 0 && /^(bind|getsockname)$/.test(c.name) && c.ok) e.local = c.port;
      if (c.port !== 0 && /^(connect|getpeername|sendto)$/.test(c.name)) e.remote = c.port;
      if (x.made) Object.assign(endOf(x.made, lane.key), { local: e.local, remote: c.port || undefined });
      drawn.push({ index: x.index, call: c, lane });
      continue;
    }
    const p = x.packet;
    const from = p.quoted !== undefined ? undefined : find(p.srcPort, p.dstPort);
    const to = p.quoted !== undefined ? live().find((e) => e.remote === p.quoted) : find(p.dstPort, p.srcPort);
    const peerLane = (addr: string, port: number) => laneOf(`peer ${addr}.${port}`, '', port ? `${addr}:${port}` : `${addr} (kernel)`);
    const a = from ? lanes.get(from.lane)! : peerLane(p.src, p.srcPort);
    const b = to ? lanes.get(to.lane)! : peerLane(p.dst, p.dstPort);
    if (from?.local) a.ports.add(from.local);
    if (to?.local) b.ports.add(to.local);
    drawn.push({ index: x.index, packet: p, from: a, to: b });
  }
  for (const e of ends.values()) if (e.local !== undefined && e.sock.side === 'server') lanes.get(e.lane)?.ports.add(e.local);

  // Lanes left to right: clients, servers, the rest, each in order of appearance.
  const rank = (l: Lane) => (l.key.startsWith('peer ') ? 3 : l.role === 'client' ? 0 : l.role === 'server' ? 1 : 2);
  const order = [...lanes.values()].sort((a, b) => rank(a) - rank(b));
  const boxes = new Map<number, string[]>();
  for (const d of drawn) {
    if (!('call' in d)) continue;
    const text = wrap(short(d.call), WRAP);
    boxes.set(d.index, text);
    d.lane.width = Math.max(d.lane.width, Math.max(...text.map((t) => t.length)) * CHAR + 16);
  }
  const title = (l: Lane) => {
    if (l.key.startsWith('peer ')) return [l.role, 'not in this trace'];
    const ports = [...l.ports];
    return [
      [l.pid ? `pid ${l.pid}` : 'process', l.role].filter((w) => w).join(' · '),
      ports.length === 0 ? '' : `${ports.length === 1 ? 'port' : 'ports'} ${ports.slice(0, 3).join(', ')}${ports.length > 3 ? ', …' : ''}`,
    ];
  };
  let x = MARGIN;
  for (const l of order) {
    l.width = Math.max(l.width, ...title(l).map((t) => t.length * CHAR + 8));
    l.x = x;
    x += l.width + GAP;
  }
  const center = (l: Lane) => l.x + l.width / 2;
  const notes = lines.filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
  const body: string[] = [];
  let maxX = x - GAP + MARGIN;
  const txt = (tx: number, ty: number, s: string, attrs = '') => `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}"${attrs}>${escapeXml(s)}</text>`;
  let y = MARGIN;
  for (const n of notes) {
    body.push(txt(MARGIN, y + FONT, n, ' class="note"'));
    maxX = Math.max(maxX, MARGIN + n.length * CHAR + MARGIN);
    y += LINE;
  }
  const headTop = y + (notes.length ? 6 : 0);
  y = headTop + 2 * LINE + 14;

  const first = items.find((i) => 'packet' in i);
  const t0 = first && 'packet' in first ? first.packet.us : 0;
  for (const d of drawn) {
    if ('call' in d) {
      const text = boxes.get(d.index)!;
      const w = Math.max(...text.map((t) => t.length)) * CHAR + 16;
      const h = text.length * LINE + 8;
      const bx = center(d.lane) - w / 2;
      const cls = d.call.ok ? 'call' : 'call error';
      body.push(`<g class="${cls}" data-line="${d.index}" data-lane="${escapeXml(d.lane.key)}"><title>${escapeXml(d.call.line)}</title>` +
        `<rect x="${bx.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" rx="4"/>` +
        text.map((t, i) => txt(bx + 8, y + 4 + FONT + i * LINE, t)).join('') + '</g>');
      y += h + 8;
      continue;
    }
    const { packet: p, from, to } = d;
    const x1 = center(from);
    const x2 = center(to);
    const mid = y + 18;
    const when = `${clock(p.us)} · +${((p.us - t0) / 1000).toFixed(3)} ms`;
    const cls = p.keepalive ? `packet keepalive keepalive-${p.keepalive}` : 'packet';
    let shape: string;
    let lx: number;
    let anchor = 'middle';
    if (from === to) {
      // Both ends in one lane: a loop out to the right and back.
      shape = `<path d="M${x1} ${mid - 8} h40 v16 h-34" fill="none"/><polygon points="${x1} ${mid + 8},${x1 + 8} ${mid + 4},${x1 + 8} ${mid + 12}"/>`;
      lx = x1 + 48;
      anchor = 'start';
      maxX = Math.max(maxX, lx + Math.max(p.label.length, when.length) * CHAR + MARGIN);
    } else {
      const dir = x2 > x1 ? 1 : -1;
      shape = `<line x1="${x1}" y1="${mid}" x2="${x2 - dir * 9}" y2="${mid}"/><polygon points="${x2} ${mid},${x2 - dir * 10} ${mid - 5},${x2 - dir * 10} ${mid + 5}"/>`;
      lx = (x1 + x2) / 2;
    }
    body.push(`<g class="${cls}" data-line="${d.index}" data-from="${escapeXml(from.key)}" data-to="${escapeXml(to.key)}"><title>${escapeXml(p.line)}</title>` +
      shape + txt(lx, mid - 5, p.label, ` class="label" text-anchor="${anchor}"`) + txt(lx, mid + 15, when, ` class="time" text-anchor="${anchor}"`) + '</g>');
    y += PACKET_ROW;
  }
  const height = y + MARGIN;
  const head = order.map((l) => {
    const [t1, t2] = title(l);
    const cx = center(l);
    return `<g class="lane" data-lane="${escapeXml(l.key)}"><line x1="${cx}" y1="${headTop + 2 * LINE + 6}" x2="${cx}" y2="${y}"/>` +
      `<rect x="${l.x}" y="${headTop}" width="${l.width}" height="${2 * LINE + 6}" rx="4"/>` +
      txt(cx, headTop + 3 + FONT, t1, ' text-anchor="middle" font-weight="bold"') + txt(cx, headTop + 3 + FONT + LINE, t2, ' text-anchor="middle"') + '</g>';
  });
  const width = Math.ceil(maxX);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT}">`,
    `<title>System calls and packets, as traced (berkeley-sockets)</title>`,
    `<style>` +
      `.lane line{stroke:#999;stroke-dasharray:4 4}.lane rect{fill:#eef2f7;stroke:#567}` +
      `.call rect{fill:#fff;stroke:#333}.call.error rect{fill:#fde8e8;stroke:#c00;stroke-width:2}.call.error text{fill:#a00}` +
      `.packet line,.packet path{stroke:#1a5fb4;stroke-width:1.5}.packet polygon{fill:#1a5fb4}.packet .time{fill:#666;font-size:10px}` +
      `.packet.keepalive line,.packet.keepalive path{stroke:#c64600;stroke-dasharray:6 3}.packet.keepalive polygon,.packet.keepalive .label{fill:#c64600}` +
      `.note{fill:#a00}` +
      `</style>`,
    `<rect class="background" width="100%" height="100%" fill="#fff"/>`,
    ...head,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}
