// The SVG picture of the trace (renderDiagram(lines, 'svg'), BSOCK_TRACE=svg:FILE) and keepalive
// probes named in every picture. As root, the tour runs under BSOCK_TRACE=svg:FILE and headless
// Chromium loads the picture: every call and every packet of the same run's trace is drawn (count and
// text), nothing outside the canvas, no two call boxes overlapping, each call's text inside its box;
// a screenshot of the file alone is not blank and shows the arrows and the refused connect in red.
// A real keepalive run (idle 1 s, interval 1 s on loopback) has its probes and their ACKs named.
// On saved lines: escaping, a lane per process after fork, errors.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { renderDiagram } from '../src/index';
import { canRun, hasCommand, isRoot } from './helpers';

const linux = process.platform === 'linux';
const dist = path.join(__dirname, '..', 'dist');
const withChromium = linux && canRun('the SVG picture in a browser needs root (the wire) and chromium', isRoot && hasCommand('chromium'));
const asRoot = linux && canRun('the keepalive run on the wire needs CAP_NET_RAW (root)', isRoot);

const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'bs-svg-'));
  dirs.push(d);
  return d;
};

/** Runs `argv` to its end (at most `ms`), in `cwd`: status, stdout, stderr. */
async function run(argv: string[], env: NodeJS.ProcessEnv, cwd: string, ms = 20_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [status] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  children.delete(child);
  return { status, stdout, stderr };
}

/** Chromium, headless, in a profile directory of its own (removed after), killed after 30 s. */
async function chromium(args: string[]): Promise<string> {
  const profile = tmp();
  // Chromium is not ours to sanitize: the sanitizer run's LD_PRELOAD of libasan (test:asan) and its
  // options would be loaded into Chromium's launcher script and its processes.
  const env = { ...process.env };
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'BSOCK_ASAN_PRELOAD']) delete env[k];
  const r = await run(['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args], env, profile, 30_000);
  rmSync(profile, { recursive: true, force: true });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  return r.stdout;
}

/** XML well-formedness, enough to tell an unescaped `<`, `&` or quote: tags nest, text and values hold only entities. */
function wellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const ENTITY = /^(?:[^<>&]|&(?:amp|lt|gt|quot|apos);)*$/;
  for (const m of body.matchAll(/<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>|([^<]+)|</g)) {
    const [all, close, name, , selfClose, text] = m;
    if (text !== undefined) expect(ENTITY.test(text), `bad text: ${text}`).toBe(true);
    else if (name === undefined) throw new Error(`not a tag at ${m.index}: ${body.slice(m.index, m.index! + 80)} (${all})`);
    else if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name);
  }
  expect(stack).toEqual([]);
}

