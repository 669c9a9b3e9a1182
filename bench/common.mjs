// What every Node bench program shares: its command line, the two lines it prints for bench/run.mjs
// (`PORT n` once a server listens, `RESULT {json}` at the end), timing and the data patterns. Nothing
// here runs inside a timed loop except now().
import { performance } from 'node:perf_hooks';

/**
 * `node prog.mjs <role> [--key value]… [--quick]`: role is server, client or run; numbers are parsed.
 * Unknown keys are kept, so run.mjs can pass the same options to every contender.
 */
export function parseArgs(argv = process.argv.slice(2)) {
  const [role, ...rest] = argv;
  const opts = { role, quick: false };
  for (let i = 0; i < rest.length; i++) {
    const key = rest[i].replace(/^--/, '');
    if (key === 'quick') opts.quick = true;
    else opts[key] = Number(rest[++i]);
  }
  return opts;
}

/** A server tells run.mjs where to connect. */
export function announcePort(port) {
  process.stdout.write(`PORT ${port}\n`);
}

/** The last line of every program: its measurements and whether it verified its data. */
export function result(obj) {
  process.stdout.write(`RESULT ${JSON.stringify(obj)}\n`);
}

/** Milliseconds, sub-microsecond resolution (a double: no allocation, unlike hrtime.bigint()). */
export const now = () => performance.now();

/** Round trips/s, mean and p99 round-trip time (µs) from per-round-trip times in ms. */
export function rttStats(rtts, n, elapsedMs) {
  const sorted = Float64Array.from(rtts.subarray(0, n)).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    rate: n / (elapsedMs / 1000),
    meanUs: (sum / n) * 1000,
    p99Us: sorted[Math.min(n - 1, Math.floor(n * 0.99))] * 1000,
  };
}

/** Message size of the ping-pong workloads. */
export const MSG = 64;

/**
 * Ping-pong message number `seq`: its first 4 bytes are the sequence number (checked on every echo,
 * cheaply), the rest a pattern derived from it (checked in full with --quick).
 */
export function fillMessage(buf, seq) {
  buf.writeUInt32LE(seq >>> 0, 0);
  for (let i = 4; i < MSG; i++) buf[i] = (seq + i) & 0xff;
}

/** Whether `buf` is message `seq`; `full` compares every byte, otherwise only the sequence number. */
export function checkMessage(buf, seq, full) {
  if (buf.readUInt32LE(0) !== seq >>> 0) return false;
  if (full) for (let i = 4; i < MSG; i++) if (buf[i] !== ((seq + i) & 0xff)) return false;
  return true;
}

/** Bulk transfer: byte i of the stream is i % 251 (a prime, so chunk boundaries shift the pattern). */
export const PERIOD = 251;
export const CHUNK = 64 * 1024;

/** CHUNK + PERIOD bytes of the pattern: chunk starting at stream offset o is pat.subarray(o % PERIOD). */
export function bulkPattern() {
  const pat = Buffer.allocUnsafe(CHUNK + PERIOD);
  for (let i = 0; i < pat.length; i++) pat[i] = i % PERIOD;
  return pat;
}

/** Checks `n` received bytes at stream offset `offset` against the pattern. */
export function checkBulk(buf, n, offset) {
  let p = offset % PERIOD;
  for (let i = 0; i < n; i++) {
    if (buf[i] !== p) return false;
    if (++p === PERIOD) p = 0;
  }
  return true;
}

/** Reports an uncaught failure as a non-zero exit, which run.mjs shows with the program's stderr. */
export function fail(err) {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
}

/**
 * Event-loop lag while the returned function has not been called: how late a 10 ms timer fires (the
 * histogram records the whole interval, so the resolution is subtracted), p99 and max, in ms.
 */
export async function lagMonitor() {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const resolution = 10;
  const h = monitorEventLoopDelay({ resolution });
  h.enable();
  return () => {
    h.disable();
    const ms = (ns) => Math.max(0, ns / 1e6 - resolution);
    return { lagP99Ms: ms(h.percentile(99)), lagMaxMs: ms(h.max) };
  };
}

/**
 * Bytes allocated on the V8 heap while `fn` runs, and how many collections that caused: the growth of
 * the used heap plus what each collection freed (V8's GC profiler reports the heap around each one).
 * `fn` may be async.
 */
export async function measureAllocation(fn) {
  const v8 = await import('node:v8');
  const used = () => v8.getHeapStatistics().used_heap_size;
  const profiler = new v8.GCProfiler();
  const before = used();
  profiler.start();
  await fn();
  const after = used();
  const { statistics } = profiler.stop();
  let freed = 0;
  for (const s of statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  return { bytes: Math.max(0, after - before + freed), gcs: statistics.length };
}
