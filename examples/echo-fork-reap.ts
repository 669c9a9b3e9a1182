// A variant of the course's concurrent echo server (course/echo-fork.ts is the course's own, call for
// call): a real fork() per client, whose child — a copy of the parent, holding a copy of each of its
// descriptors — echoes until end of file and exits, while the parent is already back in accept. What it
// adds: the parent accepts through the async API so that its event loop turns, and reaps each child
// with waitpid as it ends (the course's program leaves them zombies); SO_REUSEADDR, --bind and --count
// for the labs. (echo-spawn.ts starts a new program for each client instead; echo-threads.ts uses a
// thread.)
//
//   npx berkeley-sockets-run dist/examples/echo-fork-reap.js [PORT] [--bind ADDR] [--count N]
//
// berkeley-sockets-run is `node --single-threaded`: fork() needs V8 to keep its garbage collector and
// compilers off background threads, which the child would not have (README, "fork()"). PORT defaults
// to 7010, 0 lets the kernel choose (it is printed); --count N serves N clients, waits for their
// children and exits. Try it with `nc 127.0.0.1 7010` in two terminals at once.
//
// Why both processes must close. A descriptor is a process's reference to a kernel socket; fork()
// copies every descriptor, so after it the parent and the child each hold the listening socket and
// the client's connection. close() drops one reference; the kernel releases a socket — sends the FIN,
// frees the port — only when the last one goes.
//   - The child closes the listening socket: it will never accept on it. Kept, it would keep the port
//     bound for as long as any child lives: a restarted server would get EADDRINUSE, and clients
//     would be queued in a backlog nobody accepts from once the parent is gone.
//   - The parent closes the connection: it is the child's to serve. Kept, the client would never see
//     end of file after the child is done (the child's close drops one reference of two), and the
//     parent would leak a descriptor per client until accept fails with EMFILE.
// Close-on-exec (set on every descriptor this library creates) plays no part: it acts at exec(2), and
// fork() copies all descriptors, close-on-exec or not.
import {
  AF_INET, INADDR_ANY, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, type SocketHandle, bind, close, fork, getsockname,
  htonl, htons, inet_pton, listen, read, setsockopt, sockaddr_in, socket, writeAll,
} from 'berkeley-sockets';
import { accept, waitpid } from 'berkeley-sockets/promises';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('--count') ?? Infinity);
const bindAddress = option('--bind');
const port = Number(args[0] ?? 7010);

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
console.log(`echo server (fork) listening on port ${getsockname(list_fd).port}`);

/** The child's work: echo what the client sends until it shuts down its side (read returns 0). */
function echo(conn_fd: SocketHandle): void {
  const buf = Buffer.alloc(4096);
  let n: number;
  while ((n = read(conn_fd, buf)) > 0) writeAll(conn_fd, buf.subarray(0, n));
}

async function main(): Promise<void> {
  process.on('SIGTERM', () => close(list_fd)); // ends the accept loop below
  const children: Promise<void>[] = [];

  for (let served = 0; served < count; served++) {
    // await: the event loop turns while the parent waits for a client, so children that have
    // finished are reaped at once (below) instead of waiting as zombies for the next client.
    let accepted;
    try {
      accepted = await accept(list_fd);
    } catch (e) {
      if (list_fd.closed) break; // SIGTERM
      throw e;
    }
    const { fd: conn_fd, address } = accepted;

    const pid = fork();
    if (pid === 0) {
      // ── The child: serves this one client, then exits. ──
      process.removeAllListeners('SIGTERM'); // handlers are copied too: let SIGTERM end the child
      close(list_fd); // not ours to accept on (see the top of the file)
      console.error(`child ${process.pid} serves ${address.address}:${address.port}`);
      echo(conn_fd); // blocking calls: this process has nothing else to do
      close(conn_fd); // the last reference: the client now sees end of file
      process.exit(0);
    }

    // ── The parent: its copy of the connection is not needed; back to accept. ──
    close(conn_fd);
    // Reap the child when it ends (the C server's SIGCHLD handler with waitpid): until then it stays
    // a zombie in the process table. waitpid from berkeley-sockets/promises does not block the loop.
    children.push(waitpid(pid).then((st) => console.error(`child ${st.pid} exited with ${st.code ?? st.signalName}`)));
  }

  close(list_fd);
  await Promise.all(children);
  console.error('all clients served');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
