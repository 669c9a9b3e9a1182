// The reactor's watchers by descriptor number. Every asynchronous call and every reported descriptor
// looks its watcher up: in an array indexed by the number, the lookup is a bounds check and a load,
// where a Map hashes (about 300 instructions per round trip of an echo loop of 100 connections under
// callgrind). Numbers past DENSE_LIMIT go to a Map, so that one descriptor numbered in the millions
// (dup2 to a high number, a raised RLIMIT_NOFILE) does not grow the array to millions of slots.
const DENSE_LIMIT = 1 << 16;

export class FdTable<T> {
  /** Slots 0 … length - 1, undefined where no watcher is: always filled, never holey. */
  private readonly dense: (T | undefined)[] = [];
  private readonly sparse = new Map<number, T>();

  /** `limit`: the first number kept in the Map (a test's small one shows both sides). */
  constructor(private readonly limit = DENSE_LIMIT) {}

  get(fd: number): T | undefined {
    if (fd < this.limit) return fd < this.dense.length ? this.dense[fd] : undefined;
    return this.sparse.get(fd);
  }

  set(fd: number, value: T): void {
    if (fd >= this.limit) {
      this.sparse.set(fd, value);
      return;
    }
    while (this.dense.length <= fd) this.dense.push(undefined);
    this.dense[fd] = value;
  }

  delete(fd: number): void {
    if (fd >= this.limit) this.sparse.delete(fd);
    else if (fd < this.dense.length) this.dense[fd] = undefined;
  }

  /** Every value, the dense ones first. */
  *values(): IterableIterator<T> {
    for (const v of this.dense) if (v !== undefined) yield v;
    yield* this.sparse.values();
  }
}
