// The course's keepalive example, call for call (keepalive.c beside it makes the same system calls in
// the same order; test/course-twins.test.ts compares their strace). The process forks: the child is a
// client that connects and waits for the server to go away; the parent is the server: it accepts that
// client, turns TCP keepalive on with short timers and waits for a signal.
//
//   npx berkeley-sockets-run dist/examples/course/keepalive.js 127.0.0.1 [PORT]    (PORT: 12345)
//   sudo tcpdump -n -i lo port 12345     # in another terminal: a probe and its answer every second
//
// Ctrl-C ends the server; the client then reads end of file and ends too.
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_REUSEADDR, TCP_KEEPCNT, TCP_KEEPIDLE,
  TCP_KEEPINTVL, type SocketHandle, accept, bind, connect, fork, htons, inet_pton, listen, read,
  setsockopt, sockaddr_in, socket, strerror,
} from 'berkeley-sockets';

/**
 * The course's check(expr): on failure, print why (perror) and end every process of the group
 * (kill(0, SIGTERM)). Here a failed call throws, so check runs the call and catches.
 */
function check<T>(expr: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    console.error(`${expr}: ${errno !== undefined ? strerror(errno) : (e as Error).message}`);
    process.kill(0, 'SIGTERM');
    throw e;
  }
}

// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT are Linux's (tcp(7)): their type says they may be
// undefined elsewhere, hence the `!`.
function enable_keepalive(sock: SocketHandle): void {
  const yes = 1;
  check('setsockopt(SO_KEEPALIVE)', () => setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, yes));
  const idle = 1; // seconds of silence before the first probe
  check('setsockopt(TCP_KEEPIDLE)', () => setsockopt(sock, IPPROTO_TCP, TCP_KEEPIDLE!, idle));
  const interval = 1; // seconds between probes
  check('setsockopt(TCP_KEEPINTVL)', () => setsockopt(sock, IPPROTO_TCP, TCP_KEEPINTVL!, interval));
  const maxpkt = 10; // probes unanswered before the connection is dropped
  check('setsockopt(TCP_KEEPCNT)', () => setsockopt(sock, IPPROTO_TCP, TCP_KEEPCNT!, maxpkt));
}

const argv = process.argv.slice(1); // argv[0] is the script, as in C
check('argc == 2', () => {
  if (argv.length !== 2 && argv.length !== 3) throw new Error('usage: keepalive ADDRESS [PORT]');
});

const addr = new sockaddr_in(); // zeroed
addr.sin_family = AF_INET;
addr.sin_port = htons(argv.length === 3 ? Number(argv[2]) : 12345);
check('inet_pton(AF_INET, argv[1], &addr.sin_addr) == 1', () => {
  if (inet_pton(AF_INET, argv[1], addr.sin_addr) !== 1) throw new Error(`${argv[1]}: not an IPv4 address`);
});

const server = check('socket', () => socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
const yes = 1;
check('setsockopt(SO_REUSEADDR)', () => setsockopt(server, SOL_SOCKET, SO_REUSEADDR, yes));
check('bind', () => bind(server, addr));
check('listen', () => listen(server, 1));

if (fork() === 0) {
  const client = check('socket', () => socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
  check('connect', () => connect(client, addr));
  read(client, Buffer.alloc(1), 1); // 0 (end of file) when the server's socket is closed
  process.exit(0); // return 0
} else {
  const { fd: client } = check('accept', () => accept(server, null)); // accept(server, NULL, NULL)
  enable_keepalive(client);
  // pause(): until a signal ends the process. Node waits in its event loop; a timer keeps it there.
  setInterval(() => {}, 2 ** 31 - 1);
}
