// waitpid(2) for berkeley-sockets/promises: the course's concurrent server reaps its children while
// its event loop goes on accepting. Part of the async engine, so the sync API (src/fork.ts) never
// loads it: fork.ts lends it reap() and a hook to run in a forked child.
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../binding';
import { errnoException } from '../errors';
import { type WaitStatus, onForkChild, reap } from '../fork';
import { type SocketHandle, newHandle } from '../handle';
import { INT32_MAX, checkInt } from '../validate';
import { type AsyncOptions, abortError, checkOptions } from './options';
import { WAIT_FIRST, operate } from './reactor';

const { ENOSYS, ESRCH, ETIMEDOUT } = osConstants.errno;

// Async waits in progress. A forked child inherits them, but the children they wait for are its
// siblings, not its own: there they are abandoned — never settled, not keeping the loop alive.
const waits = new Set<{ abandoned: boolean; pidfd?: SocketHandle }>();
const forever = <T>() => new Promise<T>(() => {});
onForkChild(() => {
  for (const w of waits) {
    w.abandoned = true;
    w.pidfd?.close();
  }
});

/**
 * waitpid(2) without blocking the event loop: resolves with the status once child `pid` has ended
 * (and reaps it). On Linux ≥ 5.3 a pidfd_open(2) descriptor is watched for readability like a socket;
 * elsewhere, or on older kernels, waitpid(pid, WNOHANG) is retried on a timer (1 ms doubling to 50 ms).
 * Takes `{ signal, timeout }` like every call in berkeley-sockets/promises (ETIMEDOUT, AbortError);
 * the child is not reaped then, and can be waited for again.
 */
export async function waitpidAsync(pid: number, options?: AsyncOptions): Promise<WaitStatus> {
  checkInt(pid, 'pid', 1, INT32_MAX); // one child: pidfd_open(2) watches one process
  const opts = checkOptions(options);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const done = reap(pid);
  if (done !== undefined) return done;
  const wait: { abandoned: boolean; pidfd?: SocketHandle } = { abandoned: false };
  waits.add(wait);
  try {
    const fd = native.pidfd_open(pid);
    if (fd === -ESRCH) return reap(pid) ?? (await pollWait(pid, opts, wait)); // it ended in between
    if (fd === -ENOSYS) return await pollWait(pid, opts, wait);
    if (fd < 0) throw errnoException(fd, 'pidfd_open');
    wait.pidfd = newHandle(fd);
    try {
      // A pidfd becomes readable when its process ends; reap it then (it is already a zombie).
      return await operate(fd, 'waitpid', opts, () => reap(pid), WAIT_FIRST);
    } catch (e) {
      if (wait.abandoned) return await forever<WaitStatus>();
      throw e;
    } finally {
      wait.pidfd.close();
    }
  } finally {
    waits.delete(wait);
  }
}

async function pollWait(pid: number, opts: AsyncOptions, wait: { abandoned: boolean }): Promise<WaitStatus> {
  const deadline = opts.timeout !== undefined ? Date.now() + opts.timeout : Infinity;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (wait.abandoned) return forever<WaitStatus>();
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const st = reap(pid);
    if (st !== undefined) return st;
    if (Date.now() >= deadline) throw errnoException(-ETIMEDOUT, 'waitpid');
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), undefined, { signal: opts.signal }).catch(() => undefined);
  }
}
