#!/usr/bin/env node
// npm run bench [-- --quick] [-- --reps N] [-- --only tcp-pingpong,accept] [-- --json FILE] [-- --build DIR]
//                [-- --idle PERCENT] [-- --idle-wait SECONDS] [-- --idle-budget SECONDS] [-- --no-pin] [-- --no-python]
//
// Runs every workload with every contender — the C reference (compiled here with cc -O2 into
// bench/build/, which git ignores), CPython's socket module (where python3 is; --no-python leaves it
// out), Node's net/dgram, and this library's sync and async APIs — in one
// run, alternating the contenders (the order rotates on every repetition), and prints the medians
// with ratios to C and to net, and the machine. --quick: small N, every byte checked, one repetition
// (what test/bench.test.ts runs). A program that fails or does not verify its data fails the run.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
// --build DIR: where the C programs go (the test uses a temporary one, so a bench running meanwhile
// keeps its binaries).
const buildDir = path.resolve(option('build', path.join(here, 'build')));
const quick = flag('quick');
const reps = Number(option('reps', quick ? 1 : 7));
const only = option('only', '').split(',').filter(Boolean);
const jsonOut = option('json', undefined);
const timeoutMs = quick ? 30_000 : 120_000;

/**
 * Untimed iterations before the timed ones. Node needs them far more than C: measured here, a Node
 * process reaches its steady speed only after a few tenths of a second of a workload, and the sync
 * API's ratio to C read 0.85 after 1,500 warm-up round trips but 0.90 after 10,000
 * (TCP ping-pong), 0.72 after 400 connection cycles but 0.88 after 4,000; C's own rate is the same
 * either way, and so is the many-connections workload's (5 or 30 warm-up rounds). The figures are
 * steady-state rates, for every contender alike (bench/README.md, fourth session).
 */
const WARM_ROUND_TRIPS = 10_000;
const WARM_CYCLES = 4_000;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * The workloads. `args` go to both processes (each takes what it needs); `checkServer` says whether
 * the server's own RESULT agrees with what the client did; `higher` says which way is better.
 */
