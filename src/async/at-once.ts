// When the async API makes a call at once and when it waits for epoll first (src/async/reactor.ts's
// operate(), and the read paths of src/promises.ts that make their first call themselves): the
// per-socket memory of reads that would have blocked, and the per-turn budget of reads made at once.

/** What a watcher remembers of its reads (src/async/reactor.ts's Watch has these fields). */
export interface ReadState {
  /**
   * A read-type call returned EAGAIN, and none has found data at once since: such a socket is read in
   * request/response turns (each read asked for before its data comes), so the next read waits for
   * epoll instead of first making a syscall that would fail (as net never does), except a probe that
   * tries at once in case the peer now streams: every 8th read, every 16th after a probe that failed,
   * and so on to every 64th. A read or recv the watcher made that filled its whole window (more may be
   * there; not a readExactly's, whose window is what the caller waits for) ends it too. Only when the call is made changes, never its result: epoll is level-triggered, so
   * data already there is reported at once.
   */
  readBlocked: boolean;
  /** Reads deferred to epoll so far: every (probeMask + 1)th is a probe. */
  readDeferred: number;
  probeMask: number;
  /**
   * The same for accept, kept apart: a listening socket is readable only when a connection is pending,
   * so accept's EAGAIN says nothing of read(2), which the kernel refuses there at once (ENOTCONN).
   */
  acceptBlocked: boolean;
}

/**
 * A reader whose call succeeds exactly when epoll reports readability, and which may therefore wait
 * for it without trying first (ReadState.readBlocked): true for the read family (read, recv, recvfrom
 * with no flags), 'accept' for accept; false for every other call.
 */
export type Readiness = boolean | 'accept';

/** Probes of a socket read in turns: every 8th deferred read, then every 16th… at most every 64th. */
export const PROBE_FIRST = 7;
const PROBE_LAST = 63;

/**
 * How many reads may be made at once, without waiting for epoll, between two of the reactor's turns.
 * A read that succeeds at once resolves its promise at once, and the caller's next call then runs in
 * the same microtask checkpoint: with data always there (a busy server, a fast peer), a chain of such
 * reads would never give the event loop back, and timers and every other socket would starve (it
 * did: an echo server of 1,000 connections went 170–370 ms without a loop turn). Past the budget, a
 * read waits for epoll instead, which reports it at once in the next turn (readability is exactly
 * "a read would succeed": the `readiness` calls of operate()), where the reactor refills the budget.
 * libuv bounds a stream the same way (at most 32 reads per readiness). Writes are not bounded: a
 * socket may take a write while epoll does not yet call it writable (AF_UNIX wants three quarters of
 * its buffer free), and a chain of writes ends by itself when the buffer fills.
 */
const IMMEDIATE_BUDGET = 256;
let immediateBudget = IMMEDIATE_BUDGET;

/** A new turn of the reactor: the full budget again. */
export function refillBudget(): void {
  immediateBudget = IMMEDIATE_BUDGET;
}

/** Takes one read from the budget of reads made at once; false when it is spent for this turn. */
function spendImmediate(): boolean {
  return --immediateBudget >= 0;
}

/**
 * Whether a call may be made at once: nothing queued before it, and for a readiness read, neither
 * deferred to epoll (ReadState.readBlocked) nor past this turn's budget.
 */
export function atOnce(watch: ReadState, queue: readonly unknown[], readiness: Readiness): boolean {
  if (queue.length !== 0) return false;
  if (readiness === false) return true;
  if (readiness === 'accept') return watch.acceptBlocked ? (++watch.readDeferred & PROBE_FIRST) === 0 : spendImmediate();
  return watch.readBlocked ? (++watch.readDeferred & watch.probeMask) === 0 : spendImmediate();
}

/** A read found data or end of file (false), or would have blocked (true). */
export function triedRead(watch: ReadState, blocked: boolean): void {
  if (!blocked) watch.probeMask = PROBE_FIRST;
  else if (watch.readBlocked) watch.probeMask = Math.min(watch.probeMask * 2 + 1, PROBE_LAST); // blocked again
  watch.readBlocked = blocked;
}

/** Records whether a readiness call of this kind would have blocked. */
export function markBlocked(watch: ReadState, readiness: Readiness, blocked: boolean): void {
  if (readiness === 'accept') watch.acceptBlocked = blocked;
  else if (readiness) triedRead(watch, blocked);
}
