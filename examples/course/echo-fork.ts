// The course's concurrent TCP echo server ("serveur d'écho simultané"), call for call: echo-fork.c
// beside it makes the same system calls in the same order (test/course-twins.test.ts compares their
// strace). One process per client with fork(); the child prints what its client sends until end of
// file, the parent closes its copy of the connection and goes back to accept.
//
//   npx berkeley-sockets-run dist/examples/course/echo-fork.js [PORT]     (PORT: 15000 by default)
//
// berkeley-sockets-run is `node --single-threaded`, which fork() needs (README, "fork()"). Like the
// course's program, this one never calls waitpid: each finished child stays a zombie until the server
// ends (`ps` shows them <defunct>); ../echo-fork-reap.ts reaps them, with the async API.
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, type SocketHandle, accept, bind, close, fork, htons, listen, read,
  sockaddr_in, socket, strerror,
} from 'berkeley-sockets';

const BUF_SIZE = 1024;

/** The connection handler, run in the child after fork(): prints everything the client sends. */
function echo_client(sd: SocketHandle): number {
  let result = 0;
  const buf = Buffer.alloc(BUF_SIZE + 1);
  let n_read: number;
  try {
    while (0 < (n_read = read(sd, buf, BUF_SIZE))) {
      process.stdout.write(`${buf.toString('utf8', 0, n_read)}\n`); // printf("%s\n", buf)
    }
    console.error('The other side orderly shut down the connection.');
  } catch (e) {
    console.error(`read() failed: ${strerror((e as NodeJS.ErrnoException).errno!)}`);
    result = -1;
  }
  return result;
}

// Create a listening socket. A failed call throws: uncaught, Node prints it and exits with 1, as the
// C program's perror() and `return EXIT_FAILURE`.
const listening_socket = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

// Bind it to port 15000 (or PORT), on every address (sin_addr is 0: INADDR_ANY).
const listening_port = process.argv[2] !== undefined ? Number(process.argv[2]) : 15000;
const addr = new sockaddr_in(); // zeroed, as `struct sockaddr_in addr = {0}`
addr.sin_family = AF_INET;
addr.sin_port = htons(listening_port);
bind(listening_socket, addr);

// Start listening (a backlog of 0: the kernel still queues a connection or so).
listen(listening_socket, 0);

// Accept new connections, fork a new process for each and handle the connection there, while the
// parent waits for the next one. accept(s, addr) fills addr as C's `(struct sockaddr *)&addr, &sock_len`.
for (;;) {
  const { fd: accepted_socket } = accept(listening_socket, addr);
  const pid_child = fork();
  if (pid_child === 0) {
    // Inside the forked child.
    close(listening_socket); // the child does not need it
    echo_client(accepted_socket);
    process.exit(0); // return EXIT_SUCCESS
  }
  // Inside the parent: descriptors are reference counted, so the parent closes its copy of the
  // client's socket (the client sees end of file when the child's copy, the last one, goes).
  close(accepted_socket);
}
