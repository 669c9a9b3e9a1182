// Per-call overhead with this library: getsockopt(SOL_SOCKET, SO_TYPE) in a loop -> ns per call. The
// difference from c.c is what the N-API crossing and the TypeScript layer cost.
//
// The loop is in a function, as c.c's is in main(): a loop at a module's top level runs in the module
// body, whose variables live in a context object, and costs ~150 ns more per call here for that alone.
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_TYPE, close, getsockopt, socket } from 'berkeley-sockets';
import { now, parseArgs, result } from '../common.mjs';

/** Calls getsockopt n times; false if any answer was not SOCK_STREAM. */
function calls(fd, n) {
  let ok = true;
  for (let i = 0; i < n; i++) if (getsockopt(fd, SOL_SOCKET, SO_TYPE) !== SOCK_STREAM) ok = false;
  return ok;
}

const o = parseArgs();
const fd = socket(AF_INET, SOCK_STREAM, 0);
calls(fd, o.warmup);
const start = now();
const ok = calls(fd, o.n);
const ms = now() - start;
close(fd);
result({ rate: (ms * 1e6) / o.n, n: o.n, verified: ok });
