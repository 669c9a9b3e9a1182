// Per-call overhead with this library: getsockopt(SOL_SOCKET, SO_TYPE) in a loop -> ns per call. The
// difference from c.c is what the N-API crossing and the TypeScript layer cost.
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_TYPE, close, getsockopt, socket } from 'berkeley-sockets';
import { now, parseArgs, result } from '../common.mjs';

const o = parseArgs();
const fd = socket(AF_INET, SOCK_STREAM, 0);
let ok = true;
for (let i = 0; i < o.warmup; i++) getsockopt(fd, SOL_SOCKET, SO_TYPE);
const start = now();
for (let i = 0; i < o.n; i++) if (getsockopt(fd, SOL_SOCKET, SO_TYPE) !== SOCK_STREAM) ok = false;
const ms = now() - start;
close(fd);
result({ rate: (ms * 1e6) / o.n, n: o.n, verified: ok });
