// tcpdump as the independent witness of what went on the wire (test/capture.test.ts,
// test/trace-wire.test.ts): started on lo, writing every packet to a file as it comes, and stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

export interface Tcpdump {
  /** The pcap file it writes (-w FILE -U: each packet as it comes). */
  file: string;
  child: ChildProcess;
  /** What it said on stderr so far ("listening on…", "N packets captured"). */
  stderr(): string;
  /** Ends it: SIGINT (it then flushes and counts), SIGKILL after 5 s. */
  stop(): Promise<void>;
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
  const args = ['-i', 'lo', '-w', file, '-U', '--immediate-mode', '-Z', 'root', expr];
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
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const closed = once(child, 'close');
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(killer);
    },
  };
}
