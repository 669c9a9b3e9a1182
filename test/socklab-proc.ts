// socklab driven as a separate process, for the tests that do (socklab.test.ts, socklab-capture.test.ts):
// its output collected as it comes, every wait on it bounded, every child killed after each test.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const cli = path.join(__dirname, '..', 'dist', 'cli', 'socklab.js');
/** English messages, no inherited trace or history, whatever the machine running the tests has. */
export const ENV = { ...process.env, LANG: 'C', LC_ALL: '', LC_MESSAGES: '', BSOCK_TRACE: '', SOCKLAB_HISTORY: '' };

const children: ChildProcess[] = [];

/** Kills the socklab processes still running (a test file's afterEach). */
export function killChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** A socklab process whose output is collected as it comes, with bounded waits on it. */
export class Proc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  private mark = 0;
  readonly exited: Promise<Run>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, command = process.execPath, argv = [cli, ...args]) {
    this.child = spawn(command, argv, { env: { ...ENV, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve({ code, out: this.out, err: this.err })));
  }

  /** Waits (at most `ms`) until the output since the last match matches `re`. */
  async waitFor(re: RegExp, ms = 5000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out.slice(this.mark));
      if (m) {
        this.mark += m.index + m[0].length;
        return m;
      }
      if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms; output:\n${this.out}\nstderr:\n${this.err}`);
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${re}; output:\n${this.out}\nstderr:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Ends standard input and waits (at most `ms`) for the exit. */
  async end(text = '', ms = 10_000): Promise<Run> {
    this.child.stdin!.end(text);
    return this.done(ms);
  }

  async done(ms = 10_000): Promise<Run> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`still running after ${ms} ms; output:\n${this.out}\nstderr:\n${this.err}`));
      }, ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A tmux server of the test's own (`-L name`): `tmux(...)` runs a command on it, `screen()` is the
 * window 'lab' as tmux shows it (`capture` adds capture-pane's options: -J -S -200 joins wrapped lines
 * and keeps 200 lines of scrollback), `until(re, ms = 5000)` waits at most `ms` for the screen to match, `quit()`
 * types quit and waits at most 5 s for the lab (and so the session) to end, and says whether it did.
 */
export function tmuxServer(name: string, capture = ['-J', '-S', '-200']) {
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', name, ...args], { encoding: 'utf8', timeout: 5000 });
  const screen = () => tmux('capture-pane', '-p', ...capture, '-t', 'lab').stdout;
  const until = async (re: RegExp, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!re.test(screen())) {
      if (Date.now() > deadline) throw new Error(`no ${re} on the screen:\n${screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const quit = async () => {
    tmux('send-keys', '-t', 'lab', 'quit', 'Enter');
    const deadline = Date.now() + 5000;
    while (tmux('has-session', '-t', 'lab').status === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return tmux('has-session', '-t', 'lab').status !== 0;
  };
  return { tmux, screen, until, quit };
}
