// ioctl(2) on sockets, for the requests that answer an int: what the keepalive and out-of-band lessons
// ask the kernel about a connection. Only these: an ioctl's argument is whatever its request says it
// is, and a request expecting a structure would have the kernel write past the int the addon passes.
import { native } from './binding';
import { FIONREAD, SIOCATMARK, SIOCINQ, SIOCOUTQ } from './constants';
import { errnoException, invalidArgType, outOfRange } from './errors';
import { type Fd, checkFd } from './handle';

const REQUESTS = [FIONREAD, SIOCINQ, SIOCOUTQ, SIOCATMARK].filter((r): r is number => r !== undefined);
const NAMES = ['FIONREAD', SIOCINQ !== undefined ? 'SIOCINQ' : '', SIOCOUTQ !== undefined ? 'SIOCOUTQ' : '', 'SIOCATMARK'].filter(Boolean);

/**
 * ioctl(2) for the socket requests whose answer is an int, returned:
 *
 * - `FIONREAD` / `SIOCINQ` (the same request on Linux): the bytes waiting to be read — on a stream,
 *   all of them; on a datagram socket, the next datagram's (socket(7), tcp(7), udp(7)).
 * - `SIOCOUTQ` (Linux): on TCP, the bytes sent but not yet acknowledged by the peer (tcp(7)); on UDP,
 *   the bytes not yet sent (udp(7)).
 * - `SIOCATMARK`: 1 when the next byte to read is the out-of-band mark (MSG_OOB), else 0
 *   (tcp(7), sockatmark(3)).
 *
 * `ioctl(fd, FIONREAD)` is C's `int n; ioctl(fd, FIONREAD, &n)`. Any other request is a RangeError
 * (ERR_OUT_OF_RANGE) and never reaches the kernel. EBADF, ENOTTY (a request this socket's protocol does
 * not answer: SIOCATMARK on UDP), EINVAL (SIOCINQ on a listening socket) are SystemErrors.
 */
export function ioctl(fd: Fd, request: number): number {
  const n = checkFd(fd, 'ioctl');
  if (typeof request !== 'number') throw invalidArgType('request', 'of type number', request);
  if (!REQUESTS.includes(request)) throw outOfRange('request', `one of ${NAMES.join(', ')}`, request);
  const rc = native.ioctl(n, request);
  if (rc < 0) throw errnoException(rc, 'ioctl');
  return rc;
}
