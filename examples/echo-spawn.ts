// The course's concurrent echo server, a process per client — with a new program instead of fork():
// the parent accepts, starts a child process and hands it the accepted socket as its descriptor 3;
// the child echoes until end of file and exits, while the parent is already waiting for the next
// client. (echo-fork-reap.ts does the same with the library's real fork(); echo-threads.ts with threads.)
//
//   node dist/examples/echo-spawn.js [PORT] [--bind ADDR] [--count N] [--no-parent-close]
//
// PORT defaults to 7009; 0 lets the kernel choose (the port is printed). --count N accepts N clients,
// waits for their children, and exits. --no-parent-close is a deliberate bug, to see the point below.
//
// Why both processes must close the socket. A descriptor is a process's reference to a kernel socket,
// and after the hand-over two processes hold one: the parent's conn_fd and the child's fd 3 (like the
// fork() child's copy in the C course). close() removes one reference; the kernel releases the
// connection — sends the FIN, frees the port pair — only when the last reference goes. So:
//   - the child closes (or exits, which closes everything) when it is done with its client;
//   - the parent closes its copy right after the hand-over. If it did not, the client would never see
//     end of file after the child exits — the connection stays open as long as the parent lives —
//     and the parent would leak one descriptor per client until accept fails with EMFILE.
//   - The C child must also close the *listening* socket, which fork() copied. Here there is nothing
//     to close: this library creates every descriptor close-on-exec, so the new program receives only
//     what spawn passes explicitly in `stdio`.
// Run with --no-parent-close and connect with `nc 127.0.0.1 7009`: type a line (it comes back), then
// Ctrl-D. The child exits, yet nc does not: the parent still holds the connection open.
//
// The other way to give a descriptor to a process is sendFds()/recvFds() over an AF_UNIX socket
// (SCM_RIGHTS): that is how a process that is already running — a pool of pre-started workers — gets
// one. spawn's `stdio` is simpler when the process is started for the client.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  AF_INET, INADDR_ANY, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, type SocketHandle, bind, close, fromFd, getsockname,
  htonl, htons, inet_pton, listen, read, setsockopt, sockaddr_in, socket, writeAll,
} from 'berkeley-sockets';
import { accept } from 'berkeley-sockets/promises';

const CHILD_FD = 3; // stdio[3] below: the first descriptor after stdin, stdout, stderr

if (process.argv[2] === '--child') {
  // ── The child: a new process, a new program; the client's socket is its descriptor 3. ──
  const conn = fromFd(CHILD_FD); // this process's reference to the connection
  console.error(`child ${process.pid} serves its client on descriptor ${CHILD_FD}`);
  const buf = Buffer.alloc(4096);
  let n: number;
  while ((n = read(conn, buf)) > 0) writeAll(conn, buf.subarray(0, n)); // echo until end of file
  close(conn); // exiting would close it too; saying so is clearer
  console.error(`child ${process.pid} exits`);
  process.exit(0);
}

// ── The parent: accept, hand over, close its copy, accept again. ──
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('--count') ?? Infinity);
const bindAddress = option('--bind');
const parentCloses = !args.includes('--no-parent-close');
if (!parentCloses) args.splice(args.indexOf('--no-parent-close'), 1);
const port = Number(args[0] ?? 7009);

const list_fd = socket(AF_INET, SOCK_STREAM, 0);
setsockopt(list_fd, SOL_SOCKET, SO_REUSEADDR, 1);
const serv_add = new sockaddr_in();
serv_add.sin_family = AF_INET;
serv_add.sin_port = htons(port);
if (bindAddress === undefined) {
  serv_add.sin_addr.s_addr = htonl(INADDR_ANY);
} else if (inet_pton(AF_INET, bindAddress, serv_add.sin_addr) !== 1) {
  console.error(`${bindAddress}: not an IPv4 address`);
  process.exit(2);
}
bind(list_fd, serv_add);
listen(list_fd, 16);
console.log(`echo server (process per client) listening on port ${getsockname(list_fd).port}`);

const leaked: SocketHandle[] = []; // --no-parent-close: the copies the parent (wrongly) keeps
const running = new Set<ChildProcess>();

async function main(): Promise<void> {
  process.on('SIGTERM', () => close(list_fd)); // ends the accept loop below

  for (let served = 0; served < count; served++) {
    // The await keeps Node's event loop turning while we wait for a client: that is where Node calls
    // waitpid() for the children that have finished (what the C server does in its SIGCHLD handler).
    // A blocking accept would leave every finished child a zombie until the next client came.
    let accepted;
    try {
      accepted = await accept(list_fd);
    } catch (e) {
      if (list_fd.closed) break; // SIGTERM
      throw e;
    }
    const { fd: conn_fd, address } = accepted;
    console.error(`connection from ${address.address}:${address.port}`);

    // Where C forks, start a new program: this same file, in child mode. The accepted socket goes in
    // stdio[3], so the child finds it as its descriptor 3 (libuv dup2()s it there, which also clears
    // close-on-exec for the child's copy only).
    const child = spawn(process.execPath, [__filename, '--child'], {
      stdio: ['ignore', 'inherit', 'inherit', conn_fd.fd],
    });
    running.add(child);
    child.on('exit', () => running.delete(child));
    child.on('error', (e) => {
      running.delete(child);
      console.error(`could not start a child: ${e.message}`);
    });

    // spawn() returns once the child has started, with its own reference: the parent's copy is no
    // longer needed. Close it (see the top of this file for what happens if you do not).
    if (parentCloses) close(conn_fd);
    else leaked.push(conn_fd);
  }

  close(list_fd);
  while (running.size > 0) await once([...running][0], 'exit'); // each child ends with its client
  for (const fd of leaked) close(fd);
  console.error('all clients served');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
