// Signals during blocking calls (PEP 475, as CPython does it; native/interrupt.h has the mechanism).
//
// A blocking call of the synchronous API (accept, connect, read, recv…, poll, select, waitpid) holds the
// event loop, so a `process.on('SIGINT', …)` listener could not run until the call returned — and libuv's
// SA_RESTART would make the kernel restart the call, so it never would. For every signal that has a
// listener, the native layer chains libuv's handler without SA_RESTART; when such a signal interrupts a
// blocking call, its listeners run right there, synchronously, and the call is retried (poll and select
// with the time that is left). A listener that throws ends the call with its exception. A signal without
// a listener keeps its default action (Ctrl-C ends the process, blocking call or not).
// Also here: keeping write(2) from raising SIGPIPE whatever the program does with that signal.
import { constants } from 'node:os';
import { Worker, isMainThread, threadId } from 'node:worker_threads';
import { native } from './binding';

/** Every name of each signal number: SIGIOT and SIGABRT are one signal, and each may have listeners. */
const namesByNumber = new Map<number, string[]>();
for (const [name, num] of Object.entries(constants.signals)) {
  const names = namesByNumber.get(num);
  if (names) names.push(name);
  else namesByNumber.set(num, [name]);
}

const emit = process.emit as unknown as (event: string, ...args: unknown[]) => boolean;

/**
 * Runs the listeners of the signals that interrupted a blocking call, as Node would have on the loop:
 * `listener(name, signum)`. All of them run; the first exception is thrown afterwards.
 */
function dispatch(signums: number[]): void {
  let failed = false;
  let error: unknown;
  for (const num of signums) {
    for (const name of namesByNumber.get(num) ?? []) {
      if (process.listenerCount(name) === 0) continue;
      try {
        emit.call(process, name, name, num);
      } catch (e) {
        if (!failed) error = e;
        failed = true;
      }
    }
  }
  if (failed) throw error;
}

/** Node has just started listening for `event` if it is a signal (its own listener runs first). */
function chain(event: string | symbol): void {
  if (typeof event !== 'string') return;
  const num = (constants.signals as Record<string, number | undefined>)[event];
  if (num !== undefined) native.chainSignal(num);
}

// SIGPIPE: Node ignores it, so write(2) to a gone peer is just EPIPE — until a listener installs a real
// handler (write then blocks the signal around the call, native/interrupt.h), or the last listener goes
// and libuv leaves SIG_DFL, which would kill the process: it is ignored again, as Node had it.
function sigpipeChanged(event: string | symbol): void {
  if (event === 'SIGPIPE') native.sigpipeGuard(process.listenerCount('SIGPIPE') === 0);
}

// Signals reach JavaScript on the main thread only (Workers cannot listen for them).
if (isMainThread && native.setSignalDispatcher(dispatch) === 0) {
  process.on('newListener', (event) => {
    chain(event);
    sigpipeChanged(event);
  });
  process.on('removeListener', sigpipeChanged);
  for (const name of Object.keys(constants.signals)) if (process.listenerCount(name) > 0) chain(name);
  native.sigpipeGuard(false);
}

// Workers blocked in a synchronous call. A Worker's thread in accept(2) or read(2) never sees
// worker.terminate() (V8 stops JavaScript, not the kernel), and process.exit() then waits for it
// forever. So each Worker thread registers with the addon, and termination wakes it first: the addon
// sends its thread a signal that interrupts the call, which then returns without retrying (see
// native/interrupt.cc, Wake). terminate() is reached through Worker.prototype, which each thread (each
// realm) patches for the Workers it starts; process.exit() through the 'exit' event of the main thread.
if (!isMainThread) native.registerThread(threadId);
const patched = Symbol.for('berkeley-sockets.terminate');
const proto = Worker.prototype as unknown as Record<symbol | string, unknown>;
if (proto[patched] === undefined) {
  const terminate = Worker.prototype.terminate;
  Object.defineProperty(proto, patched, { value: terminate });
  Worker.prototype.terminate = function (this: Worker, ...args: unknown[]) {
    native.wakeThread(this.threadId);
    return (terminate as (...a: unknown[]) => Promise<number>).apply(this, args);
  };
}
if (isMainThread) process.on('exit', () => native.wakeThread(-1));
