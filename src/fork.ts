/**
 * fork(2), _exit(2), getpid(2), getppid(2), waitpid(2): the course's concurrent server, a process per
 * client, with a real fork().
 *
 * A forked Node child works under conditions checked here before anything reaches the kernel: the
 * process was started with `node --single-threaded` (or `npx berkeley-sockets-run`), fork() is called
 * on the main thread with no Worker running, and no request (fs, dns, a stream write) is in flight.
 * native/fork_linux.cc does the rest — V8's fork-excluded heap re-marked MADV_DOFORK, V8's worker
 * threads parked across fork(2), uv_loop_fork() in the child — in a binary of its own, built per Node
 * ABI and loaded on the first fork() only (binding.ts loadFork). The child then never runs Node's teardown, which
 * would wait for the parent's threads: when its loop runs out of work, or it calls process.exit(), it
 * emits 'beforeExit'/'exit' as Node would and ends with _exit(2). The README's "fork()" section says
 * what is and is not safe in the child.
 */
import { writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';
import { type Worker, isMainThread } from 'node:worker_threads';
import { type ForkNative, loadFork, native } from './binding';
import { errnoException } from './errors';
import { traceFork } from './trace/trace';
import { checkInt, checkInt32 } from './validate';

/** waitpid(2) options: return at once (null) when no child has changed state. */
export const WNOHANG: number = native.process.WNOHANG;
/** waitpid(2) options: also report children stopped by a signal. */
export const WUNTRACED: number = native.process.WUNTRACED;
/** waitpid(2) options: also report stopped children resumed by SIGCONT. */
export const WCONTINUED: number = native.process.WCONTINUED;

const { EBUSY, EPERM } = osConstants.errno;

/** How long fork() waits for V8's worker threads to finish what they are doing (they are idle under --single-threaded). */
const PARK_MS = 2000;

/** A child's change of state, decoded from the status word with the C macros of wait(2). */
export interface WaitStatus {
  /** The child that changed state. */
  pid: number;
  /** The raw status word, as C's `int status`. */
  status: number;
  /** WIFEXITED: it ended by exit(3), _exit(2), process.exit() or the end of its event loop. */
  exited: boolean;
  /** WEXITSTATUS (0..255) when it exited, else null. */
  code: number | null;
  /** WIFSIGNALED: a signal ended it. */
  signaled: boolean;
  /** WTERMSIG (9 for SIGKILL) when a signal ended it, else null. */
  signal: number | null;
  /** The name of `signal` ('SIGKILL'), or of the stopping signal; null when there is none. */
  signalName: string | null;
  /** WCOREDUMP: it left a core file. */
  coreDumped: boolean;
  /** WIFSTOPPED (with WUNTRACED): a signal stopped it; WSTOPSIG is in `stopSignal`. */
  stopped: boolean;
  stopSignal: number | null;
}

/** Errors fork() throws when it cannot be safe, each with a `code` to branch on. */
export type ForkErrorCode =
  | 'ERR_FORK_UNSUPPORTED'
  | 'ERR_FORK_IN_WORKER'
  | 'ERR_FORK_NOT_SINGLE_THREADED'
  | 'ERR_FORK_WORKERS_RUNNING'
  | 'ERR_FORK_REQUESTS_IN_FLIGHT'
  | 'ERR_FORK_BUSY';

function forkError(code: ForkErrorCode, message: string): Error & { code: ForkErrorCode } {
  const err = new Error(message) as Error & { code: ForkErrorCode };
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return err;
}

const HOW_TO_START =
  'Start the script with `npx berkeley-sockets-run script.js` (or `node --single-threaded script.js`): ' +
  'the flag must be given when Node starts; v8.setFlagsFromString() at run time is not enough';

/** Whether V8 was started with --single-threaded: the last of its spellings on the command line wins. */
function startedSingleThreaded(): boolean {
  let on = false;
  for (const arg of process.execArgv) {
    const a = arg.replace(/_/g, '-');
    if (a === '--single-threaded' || a === '--single-threaded=true') on = true;
    else if (a === '--no-single-threaded' || a === '--nosingle-threaded' || a === '--single-threaded=false') on = false;
  }
  return on;
}

// Workers started on this thread while the library is loaded ('worker' event, Node >= 16.2). A worker
// created before the library was loaded is not seen.
const workers = new Set<Worker>();
process.on('worker', (w: Worker) => {
  workers.add(w);
  w.once('exit', () => workers.delete(w));
});

/** The fork target, or throws the error that says why fork() cannot be safe here, and what to do instead. */
function checkForkable(): ForkNative {
  if (process.platform !== 'linux') {
    throw forkError('ERR_FORK_UNSUPPORTED', `fork() is implemented for Linux only (this is ${process.platform}): ` +
      'what V8 and Node need across fork(2) has not been measured elsewhere. Serve each client with a spawned ' +
      'process (examples/echo-spawn.ts) or a Worker (examples/echo-threads.ts)');
  }
  if (!isMainThread) {
    throw forkError('ERR_FORK_IN_WORKER', 'fork() cannot be called inside a Worker: the child would have this ' +
      'thread only, without the main thread and the other threads of the process. Call fork() from the main ' +
      'thread, or serve each client with a Worker instead (examples/echo-threads.ts)');
  }
  if (!startedSingleThreaded()) {
    throw forkError('ERR_FORK_NOT_SINGLE_THREADED', 'fork() needs a process started with --single-threaded: ' +
      "otherwise V8's garbage collector and compilers work on background threads, which do not exist in the " +
      `child, and the child hangs or crashes when it waits for them. ${HOW_TO_START}`);
  }
  const forker = loadFork();
  if (typeof forker === 'string') {
    throw forkError('ERR_FORK_UNSUPPORTED', `fork() needs berkeley_sockets_fork.node built for this Node ` +
      `(${process.version}, ABI ${process.versions.modules}): it uses V8's C++ platform interface, which changes ` +
      'between Node versions, so it is built per Node ABI (prebuilt for Node 20, 22, 24 and 26 on linux-x64). ' +
      `Build it from source with \`npm rebuild berkeley-sockets --build-from-source\` (needs g++, make and ` +
      `python3). Everything else works without it. Tried: ${forker}`);
  }
  if (workers.size > 0) {
    throw forkError('ERR_FORK_WORKERS_RUNNING', `fork() with ${workers.size} Worker thread(s) running: they ` +
      'would be missing from the child, possibly holding locks it needs. Terminate them first ' +
      '(`await worker.terminate()`), or fork before starting them');
  }
  const inFlight = native.loopRequests();
  if (inFlight > 0) {
    const what = process.getActiveResourcesInfo().filter((r) => /Req|Wrap$/.test(r) && !/^(TCP|TTY|Pipe|UDP|Signal|Process)Wrap$/.test(r));
    throw forkError('ERR_FORK_REQUESTS_IN_FLIGHT', `fork() with ${inFlight} request(s) in flight` +
      `${what.length ? ` (${[...new Set(what)].join(', ')})` : ''}: they would never complete in the child, ` +
      'which could then never exit. Await them (fs, dns, writes to a full pipe…) before forking');
  }
  return forker;
}

/**
 * fork(2): a new process, a copy of this one, running from this same point. Returns the child's pid
 * in the parent and 0 in the child. As in C, the child has a copy of everything — memory, every
 * descriptor (close-on-exec or not: that flag only matters to exec), timers, pending promises — and
 * both go on from here; see the README section "fork()" for what is and is not safe in the child.
 *
 * Throws (with `code`) when the process cannot fork safely: not Linux (ERR_FORK_UNSUPPORTED), inside a
 * Worker (ERR_FORK_IN_WORKER), not started with --single-threaded (ERR_FORK_NOT_SINGLE_THREADED), a
 * Worker running (ERR_FORK_WORKERS_RUNNING), fs/dns/write requests in flight
 * (ERR_FORK_REQUESTS_IN_FLIGHT), V8's worker threads still busy after 2 s (ERR_FORK_BUSY); a kernel
 * failure (EAGAIN, ENOMEM) is a SystemError.
 *
 * @example
 * const pid = fork();
 * if (pid === 0) { close(srv); serve(conn); process.exit(0); }   // the child
 * close(conn);                                                     // the parent
 */
export function fork(): number {
  const pid = checkForkable().fork(onChildLoopEmpty, PARK_MS);
  if (pid === -EBUSY) {
    throw forkError('ERR_FORK_BUSY', `fork(): V8's worker threads did not become idle within ${PARK_MS} ms, so ` +
      'the child could not be made safe (is V8 really single-threaded?). Nothing was forked; try again');
  }
  if (pid === -EPERM) throw forkError('ERR_FORK_IN_WORKER', 'fork() must be called on the main thread');
  if (pid < 0) throw errnoException(pid, 'fork');
  if (pid === 0) becomeChild();
  traceFork(pid);
  return pid;
}

/** getpid(2): this process's id. In a forked child, process.pid is corrected to the same value. */
export function getpid(): number {
  return native.getpid();
}

/** getppid(2): the parent's process id (1, or a subreaper's, once the parent is gone). */
export function getppid(): number {
  return native.getppid();
}

/**
 * _exit(2): ends the process at once with `status` (0..255): no 'exit' event, no pending callbacks.
 * What a C child calls after fork when it must not run the parent's cleanup. Output written with
 * console.log to a file, a terminal or a pipe is already out (Node writes them synchronously on Linux,
 * unless a pipe is full).
 */
export function _exit(status = 0): never {
  checkInt(status, 'status', 0, 255);
  return native._exit(status);
}

const statusOut = new Int32Array(8);
const signalNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.signals)) if (!signalNames.has(value)) signalNames.set(value, name);

