// Allocation on the hot path of the async API: --n iterations of `await write` then `await read` into
// the caller's Buffer (one byte, over a socketpair) -> V8 heap bytes per iteration. Each call returns a
// promise, so this cannot be zero; it shows what the async layer costs beyond that.
import { AF_UNIX, SOCK_STREAM, close, socketpair } from 'berkeley-sockets';
import { read, write } from 'berkeley-sockets/promises';
import { fail, measureAllocation, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
const one = Buffer.from('x');
const buf = Buffer.alloc(64);
let ok = true;
const loop = async (n) => {
  for (let i = 0; i < n; i++) {
    await write(a, one);
    if ((await read(b, buf)) !== 1 || buf[0] !== 0x78) ok = false;
  }
};
try {
  await loop(o.warmup);
  const m = await measureAllocation(() => loop(o.n));
  close(a);
  close(b);
  result({ rate: m.bytes / o.n, gcs: m.gcs, n: o.n, verified: ok });
} catch (e) {
  fail(e);
}
