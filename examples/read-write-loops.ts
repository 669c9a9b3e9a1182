// Blocking reads and writes that handle partial transfers: the course's write_to_socket and
// read_from_socket, written out by hand, and the library's writeAll / readExactly that do the same.
//
//   node dist/examples/read-write-loops.js server [PORT] [--bind ADDR] [--count N] [--lib]
//   node dist/examples/read-write-loops.js client HOST PORT [SIZE...] [--lib]
//
// Why loops: even on a blocking socket, read(fd, buf, 1000) returns as soon as *some* bytes are there
// — the 1000 bytes the peer wrote in one call may arrive in several pieces (TCP is a stream of bytes,
// not of messages; the pieces depend on segment sizes, buffers, timing). And write(fd, buf, n) may
// take fewer than n bytes: when a signal interrupts it after part was copied, when SO_SNDTIMEO
// expires, or always on a non-blocking socket. A program that needs exactly n bytes calls again, from
// where the last call stopped, until it has them.
//
// The protocol makes that visible: every message is its length (4 bytes, network byte order) then
// its bytes, and the server sends each message back. The client sends messages of SIZE bytes (default
// 1000000), checks the echo byte for byte, and both sides print how many read() and write() calls a
// message took. --lib uses writeAll/readExactly instead of the hand-written loops (no counts then).
// --count N makes the server serve N clients and exit; PORT 0 lets the kernel choose.
import {
  AF_INET, INADDR_ANY, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, type Fd, SystemError, accept, bind, close, connect,
  getsockname, htonl, htons, inet_pton, listen, read, readExactly, setsockopt, sockaddr_in, socket, write,
  writeAll,
} from 'berkeley-sockets';

const calls = { read: 0, write: 0 }; // system calls made by the hand-written loops

/**
 * The course's write_to_socket: writes all `size` bytes of `buffer`, calling write(2) again after
 * each partial write. Returns true on success, false on failure.
 */
function write_to_socket(sock: Fd, buffer: Uint8Array, size: number): boolean {
  let total_bytes = 0;
  while (total_bytes < size) {
    let bytes_written: number;
    try {
      // C: write(sock, buffer + total_bytes, size - total_bytes). C's pointer arithmetic is a
      // subarray here: a view of the same memory, from that byte on (nothing is copied).
      bytes_written = write(sock, buffer.subarray(total_bytes), size - total_bytes);
    } catch (e) {
      // The C version retries when errno == EINTR; the library already does (as Python does since
      // PEP 475), so an error that gets here is real: EPIPE, ECONNRESET…
      console.error(`write_to_socket: ${(e as Error).message}`);
      return false;
    }
    calls.write++;
    total_bytes += bytes_written;
  }
  return true;
}

/**
 * The course's read_from_socket: reads exactly `size` bytes into `buffer`, calling read(2) until they
 * have all arrived. Returns true on success; false if the peer closed (end of file) before `size`
 * bytes came, or on an error.
 */
function read_from_socket(sock: Fd, buffer: Uint8Array, size: number): boolean {
  let total_bytes = 0;
  while (total_bytes < size) {
    let new_bytes: number;
    try {
      new_bytes = read(sock, buffer.subarray(total_bytes), size - total_bytes); // C: read(sock, buffer + total_bytes, …)
    } catch (e) {
      console.error(`read_from_socket: ${(e as Error).message}`);
      return false;
    }
    calls.read++;
    if (new_bytes === 0) return false; // end of file before the message was complete
    total_bytes += new_bytes;
  }
  return true;
}

// The same two loops, from the library. writeAll throws instead of returning false (its error says
// how many bytes did go out); readExactly returns fewer bytes than asked only at end of file.
function write_all_lib(sock: Fd, buffer: Uint8Array, size: number): boolean {
  writeAll(sock, buffer.subarray(0, size));
  return true;
}
function read_exactly_lib(sock: Fd, buffer: Uint8Array, size: number): boolean {
  return readExactly(sock, buffer, size) === size;
}

const args = process.argv.slice(2);
const lib = args.includes('--lib');
if (lib) args.splice(args.indexOf('--lib'), 1);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const sendAll = lib ? write_all_lib : write_to_socket;
const recvAll = lib ? read_exactly_lib : read_from_socket;
const how = lib ? 'writeAll/readExactly' : 'write_to_socket/read_from_socket';
const MAX_MESSAGE = 64 * 1024 * 1024; // refuse absurd lengths rather than allocate them