function decode(pid: number, out: Int32Array): WaitStatus {
  const signaled = out[3] === 1;
  const stopped = out[6] === 1;
  const sig = signaled ? out[4] : stopped ? out[7] : null;
  return {
    pid,
    status: out[0],
    exited: out[1] === 1,
    code: out[1] === 1 ? out[2] : null,
    signaled,
    signal: signaled ? out[4] : null,
    signalName: sig === null ? null : signalNames.get(sig) ?? null,
    coreDumped: out[5] === 1,
    stopped,
    stopSignal: stopped ? out[7] : null,
  };
}

/**
 * waitpid(2): waits for a child to change state and reaps it (a child that has ended stays a zombie
 * until its parent does this). `pid` > 0 is that child, -1 any child, 0 or < -1 a process group.
 * With `WNOHANG` in `options`, returns null at once if none has; otherwise **blocks the thread** like
 * C — `berkeley-sockets/promises` has a `waitpid` that does not. ECHILD: no such child (left to reap).
 */
export function waitpid(pid = -1, options = 0): WaitStatus | null {
  checkInt32(pid, 'pid');
  checkInt32(options, 'options');
  const rc = native.waitpid(pid, options, statusOut);
  if (rc < 0) throw errnoException(rc, 'waitpid');
  return rc === 0 ? null : decode(rc, statusOut);
}

