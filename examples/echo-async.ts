// An event-driven echo server: one thread, thousands of clients, the event loop never blocked.
// Every call is the real system call, made when epoll says the socket is ready.
//
//   node dist/examples/echo-async.js [PORT]      (PORT 0: the kernel chooses; the port is printed)
import { AF_INET, SOCK_STREAM, bind, close, getsockname, listen, socket } from 'berkeley-sockets';
import { chunks, connections, writeAll } from 'berkeley-sockets/promises';

const port = Number(process.argv[2] ?? 7007);
const srv = socket(AF_INET, SOCK_STREAM, 0);
bind(srv, { family: AF_INET, address: '127.0.0.1', port });
listen(srv, 511);
console.log(`echo server listening on port ${getsockname(srv).port}`);

async function serve(fd: Parameters<typeof close>[0]): Promise<void> {
  try {
    for await (const chunk of chunks(fd)) await writeAll(fd, chunk); // read until EOF, echo each chunk
  } catch (e) {
    console.error(`client: ${(e as Error).message}`);
  } finally {
    close(fd);
  }
}

async function main(): Promise<void> {
  process.on('SIGTERM', () => close(srv)); // ends the accept loop below
  for await (const { fd, address } of connections(srv)) {
    console.error(`connection from ${address.address}:${address.port}`);
    void serve(fd);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