/** The PNG's pixels as RGBA (8-bit RGB or RGBA, not interlaced: what Chromium writes). */
function decodePng(png: Buffer): { width: number; height: number; rgba: (x: number, y: number) => [number, number, number] } {
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let bpp = 4;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      expect([data[8], data[12]]).toEqual([8, 0]);
      bpp = data[9] === 6 ? 4 : 3;
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= bpp ? px[y * stride + i - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? px[(y - 1) * stride + i - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      px[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return { width, height, rgba: (x, y) => [px[y * stride + x * bpp], px[y * stride + x * bpp + 1], px[y * stride + x * bpp + 2]] };
}

// The wrapper page: the picture inline, and a script that measures it and writes what it found.
const MEASURE = `
const svg = document.querySelector('svg');
const W = svg.width.baseVal.value, H = svg.height.baseVal.value;
const outside = [];
for (const el of svg.querySelectorAll('rect, line, path, polygon, text')) {
  if (el.classList.contains('background')) continue;
  const b = el.getBBox();
  if (b.x < 0 || b.y < 0 || b.x + b.width > W + 0.5 || b.y + b.height > H + 0.5) outside.push(el.outerHTML.slice(0, 120));
}
const boxes = [...svg.querySelectorAll('g.call')].map((g) => ({ g, r: g.querySelector('rect').getBBox() }));
const overlaps = [];
for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
  const a = boxes[i].r, b = boxes[j].r;
  if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) overlaps.push([i, j]);
}
const spill = boxes.filter(({ g, r }) => [...g.querySelectorAll('text')].some((t) => {
  const b = t.getBBox();
  return b.x < r.x || b.x + b.width > r.x + r.width || b.y < r.y || b.y + b.height > r.y + r.height;
})).map(({ g }) => g.querySelector('title').textContent);
const item = (g) => ({ line: Number(g.dataset.line), title: g.querySelector('title').textContent, text: [...g.querySelectorAll('text')].map((t) => t.textContent).join('\\n'), cls: g.getAttribute('class'), from: g.dataset.from, to: g.dataset.to, lane: g.dataset.lane });
const found = { W, H, outside, overlaps, spill, calls: [...svg.querySelectorAll('g.call')].map(item), packets: [...svg.querySelectorAll('g.packet')].map(item), lanes: [...svg.querySelectorAll('g.lane')].map((g) => g.dataset.lane + ': ' + g.textContent) };
document.getElementById('out').textContent = JSON.stringify(found);
`;

interface Found {
  W: number;
  H: number;
  outside: string[];
  overlaps: number[][];
  spill: string[];
  calls: { line: number; title: string; text: string; cls: string; lane: string }[];
  packets: { line: number; title: string; text: string; cls: string; from: string; to: string }[];
  lanes: string[];
}

const CALL = /^(\[pid +\d+\] )?\w+\(.*\)\s+= /;
const PACKET = /^ {2}── \d+\.\d{6} /;

describe.runIf(linux)('BSOCK_TRACE=svg:FILE in a browser', () => {
  it.runIf(withChromium)('draws every call and packet of the tour, inside the canvas, boxes apart, and a screenshot shows it', async () => {
    const dir = tmp();
    const r = await run([process.execPath, path.join(dist, 'examples', 'tour.js')], { ...process.env, BSOCK_TRACE: 'svg:tour.svg', LANG: 'C' }, dir);
    expect(r.status, r.stderr).toBe(0);
    // The tour prints its trace step by step, then its own text picture (section 3): the trace is before it.
    const trace = r.stdout.slice(0, r.stdout.indexOf('3. The same calls')).split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    const calls = trace.filter((l) => CALL.test(l));
    const packets = trace.filter((l) => PACKET.test(l));
    expect(calls.length).toBeGreaterThan(20);
    expect(packets.length).toBeGreaterThan(8);
    const svg = readFileSync(path.join(dir, 'tour.svg'), 'utf8');
    wellFormed(svg);
    // Self-contained: nothing fetched, nothing run.
    expect(svg).not.toMatch(/<script|href=|@import|url\(|<image|<foreignObject/);

    writeFileSync(path.join(dir, 'page.html'), `<!DOCTYPE html><html><body style="margin:0">${svg.replace(/^<\?xml[^>]*\?>/, '')}<pre id="out"></pre><script>${MEASURE}</script></body></html>`);
    const dom = await chromium(['--dump-dom', `file://${path.join(dir, 'page.html')}`]);
    const json = /<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1];
    expect(json, dom.slice(0, 2000)).toBeTruthy();
    const found = JSON.parse(json!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Found;

    // Every call line of the run, in order, each a box titled with its line and showing its result.
    expect(found.calls.map((c) => c.title)).toEqual(calls.map((l) => l.trim()));
    for (const [i, c] of found.calls.entries()) {
      const rc = /\)\s+= (-?\d+)/.exec(calls[i])![1];
      expect(c.text.replace(/\n/g, ' '), c.title).toMatch(new RegExp(`^${/^(?:\[pid +\d+\] )?(\w+)\(/.exec(calls[i])![1]}\\(.*= ${rc}`));
      expect(c.cls).toBe(rc === '-1' ? 'call error' : 'call');
    }
    expect(found.calls.filter((c) => c.cls === 'call error').map((c) => c.text)).toEqual([expect.stringMatching(/^connect\(.* = -1 ECONNREFUSED$/)]);
    // Every packet line, in order, an arrow titled with it and labelled with its flags and time.
    expect(found.packets.map((p) => p.title)).toEqual(packets.map((l) => l.trim()));
    const names: Record<string, string> = { S: 'SYN', 'S.': 'SYN+ACK', '.': 'ACK', 'P.': 'PSH+ACK', 'F.': 'FIN+ACK', 'R.': 'RST+ACK' };
    for (const p of found.packets) {
      const flags = /Flags \[([^\]]+)\]/.exec(p.title)?.[1];
      const len = Number(/length (\d+)$/.exec(p.title)![1]);
      const label = flags ? `${names[flags]}${len ? ` len ${len}` : ''}` : `UDP len ${len}`;
      const usec = /^── \d+\.(\d{6})/.exec(p.title)![1];
      expect(p.text, p.title).toMatch(new RegExp(`^${label.replace(/\+/g, '\\+')}\\n\\d\\d:\\d\\d:\\d\\d\\.${usec} · \\+\\d+\\.\\d{3} ms$`));
    }
    // The handshake goes from the client's lane to the server's and back; the server's data to the client.
    const [syn, synack] = found.packets;
    expect([syn.from, syn.to]).toEqual(['/client', '/server']);
    expect([synack.from, synack.to]).toEqual(['/server', '/client']);
    expect(found.lanes).toEqual([expect.stringMatching(/^\/client: process · client(port|ports) \d+/), expect.stringMatching(/^\/server: process · serverports \d+, \d+$/)]);
    // Laid out: nothing outside the canvas, no call box over another, no text out of its box.
    expect(found.outside).toEqual([]);
    expect(found.overlaps).toEqual([]);
    expect(found.spill).toEqual([]);

    // The file alone, as a browser opens it: a screenshot the size of the canvas, not blank.
    const file = path.join(dir, 'tour.svg');
    const shot = path.join(dir, 'tour.png');
    await chromium([`--screenshot=${shot}`, `--window-size=${found.W},${found.H}`, `file://${file}`]);
    copyFileSync(shot, '/tmp/trace-svg.png');
    const png = decodePng(readFileSync(shot));
    let ink = 0;
    let blue = 0;
    let red = 0;
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const [R, G, B] = png.rgba(x, y);
        if (R < 240 || G < 240 || B < 240) ink++;
        if (B > R + 60 && B > G + 20) blue++; // the arrows' #1a5fb4, antialiased
        if (R > 150 && G < 60 && B < 60) red++;
      }
    }
    expect(ink / (png.width * png.height)).toBeGreaterThan(0.01);
    expect(blue).toBeGreaterThan(found.packets.length * 200); // every arrow spans two lanes' gap at least
    expect(red).toBeGreaterThan(100); // the refused connect's box
  }, 90_000);
});

// A keepalive run: the client sets idle 1 s, interval 1 s, then the connection is quiet for 2.6 s.
const KEEPALIVE = `
const b = require(${JSON.stringify(path.join(dist, 'index.js'))});
const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 });
b.listen(srv, 1);
const c = b.socket(b.AF_INET, b.SOCK_STREAM, 0);
b.connect(c, { family: b.AF_INET, address: '127.0.0.1', port: b.getsockname(srv).port });
const s = b.accept(srv).fd;
b.write(c, 'hi');
b.read(s, Buffer.alloc(8));
b.setKeepAlive(c, { idle: 1, interval: 1, count: 3 });
b.poll([{ fd: c, events: b.POLLIN }], 2600);
b.close(c); b.close(s); b.close(srv);
`;

describe.runIf(linux)('keepalive probes in the pictures', () => {
  it.runIf(asRoot)('names a real run\'s probes and their ACKs, a second apart, in text, Mermaid and SVG', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'ka.js'), KEEPALIVE);
    const r = await run([process.execPath, 'ka.js'], { ...process.env, BSOCK_TRACE: 'svg:ka.svg' }, dir);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const packets = lines.filter((l) => PACKET.test(l));
    // The probes are the client's empty ACKs sent while the program waits in poll: printed after its
    // line (a packet comes before the first call that began after it), before the close that follows.
    const poll = lines.findIndex((l) => l.startsWith('poll('));
    const during = lines.slice(poll, lines.findIndex((l) => l.startsWith('close('))).filter((l) => PACKET.test(l));
    // Two probes a second apart in the 2.6 s poll, the first a second after the data; a third when the
    // process was slow to reach poll (a loaded machine: the poll then ends past the third).
    const probes = during.length / 2;
    expect([2, 3], r.stderr).toContain(probes);
    const text = renderDiagram(lines);
    expect(text.match(/── keepalive probe ─▶\n\s+◀─ keepalive ACK ─+/g), text).toHaveLength(probes);
    expect(renderDiagram(lines, 'mermaid').match(/C-\)S: keepalive probe\n {4}S-\)C: keepalive ACK/g)).toHaveLength(probes);
    const svg = readFileSync(path.join(dir, 'ka.svg'), 'utf8');
    const drawn = [...svg.matchAll(/<g class="packet keepalive keepalive-(probe|ack)" data-line="(\d+)"[^>]*><title>([^<]*)<\/title>/g)];
    expect(drawn.map((m) => m[1])).toEqual(Array.from({ length: probes }, () => ['probe', 'ack']).flat());
    expect(drawn.map((m) => m[3].replace(/&gt;/g, '>'))).toEqual(during.map((l) => l.trim()));
    // A second apart (TCP_KEEPINTVL), the first a second after the data (TCP_KEEPIDLE); nothing else named.
    const us = (l: string) => Number(/── (\d+)\.(\d{6})/.exec(l)!.slice(1).join(''));
    const data = packets.find((l) => /Flags \[P\.\]/.test(l))!;
    expect((us(during[0]) - us(data)) / 1e6).toBeCloseTo(1, 0);
    expect((us(during[2]) - us(during[0])) / 1e6).toBeCloseTo(1, 0);
    expect(svg.match(/class="packet keepalive/g)).toHaveLength(2 * probes);
  }, 30_000);
});

