// tcpdump as the independent witness of what went on the wire (test/capture.test.ts,
// test/trace-wire.test.ts): started on lo, writing every packet to a file as it comes, and stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface Tcpdump {
  /** The pcap file it writes (-w FILE -U: each packet as it comes). */
  file: string;
  child: ChildProcess;
  /** What it said on stderr so far ("listening on…", "N packets captured"). */
  stderr(): string;
  /**
   * Ends it: SIGINT (it then flushes and counts), SIGKILL after 5 s. SIGINT ends its loop at once, and
   * packets still in its socket's queue are never written: first it waits (at most 5 s) until its file
   * holds `enough` packets (or `enough()` says so), or, without it, until the file has not grown for 300 ms.
   */
  stop(enough?: number | (() => boolean)): Promise<void>;
}

/**
 * tcpdump's ring: 32 MiB (-B, in KiB) cut into frames of 4 KiB (-s 4096: every packet of the tests is
 * smaller, so each is captured whole), about 7,800 packets. By default libpcap cuts 2 MiB into frames
 * of lo's MTU (64 KiB): 32 packets. Between tcpdump's socket and its filter, the ring takes every
 * packet lo carries (another test's flood: 768 once), and tcpdump, slow to start on a loaded machine,
 * had not read them yet when the test's exchange came, which the kernel then dropped whole ("0 packets
 * captured, 768 received by filter, 256 dropped by kernel").
 */
export const TCPDUMP_BUFFER = ['-B', '32768', '-s', '4096'];

/** How many whole packets a pcap file holds so far (24-byte header, then 16-byte record headers). */
export function pcapCount(file: string): number {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return 0;
  }
  let n = 0;
  for (let at = 24; at + 16 <= b.length; n++) {
    const caplen = b.readUInt32LE(at + 8);
    if (at + 16 + caplen > b.length) break; // a record still being written
    at += 16 + caplen;
  }
  return n;
}

/**
 * `tcpdump -i lo -w DIR/lo.pcap -U --immediate-mode EXPR`, resolved once it is listening (its filter
 * attached; at most 10 s). `netns`: the pid of a process whose network namespace to capture in (the
 * loopback of an `unshare -n`), entered with `nsenter -t PID -n`, which then execs tcpdump itself (it
 * forks only for a pid namespace), so the child is tcpdump and SIGINT reaches it.
 */
export async function startTcpdump(expr: string, dir: string, options: { netns?: number } = {}): Promise<Tcpdump> {
  const file = path.join(dir, 'lo.pcap');
  // -Z root: Debian's tcpdump otherwise gives up root before opening FILE in a directory only root may write.
  const args = ['-i', 'lo', ...TCPDUMP_BUFFER, '-w', file, '-U', '--immediate-mode', '-Z', 'root', expr];
  const child = options.netns === undefined
    ? spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('nsenter', ['-t', String(options.netns), '-n', 'tcpdump', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening in 10 s: ${stderr}`)), 10_000);
    const check = () => {
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${stderr}`));
    });
  }).catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
  return {
    file,
    child,
    stderr: () => stderr,
    async stop(enough?: number | (() => boolean)) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      if (enough !== undefined) {
        const done = typeof enough === 'number' ? () => pcapCount(file) >= enough : enough;
        for (let i = 0; i < 100 && !done(); i++) await sleep(50);
      } else {
        for (let i = 0, size = -1, still = 0; i < 100 && still < 6; i++) {
          const now = existsSync(file) ? statSync(file).size : 0;
          still = now === size ? still + 1 : 0;
          size = now;
          await sleep(50);
        }
      }
      const closed = once(child, 'close');
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(killer);
    },
  };
}
