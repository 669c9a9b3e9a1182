// Allocation on the hot path: --n iterations of write(2) then read(2) into the caller's Buffer (one
// byte, over a socketpair) -> V8 heap bytes allocated per iteration. The C equivalent allocates
// nothing by construction, so there is no c.c here.
import { AF_UNIX, SOCK_STREAM, close, read, socketpair, write } from 'berkeley-sockets';
import { measureAllocation, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
const one = Buffer.from('x');
const buf = Buffer.alloc(64);
let ok = true;
const loop = (n) => {
  for (let i = 0; i < n; i++) {
    write(a, one);
    if (read(b, buf) !== 1 || buf[0] !== 0x78) ok = false;
  }
};
loop(o.warmup); // optimised before measuring
const m = await measureAllocation(() => loop(o.n));
close(a);
close(b);
result({ rate: m.bytes / o.n, gcs: m.gcs, n: o.n, verified: ok });