describe('the SVG picture of saved lines', () => {
  it('escapes what the calls carry: < & " \' in data are text, the document stays well-formed', () => {
    const svg = renderDiagram([
      'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3',
      'connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
      'write(3, "<b>&amp;\\"it\'s\\"</b>\\x01", 18) = 18',
    ], 'svg');
    wellFormed(svg);
    expect(svg).toContain('write(3, &quot;&lt;b&gt;&amp;amp;\\&quot;it&apos;s\\&quot;&lt;/b&gt;\\x01&quot;) = 18');
    expect(svg).not.toContain('<b>');
  });

  it('gives each process its lanes after fork, with the child\'s calls and packets in its own', () => {
    const port = (p: number) => `{sa_family=AF_INET, sin_port=htons(${p}), sin_addr=inet_addr("127.0.0.1")}`;
    const pkt = (t: number, a: number, b: number, rest: string) => `  ── 1796400281.${String(t).padStart(6, '0')} IP 127.0.0.1.${a} > 127.0.0.1.${b}: ${rest}`;
    const lines = [
      'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3',
      `bind(3, ${port(0)}, 16) = 0`,
      'listen(3, 0)                            = 0',
      `getsockname(3, ${port(3400)}, [128 => 16]) = 0`,
      'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 4',
      `connect(4, ${port(3400)}, 16) = 0`,
      pkt(1, 41234, 3400, 'Flags [S], seq 100, win 65495, length 0'),
      pkt(2, 3400, 41234, 'Flags [S.], seq 200, ack 101, win 65483, length 0'),
      pkt(3, 41234, 3400, 'Flags [.], ack 201, win 64, length 0'),
      `accept4(3, ${port(41234)}, [128 => 16], SOCK_CLOEXEC) = 5`,
      '[pid   100] clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101',
      '[pid   100] close(5)                    = 0',
      '[pid   100] write(4, "ping", 4)         = 4',
      pkt(4, 41234, 3400, 'Flags [P.], seq 101:105, ack 201, win 64, length 4'),
      '[pid   101] close(3)                    = 0',
      '[pid   101] read(5, "ping", 16)         = 4',
      '[pid   101] write(5, "pong", 4)         = 4',
      pkt(5, 3400, 41234, 'Flags [P.], seq 201:205, ack 105, win 64, length 4'),
      '[pid   100] read(4, "pong", 16)         = 4',
      '[pid   100] wait4(101, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101',
      '[pid   100] read(4, 0x7f, 16)           = -1 EBADF (Bad file descriptor)',
    ];
    const svg = renderDiagram(lines, 'svg');
    wellFormed(svg);
    const lanes = [...svg.matchAll(/<g class="lane" data-lane="([^"]+)">.*?<text[^>]*>([^<]*)<\/text><text[^>]*>([^<]*)<\/text>/g)].map((m) => `${m[1]}: ${m[2]}, ${m[3]}`);
    expect(lanes).toEqual(['100/client: pid 100 · client, port 41234', '100/server: pid 100 · server, port 3400', '101/server: pid 101 · server, port 3400']);
    const laneOf = (i: number) => new RegExp(`<g class="call[^"]*" data-line="${i}" data-lane="([^"]+)"`).exec(svg)?.[1];
    // Before the fork the process has no pid prefix: its calls are pid 100's, by its clone line.
    expect([0, 3, 9, 11].map(laneOf)).toEqual(['100/server', '100/server', '100/server', '100/server']);
    expect([4, 5, 12, 18, 20].map(laneOf)).toEqual(['100/client', '100/client', '100/client', '100/client', '100/client']);
    expect([14, 15, 16].map(laneOf)).toEqual(['101/server', '101/server', '101/server']);
    // clone and wait4 act on no socket: they go to their process's first lane.
    expect([10, 19].map(laneOf)).toEqual(['100/server', '100/server']);
    const arrow = (i: number) => new RegExp(`<g class="packet" data-line="${i}" data-from="([^"]+)" data-to="([^"]+)"`).exec(svg)?.slice(1);
    expect(arrow(6)).toEqual(['100/client', '100/server']); // the SYN to the listening socket
    // The parent closed its copy of the connection: "ping" goes to the child, which answers.
    expect(arrow(13)).toEqual(['100/client', '101/server']);
    expect(arrow(17)).toEqual(['101/server', '100/client']);
    // The failed read is a box of its own kind, with its errno.
    expect(svg).toMatch(/<g class="call error" data-line="20"[^>]*><title>\[pid {3}100\] read\(4, 0x7f, 16\) {11}= -1 EBADF \(Bad file descriptor\)<\/title><rect[^>]*\/><text[^>]*>read\(4\) = -1 EBADF<\/text><\/g>/);
    expect(svg.match(/class="call error"/g)).toHaveLength(1);
  });

  it('names no probe in an ordinary exchange (a window update is no probe) and says why there are no packets', () => {
    const pkt = (t: number, a: number, b: number, rest: string) => `  ── 1796400281.${String(t).padStart(6, '0')} IP 127.0.0.1.${a} > 127.0.0.1.${b}: ${rest}`;
    const lines = [
      '# BSOCK_TRACE=wire: no packets (capture needs CAP_NET_RAW: socket EPERM)',
      pkt(1, 41234, 3400, 'Flags [S], seq 100, win 65495, length 0'),
      pkt(2, 3400, 41234, 'Flags [S.], seq 200, ack 101, win 65483, length 0'),
      pkt(3, 41234, 3400, 'Flags [.], ack 201, win 64, length 0'),
      pkt(4, 3400, 41234, 'Flags [P.], seq 201:301, ack 101, win 64, length 100'),
      pkt(5, 41234, 3400, 'Flags [.], ack 301, win 60, length 0'),
      pkt(6, 41234, 3400, 'Flags [.], ack 301, win 64, length 0'), // the window opens again: an update
      pkt(7, 41234, 3400, 'Flags [.], seq 100:101, ack 301, win 64, length 1'), // one byte at ack - 1: a probe
      pkt(8, 3400, 41234, 'Flags [.], ack 101, win 64, length 0'),
    ];
    const svg = renderDiagram(lines, 'svg');
    expect([...svg.matchAll(/<g class="(packet[^"]*)"/g)].map((m) => m[1])).toEqual([
      'packet', 'packet', 'packet', 'packet', 'packet', 'packet', 'packet keepalive keepalive-probe', 'packet keepalive keepalive-ack',
    ]);
    expect(svg).toMatch(/<text[^>]* class="note">BSOCK_TRACE=wire: no packets \(capture needs CAP_NET_RAW: socket EPERM\)<\/text>/);
    expect(() => renderDiagram(lines, 'png' as 'svg')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