/** The 4-byte header: the length in network byte order (big-endian), C's htonl(size). */
function header(size: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(size); // C: uint32_t h = htonl(size); write_to_socket(sock, &h, 4)
  return h;
}

function server(): void {
  const count = Number(option('--count') ?? Infinity);
  const bindAddress = option('--bind');
  const port = Number(args[1] ?? 3402);

  const list_fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(list_fd, SOL_SOCKET, SO_REUSEADDR, 1);
  const serv_add = new sockaddr_in();
  serv_add.sin_family = AF_INET;
  serv_add.sin_port = htons(port);
  if (bindAddress === undefined) serv_add.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, bindAddress, serv_add.sin_addr) !== 1) throw new Error(`${bindAddress}: not an IPv4 address`);
  bind(list_fd, serv_add);
  listen(list_fd, 5);
  console.log(`read-write-loops server (${how}) listening on port ${getsockname(list_fd).port}`);

  for (let served = 0; served < count; served++) {
    const { fd: conn_fd, address } = accept(list_fd);
    console.error(`client ${address.address}:${address.port}`);
    const h = Buffer.alloc(4);
    for (let k = 1; ; k++) {
      calls.read = calls.write = 0;
      if (!recvAll(conn_fd, h, 4)) break; // end of file: the client has no more messages
      const size = h.readUInt32BE(0); // C: ntohl(*(uint32_t *)h)
      if (size > MAX_MESSAGE) {
        console.error(`message ${k}: ${size} bytes is too long, closing`);
        break;
      }
      const body = Buffer.alloc(size);
      if (!recvAll(conn_fd, body, size)) {
        console.error(`message ${k}: the client left in the middle`);
        break;
      }
      const reads = calls.read;
      if (!sendAll(conn_fd, header(size), 4) || !sendAll(conn_fd, body, size)) break;
      console.error(`message ${k}: ${size} bytes (+ the 4-byte header)` + (lib ? '' : ` in ${reads} read() calls, sent back in ${calls.write} write() calls`));
    }
    close(conn_fd);
  }
  close(list_fd);
}

function client(): void {
  const [, host, portArg, ...sizes] = args;
  if (host === undefined || portArg === undefined) {
    console.error('usage: read-write-loops client HOST PORT [SIZE...] [--lib]');
    process.exit(2);
  }
  const sock_fd = socket(AF_INET, SOCK_STREAM, 0);
  const serv_add = new sockaddr_in();
  serv_add.sin_family = AF_INET;
  serv_add.sin_port = htons(Number(portArg));
  if (inet_pton(AF_INET, host, serv_add.sin_addr) !== 1) {
    console.error(`${host}: not an IPv4 address`);
    process.exit(2);
  }
  connect(sock_fd, serv_add);

  let ok = true;
  for (const size of (sizes.length > 0 ? sizes : ['1000000']).map(Number)) {
    const message = Buffer.alloc(size);
    for (let i = 0; i < size; i++) message[i] = (i * 7 + 3) & 0xff; // a pattern a lost byte would break
    calls.read = calls.write = 0;
    // The whole message goes out before the echo is read: the server reads it all before answering.
    if (!sendAll(sock_fd, header(size), 4) || !sendAll(sock_fd, message, size)) process.exit(1);
    const writes = calls.write;
    const h = Buffer.alloc(4);
    const echo = Buffer.alloc(size);
    if (!recvAll(sock_fd, h, 4) || h.readUInt32BE(0) !== size || !recvAll(sock_fd, echo, size)) {
      console.error(`message of ${size} bytes: the echo is missing or short`);
      process.exit(1);
    }
    const same = echo.equals(message);
    ok &&= same;
    console.log(`${size} bytes (+ the 4-byte header) sent` + (lib ? ` with ${how}` : ` in ${writes} write() calls, echo received in ${calls.read} read() calls`) +
      `: ${same ? 'identical' : 'DIFFERENT'}`);
  }
  close(sock_fd);
  process.exit(ok ? 0 : 1);
}

try {
  if (args[0] === 'server') server();
  else if (args[0] === 'client') client();
  else {
    console.error('usage: read-write-loops server [PORT] … | read-write-loops client HOST PORT [SIZE...] [--lib]');
    process.exit(2);
  }
} catch (e) {
  if (!(e instanceof SystemError)) throw e;
  console.error(e.message);
  process.exit(1);
}