/** @internal waitpid(pid, WNOHANG): the status, or undefined while the child runs (the async waitpid's poll). */
export function reap(pid: number): WaitStatus | undefined {
  const out = new Int32Array(8);
  const rc = native.waitpid(pid, WNOHANG, out);
  if (rc < 0) throw errnoException(rc, 'waitpid');
  return rc === 0 ? undefined : decode(rc, out);
}

// What must happen in a forked child before it runs on: berkeley-sockets/promises registers here to
// abandon the async waits the child inherited (the sync API knows nothing of the async engine).
const childHooks: (() => void)[] = [];

/** @internal Runs `hook` in each forked child, as soon as fork() returns 0. */
export function onForkChild(hook: () => void): void {
  childHooks.push(hook);
}

// ── In the child ────────────────────────────────────────────────────────────────────────────────

let exitHooked = false;
let fatalError: { error: unknown } | undefined;

function exitCodeOr(fallback: number): number {
  const c = process.exitCode as number | string | null | undefined;
  return (c === undefined || c === null ? fallback : Number(c) | 0) & 0xff;
}

/** What Node prints for an uncaught exception (without the source line it quotes before it). */
function report(error: unknown): void {
  try {
    writeSync(2, `${inspect(error)}\n\nNode.js ${process.version}\n`);
  } catch {
    // stderr is gone: nothing to report to
  }
}

/** Called by the addon when the child's event loop has nothing left to do. */
function onChildLoopEmpty(event: 'beforeExit' | 'exit'): void {
  if (event === 'beforeExit') {
    process.emit('beforeExit', exitCodeOr(0));
    return;
  }
  (process as { _exiting?: boolean })._exiting = true;
  process.emit('exit', exitCodeOr(0)); // ends the process (hookExit)
}

function becomeChild(): void {
  // Node read process.pid (and process.ppid, once asked) when it started: they are the parent's.
  Object.defineProperty(process, 'pid', { value: native.getpid(), enumerable: true, configurable: true, writable: false });
  Object.defineProperty(process, 'ppid', { value: native.getppid(), enumerable: true, configurable: true, writable: true });
  for (const hook of childHooks) hook();
  if (!exitHooked) hookExit();
}

/**
 * Every way out of a Node process emits 'exit' first — the end of the loop (onChildLoopEmpty),
 * process.exit(), an uncaught exception — and then runs Node's teardown, which in the child would
 * join the parent's threads and crash or hang. So once the 'exit' listeners have run, the child ends
 * with _exit(2) and the same exit code Node would have used, printing a fatal error as Node would.
 */
function hookExit(): void {
  exitHooked = true;
  type Emit = (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) => boolean;
  const emit = process.emit as unknown as Emit;
  const hooked: Emit = function (event, ...args) {
    if (event === 'uncaughtException') {
      const handled = emit.call(this, event, ...args);
      if (!handled) fatalError = { error: args[0] }; // Node is about to emit 'exit' and die of it
      return handled;
    }
    if (event !== 'exit') return emit.call(this, event, ...args);
    try {
      emit.call(this, event, ...args);
    } catch (e) {
      report(e);
      native._exit(exitCodeOr(1));
    }
    if (fatalError !== undefined) report(fatalError.error);
    return native._exit(exitCodeOr(Number(args[0]) | 0));
  };
  process.emit = hooked as unknown as typeof process.emit;
  // process.exit() emits 'exit' (above) and then calls reallyExit; if 'exit' was already emitted, only this.
  (process as unknown as { reallyExit: (code?: number) => never }).reallyExit = (code?: number) => native._exit((Number(code) | 0) & 0xff);
}
