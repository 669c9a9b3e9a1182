// Between this library and Node's own sockets: apply any option to a socket Node created, or hand a
// socket configured here (before connect or listen) to net/http as an ordinary Node socket.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { invalidArgType, invalidArgValue } from './errors';
import { type Fd, SocketHandle, checkFd } from './handle';

type NodeSocketish = net.Socket | net.Server | dgram.Socket;

/**
 * The descriptor number behind a Node `net.Socket`, `net.Server` or `dgram.Socket`, so setsockopt,
 * getsockopt, setKeepAlive, getsockname… apply to it (what `net-keepalive` and `sockopt` exist for).
 * Node keeps owning it: do not close it here. The socket must be open (connected, listening or bound).
 */
export function fdOf(socket: NodeSocketish): number {
  if (!(socket instanceof net.Socket) && !(socket instanceof net.Server) && !(socket instanceof dgram.Socket)) {
    throw invalidArgType('socket', 'an instance of net.Socket, net.Server or dgram.Socket', socket);
  }
  // net keeps its libuv handle in _handle; dgram keeps it in its state (also reachable as _handle).
  let handle = (socket as unknown as { _handle?: { fd?: number } | null })._handle;
  if (handle == null && socket instanceof dgram.Socket) {
    for (const sym of Object.getOwnPropertySymbols(socket)) {
      const state = (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym];
      if (state && typeof state === 'object' && state.handle) handle = state.handle;
    }
  }
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw invalidArgValue('socket', socket.constructor.name, 'has no descriptor yet (connect, listen or bind it first)');
  }
  return fd;
}

function take(fd: Fd, what: string): number {
  if (fd instanceof SocketHandle) {
    checkFd(fd, what);
    return fd.release();
  }
  return checkFd(fd, what);
}

/**
 * A `net.Socket` over this descriptor, which it now owns (the handle is released). Use it for a socket
 * configured here — SO_RCVBUF, SO_BINDTODEVICE, keepalive, bound to a chosen port — then either
 * already connected, or to be connected with `sock.connect(port, host)`.
 */
export function toNetSocket(fd: Fd, options: Omit<net.SocketConstructorOpts, 'fd'> = {}): net.Socket {
  return new net.Socket({ ...options, fd: take(fd, 'toNetSocket') });
}

/**
 * A listening `net.Server` over this descriptor (bound, and listening or about to be), which it now
 * owns: e.g. a socket with SO_REUSEPORT set here, served by `http.createServer` or `net.createServer`.
 * Pass your own `server` (an http.Server is a net.Server) or get a plain one.
 */
export function toNetServer<S extends net.Server = net.Server>(fd: Fd, server?: S): S {
  const srv = (server ?? net.createServer()) as S;
  srv.listen({ fd: take(fd, 'toNetServer') });
  return srv;
}