const workloads = [
  {
    name: 'tcp-pingpong',
    title: 'TCP ping-pong: 64 B, TCP_NODELAY, one round trip at a time',
    unit: 'round trips/s',
    higher: true,
    contenders: ['c', 'py', 'net', 'sync', 'async'],
    args: quick ? { n: 2000, warmup: 200 } : { n: 15000, warmup: WARM_ROUND_TRIPS },
    checkServer: (s, a) => s.echoed === a.n + a.warmup,
    details: (r) => `mean ${fmt(r.meanUs, 1)} µs, p99 ${fmt(r.p99Us, 1)} µs`,
  },
  {
    name: 'udp-pingpong',
    title: 'UDP ping-pong: 64 B datagrams, one round trip at a time',
    unit: 'round trips/s',
    higher: true,
    contenders: ['c', 'py', 'net', 'sync', 'async'],
    args: quick ? { n: 2000, warmup: 200 } : { n: 15000, warmup: WARM_ROUND_TRIPS },
    checkServer: (s, a) => s.echoed === a.n + a.warmup,
    details: (r) => `mean ${fmt(r.meanUs, 1)} µs, p99 ${fmt(r.p99Us, 1)} µs`,
  },
  {
    name: 'tcp-bulk',
    title: `TCP bulk: 64 KiB writes, ${quick ? '16 MiB' : '1 GiB'} into a reused 64 KiB buffer`,
    unit: 'GB/s',
    higher: true,
    contenders: ['c', 'py', 'net', 'sync', 'async'],
    args: { bytes: quick ? 16 * MiB : GiB },
    checkServer: (s, a) => s.sent === a.bytes,
    details: () => '',
  },
  {
    name: 'accept',
    title: 'Connection cycle: socket/connect, accept/close, EOF/close — one at a time',
    unit: 'connections/s',
    higher: true,
    contenders: ['c', 'py', 'net', 'sync', 'async'],
    args: quick ? { n: 300, warmup: 30 } : { n: 6000, warmup: WARM_CYCLES },
    checkServer: (s, a) => s.accepted === a.n + a.warmup,
    details: () => '',
  },
  {
    name: 'many',
    title: `Many connections: ${quick ? 200 : 1000} concurrent, 64 B ping-pong each (event loops)`,
    unit: 'round trips/s',
    higher: true,
    // epoll: c.c's epoll loop in JavaScript on the sync API (bench/many/epoll.mjs), the row
    // "an epoll loop in TS, ≥ 0.85 × C's".
    contenders: ['c', 'epoll', 'net', 'async'],
    args: quick ? { conns: 200, n: 5, warmup: 2 } : { conns: 1000, n: 40, warmup: 5 },
    checkServer: (s, a) => s.accepted === a.conns && s.echoed === a.conns * (a.n + a.warmup),
    details: (r, s) => (r.lagP99Ms === undefined ? '' :
      `loop lag p99 client ${fmt(r.lagP99Ms, 1)} ms / server ${fmt(s.lagP99Ms, 1)} ms`),
  },
  {
    // Issue 20's "scale across cores": the same epoll server (bench/many/epoll.mjs) with 1 and with 2
    // threads, each thread its own SO_REUSEPORT listener and epoll loop; the client is C's epoll loop
    // (bench/many/c.c) for both, so that only the server changes. Nothing is pinned here: the server's
    // threads may use every core, and on a 2-core machine the client takes one of them.
    name: 'scale',
    title: `Scaling: ${quick ? 200 : 1000} connections, the epoll server in 1 and 2 threads (SO_REUSEPORT), C's client`,
    unit: 'round trips/s',
    higher: true,
    contenders: ['1t', '2t'],
    build: ['many'],
    pinned: false,
    server: (c) => [process.execPath, path.join(here, 'many', 'epoll.mjs')],
    serverArgs: (c) => ({ threads: c === '2t' ? 2 : 1 }),
    client: () => [path.join(buildDir, 'many')],
    ref: '1t',
    args: quick ? { conns: 200, n: 5, warmup: 2 } : { conns: 1000, n: 40, warmup: 5 },
    checkServer: (s, a) => s.accepted === a.conns && s.echoed === a.conns * (a.n + a.warmup),
    details: (r, s) => (s.threads > 1 ? `connections per thread ${fmt(s.fewest, 0)}–${fmt(s.most, 0)}` : ''),
  },
  {
    name: 'getsockopt',
    title: 'Per-call overhead: getsockopt(SOL_SOCKET, SO_TYPE) in a loop',
    unit: 'ns/call',
    higher: false,
    contenders: ['c', 'py', 'sync'],
    args: quick ? { n: 20000, warmup: 2000 } : { n: 500000, warmup: 100000 },
    details: (r, _s, c) => (c === undefined ? '' : `${fmt(r.rate - c, 0)} ns above C`),
  },
  {
    name: 'alloc',
    title: 'Heap allocation on the hot path: write(1 B) + read into the caller\'s Buffer',
    unit: 'bytes/iteration',
    higher: false,
    contenders: ['sync', 'async'],
    reps: 1, // a count, not a timing: one run says it
    args: quick ? { n: 20000, warmup: 2000 } : { n: 300000, warmup: 50000 },
    details: (r) => `${r.gcs} GCs over ${r.n.toLocaleString('en-US')} iterations`,
  },
].filter((w) => only.length === 0 || only.includes(w.name));

/**
 * CPython's socket module is the yardstick for the sync API ("CPython's level"): where python3
 * is on the machine, its program of each workload runs in the same alternation (bench/<workload>/py.py,
 * standard library only). Without python3, or with --no-python, those rows are left out and said so.
 */
