// The course's ready-to-use server (serveur.c in the lab kit), for students to extend:
//
//   node dist/examples/serveur.js PORT tcp|udp [--bind ADDR] [--count N]
//
// Everything before the dialogue is written: the socket, bind to PORT on every address of the machine
// (INADDR_ANY; --bind ADDR for just one), listen and the accept loop (TCP) or the recvfrom loop (UDP).
// The service is yours: the two functions marked "TO EXTEND" below. As delivered, both echo what they
// receive, so client.ts works with it at once, and so do `nc 127.0.0.1 2200` and `nc -u 127.0.0.1 2200`.
// The server is iterative: one TCP client at a time (the next ones wait in listen's queue), one
// datagram at a time. --count N serves N clients (TCP) or N datagrams (UDP), then exits; PORT 0 lets
// the kernel choose (the port is printed).
//
// Debugging: BSOCK_TRACE=1 prints every system call, as strace would (the kit's -DDEBUG).
import {
  AF_INET, INADDR_ANY, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, type SocketHandle, SystemError, accept,
  bind, close, getsockname, htonl, htons, inet_pton, listen, read, recvfrom, sendto, setsockopt, sockaddr_in,
  socket, strerror, writeAll,
} from 'berkeley-sockets';

const BUFSIZE = 1024;
const BACKLOG = 5; // connections the kernel completes and keeps waiting while we serve another one

// ─── TO EXTEND (TCP): serve one connected client ────────────────────────────────────────────────────
// `conn` is the socket accept() returned for this client (the listening socket stays in the caller).
// Replace the body with your protocol; the caller closes `conn` afterwards. As delivered: echo every
// byte back until the client shuts down its side (read returns 0).
function service_tcp(conn: SocketHandle): void {
  const buf = Buffer.alloc(BUFSIZE);
  let n: number;
  while ((n = read(conn, buf, BUFSIZE)) > 0) {
    console.error(`received ${n} byte(s)`);
    writeAll(conn, buf.subarray(0, n)); // write() may take only part: writeAll loops until all is sent
  }
}

// ─── TO EXTEND (UDP): answer one datagram ───────────────────────────────────────────────────────────
// Replace the body with your protocol. As delivered: send the datagram back to whoever sent it.
function service_udp(sock: SocketHandle<typeof AF_INET>): void {
  const buf = Buffer.alloc(BUFSIZE);
  const { n, address: client } = recvfrom(sock, buf, BUFSIZE, 0); // blocks until a datagram arrives
  console.error(`datagram of ${n} byte(s) from ${client!.address}:${client!.port}`);
  sendto(sock, buf, n, 0, client!); // back where it came from: recvfrom told us the address
}

// ─── Written for you: the socket, its address, the loop ─────────────────────────────────────────────
function serveur_appli(service: string, protocole: 'tcp' | 'udp', bindAddress: string | undefined, count: number): void {
  const type = protocole === 'tcp' ? SOCK_STREAM : SOCK_DGRAM;
  const sock = socket(AF_INET, type, 0);

  // Restart the server at once after stopping it: without SO_REUSEADDR, bind fails with EADDRINUSE
  // while the last connections linger in TIME_WAIT (up to a minute after close).
  if (protocole === 'tcp') setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, 1);

  const adr = new sockaddr_in(); // zeroed, like memset(&adr, 0, sizeof adr)
  adr.sin_family = AF_INET;
  adr.sin_port = htons(Number(service)); // network byte order
  if (bindAddress === undefined) adr.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, bindAddress, adr.sin_addr) !== 1) throw new Error(`${bindAddress}: not an IPv4 address`);
  bind(sock, adr);
  console.log(`serveur: listening on port ${getsockname(sock).port} (${protocole})`);

  if (protocole === 'tcp') {
    listen(sock, BACKLOG);
    for (let served = 0; served < count; served++) {
      const { fd: conn, address: client } = accept(sock); // a NEW socket for this client
      console.error(`client ${client.address}:${client.port} connected`);
      try {
        service_tcp(conn);
      } catch (e) {
        // One client's failure (ECONNRESET…) must not stop the server: report it, serve the next one.
        if (!(e instanceof SystemError)) throw e;
        perror(e);
      } finally {
        close(conn);
      }
      console.error(`client ${client.address}:${client.port} done`);
    }
  } else {
    for (let served = 0; served < count; served++) service_udp(sock);
  }
  close(sock);
}

/** perror(3): "bind: Address already in use". A SystemError carries the errno C would have left. */
function perror(e: SystemError): void {
  console.error(`${e.syscall}: ${strerror(e.errno)} (${e.message})`);
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('--count') ?? Infinity);
const bindAddress = option('--bind');
const [service, protocole = 'tcp'] = args;
if (service === undefined || !/^\d+$/.test(service) || (protocole !== 'tcp' && protocole !== 'udp')) {
  console.error('usage: serveur PORT tcp|udp [--bind ADDR] [--count N]');
  process.exit(2);
}
try {
  serveur_appli(service, protocole, bindAddress, count);
} catch (e) {
  if (!(e instanceof SystemError)) throw e;
  perror(e);
  process.exit(1);
}