const python = flag('no-python') ? undefined : findPython();
function findPython() {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
if (python === undefined) {
  console.error(`CPython rows left out: ${flag('no-python') ? '--no-python' : 'no python3 on PATH'}`);
  for (const w of workloads) w.contenders = w.contenders.filter((c) => c !== 'py');
}

function fmt(x, digits) {
  if (x === undefined || Number.isNaN(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * The machine's speed drifts from minute to minute (C's own rate by up to 1.6× within a run), and a
 * ratio of medians taken over different minutes carries that drift. Each repetition runs every
 * contender back to back, so the ratio within a repetition is the steadier one: their median, and
 * range, over the repetitions where both ran.
 */
function paired(results, w, contender, ref) {
  if (contender === ref || !w.contenders.includes(ref)) return '';
  const mine = results[w.name]?.[contender] ?? [];
  const theirs = results[w.name]?.[ref] ?? [];
  const ratios = [];
  for (let r = 0; r < Math.min(mine.length, theirs.length); r++) {
    if (mine[r].client && theirs[r].client) ratios.push(mine[r].client.rate / theirs[r].client.rate);
  }
  if (ratios.length < 2) return '';
  const name = ref === 'c' ? 'C' : ref === 'net' ? 'net' : ref;
  return `paired × ${name} ${fmt(median(ratios), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Compiles each workload's c.c with cc -O2. */
function buildC() {
  mkdirSync(buildDir, { recursive: true });
  const names = new Set(workloads.flatMap((w) => [...(w.contenders.includes('c') ? [w.name] : []), ...(w.build ?? [])]));
  for (const name of names) {
    const out = path.join(buildDir, name);
    execFileSync('cc', ['-O2', '-Wall', '-Wno-unused-function', '-o', out, path.join(here, name, 'c.c')], { stdio: 'inherit' });
  }
}

function command(w, contender) {
  if (contender === 'c') return [path.join(buildDir, w.name)];
  if (contender === 'py') return [python, path.join(here, w.name, 'py.py')];
  return [process.execPath, path.join(here, w.name, `${contender}.mjs`)];
}

/**
 * Where client and server run moves every figure (on one core a wake-up is a context switch; across
 * two, an inter-processor interrupt), and the scheduler decides differently for a small C process
 * than for Node: so, unless --no-pin (or with --quick), the server runs on CPU 0 and the client (or a
 * single program) on CPU 1, the same for every contender.
 */
function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const pin = !quick && !flag('no-pin') && os.cpus().length >= 2 && hasTaskset();
const onCpu = (cpu, cmd) => (pin ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

function argList(role, args, extra = {}) {
  const all = { ...args, ...extra };
  const list = [role];
  for (const [k, v] of Object.entries(all)) list.push(`--${k}`, String(v));
  if (quick) list.push('--quick');
  return list;
}

/** Starts one program; `waitFor(re)` finds a line of its stdout; `done` resolves when it exits. */
function start(cmd, args) {
  const child = spawn(cmd[0], [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    });
  });
  const program = `${path.basename(cmd[cmd.length - 1])} ${args.join(' ')}`;
  return {
    child,
    done,
    program,
    get stderr() {
      return err;
    },
    /** The first stdout line matching `re`, or undefined if the program exits without printing one. */
    async waitFor(re) {
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        await new Promise((r) => waiters.push(r));
      }
    },
  };
}

async function resultOf(proc) {
  const { code, signal } = await proc.done;
  const m = await proc.waitFor(/^RESULT (.*)$/m);
  if (code !== 0 || !m) {
    const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (timeout?)' : ''}` : `exit code ${code}`;
    throw new Error(`${proc.program}: ${why}, ${m ? 'result' : 'no result'}\n${proc.stderr.trim()}`);
  }
  return JSON.parse(m[1]);
}

/** One run of one contender: server then client (or a single program), both results. */
async function trial(w, contender) {
  const cmd = command(w, contender);
  if (!w.checkServer) {
    const r = await resultOf(start(onCpu(1, cmd), argList('run', w.args)));
    return { client: r, server: {}, verified: r.verified === true };
  }
  const on = (cpu, c) => (w.pinned === false ? c : onCpu(cpu, c));
  const server = start(on(0, w.server?.(contender) ?? cmd), argList('server', w.args, w.serverArgs?.(contender)));
  try {
    const m = await server.waitFor(/^PORT (\d+)$/m);
    if (!m) {
      await resultOf(server); // throws with its stderr
      throw new Error(`${server.program}: exited without announcing a port`);
    }
    const client = start(on(1, w.client?.(contender) ?? cmd), argList('client', w.args, { port: m[1] }));
    let c;
    try {
      c = await resultOf(client);
    } finally {
      if (client.child.exitCode === null) client.child.kill('SIGKILL');
    }
    const s = await Promise.race([
      resultOf(server),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${server.program}: did not finish after the client`)), 10_000)),
    ]);
    return { client: c, server: s, verified: c.verified === true && w.checkServer(s, w.args) };
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

/** CPU time used by every process on the machine, as a fraction of all cores, over `ms` (/proc/stat). */
async function busyFraction(ms = 250) {
  const sample = () => {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = sample();
    await new Promise((r) => setTimeout(r, ms));
    const b = sample();
    return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
  } catch {
    return 0; // no /proc/stat: not Linux
  }
}

/**
 * Other developers' tests may be running: before each trial, wait (up to --idle-wait seconds, 20 by
 * default, none with --quick) until the machine is at most --idle percent busy (25), and record what
 * it was, so a run says how quiet it really was.
 */
const idleMax = Number(option('idle', 25)) / 100;
const idleWaitMs = Number(option('idle-wait', quick ? 0 : 20)) * 1000;
let idleBudgetMs = Number(option('idle-budget', 90)) * 1000; // for the whole run, to keep it bounded
async function waitForQuiet() {
  const began = Date.now();
  const until = began + Math.min(idleWaitMs, idleBudgetMs);
  let busy = await busyFraction();
  while (busy > idleMax && Date.now() < until) busy = await busyFraction(500);
  idleBudgetMs -= Date.now() - began;
  return busy;
}

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    cc: execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0],
    python: python === undefined ? 'no CPython' : execFileSync(python, ['--version'], { encoding: 'utf8' }).trim(),
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

function loadavgLine() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os.loadavg().map((x) => x.toFixed(2)).join(' ');
  }
}

async function main() {
  const began = Date.now();
  const info = machine();
  const loadBefore = loadavgLine();
  buildC();
  const results = {}; // workload -> contender -> [{client, server, verified}], one per repetition
  const busyBefore = []; // the machine's busy fraction just before each trial
  let failures = 0;
  for (const w of workloads) {
    results[w.name] = Object.fromEntries(w.contenders.map((c) => [c, []]));
    for (let rep = 0; rep < (w.reps ?? reps); rep++) {
      const order = w.contenders.map((_, i) => w.contenders[(i + rep) % w.contenders.length]);
      for (const contender of order) {
        let t;
        const busy = await waitForQuiet();
        busyBefore.push(busy);
        const t0 = Date.now();
        try {
          t = await trial(w, contender);
          t.ms = Date.now() - t0;
        } catch (e) {
          failures++;
          console.error(`FAIL ${w.name}/${contender}: ${e.message}`);
          results[w.name][contender].push({ error: e.message, verified: false });
          continue;
        }
        if (!t.verified) {
          failures++;
          console.error(`FAIL ${w.name}/${contender}: data not verified: ${JSON.stringify(t)}`);
        }
        t.busyBefore = busy;
        results[w.name][contender].push(t);
        console.error(`${w.name} ${contender} #${rep + 1}: ${fmt(t.client.rate, w.unit === 'GB/s' ? 3 : 1)} ${w.unit}` +
          ` (machine ${(busy * 100).toFixed(0)}% busy before)`);
      }
    }
  }
  const loadAfter = loadavgLine();
  const seconds = (Date.now() - began) / 1000;

  const lines = [];
  lines.push(`## berkeley-sockets bench${quick ? ' (--quick: small N, data verified, not a measurement)' : ''}`);
  lines.push('');
  lines.push(`${info.cores} cores (${info.cpu}), ${info.kernel}, Node ${info.node}, ${info.cc}, ${info.python}`);
  lines.push(`load average (1/5/15 min, runnable/total) before: ${loadBefore}; after: ${loadAfter}`);
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  lines.push(`CPU busy (all processes, all cores) just before each trial: median ${pct(median(busyBefore))}, ` +
    `max ${pct(Math.max(...busyBefore))} (waited up to ${idleWaitMs / 1000} s for ≤ ${pct(idleMax)}, ` +
    `${Math.max(0, idleBudgetMs / 1000).toFixed(0)} s of the waiting budget left)`);
  lines.push(`${reps} repetition(s) (the allocation count: 1), contenders alternated; medians; ${seconds.toFixed(0)} s in all; ` +
    (pin ? 'server pinned to CPU 0, client to CPU 1 (taskset)' : 'not pinned'));
  const summary = {};
  for (const w of workloads) {
    lines.push('');
    lines.push(`### ${w.title}`);
    lines.push('');
    lines.push(`| contender | ${w.unit} | × C | × net | |`);
    lines.push('| --- | ---: | ---: | ---: | --- |');
    const med = {};
    for (const c of w.contenders) {
      const ok = results[w.name][c].filter((t) => t.client);
      if (ok.length === 0) continue;
      const field = (k, side = 'client') => median(ok.map((t) => t[side][k]).filter((x) => typeof x === 'number'));
      const keys = new Set(ok.flatMap((t) => Object.keys(t.client)));
      const skeys = new Set(ok.flatMap((t) => Object.keys(t.server)));
      med[c] = {
        client: Object.fromEntries([...keys].map((k) => [k, field(k)])),
        server: Object.fromEntries([...skeys].map((k) => [k, field(k, 'server')])),
        runs: ok.map((t) => t.client.rate),
      };
    }
    summary[w.name] = med;
    const names = { c: 'C (cc -O2)', py: 'CPython socket', net: w.name === 'udp-pingpong' ? 'Node dgram' : 'Node net', sync: 'berkeley-sockets sync', async: 'berkeley-sockets/promises', epoll: 'berkeley-sockets sync, epoll loop', '1t': 'epoll server, 1 thread', '2t': 'epoll server, 2 threads' };
    for (const c of w.contenders) {
      if (!med[c]) {
        lines.push(`| ${names[c]} | failed | | | |`);
        continue;
      }
      const r = med[c].client.rate;
      const ratio = (other) => (med[other] ? fmt(r / med[other].client.rate, 2) : '—');
      const digits = w.unit === 'GB/s' ? 2 : w.unit.startsWith('bytes') ? 1 : 0;
      const runs = med[c].runs;
      const spread = runs.length > 1 ? `runs ${fmt(Math.min(...runs), digits)}–${fmt(Math.max(...runs), digits)}` : '';
      // Paired ratios: to C for every contender; to net for this library's rows (the async targets).
      const pairs = [paired(results, w, c, 'c'), c === 'sync' || c === 'async' || c === 'epoll' ? paired(results, w, c, 'net') : '',
        w.ref ? paired(results, w, c, w.ref) : ''];
      const detail = [w.details(med[c].client, med[c].server, c === 'c' ? undefined : med.c?.client.rate), ...pairs, spread]
        .filter(Boolean).join('; ');
      lines.push(`| ${names[c]} | ${fmt(r, digits)} | ${w.contenders.includes('c') ? ratio('c') : '—'} | ${w.contenders.includes('net') ? ratio('net') : '—'} | ${detail} |`);
    }
  }
  lines.push('');
  lines.push('× C and × net divide this row\'s median by theirs: above 1 is faster for rates, slower for ns/call.');
  console.log(lines.join('\n'));
  if (jsonOut) {
    writeFileSync(jsonOut, JSON.stringify({ machine: info, loadBefore, loadAfter, busyBefore, quick, reps, seconds, results, summary }, null, 2));
  }
  if (failures > 0) {
    console.error(`${failures} run(s) failed or did not verify their data`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
