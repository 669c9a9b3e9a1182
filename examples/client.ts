// The course's ready-to-use client (client.c in the lab kit), for students to extend:
//
//   node dist/examples/client.js HOST PORT tcp|udp
//
// HOST is a name (/etc/hosts, DNS) or a dotted address, PORT a number or a service name from
// /etc/services, as the kit's adr_socket() accepts. Everything before the dialogue is written: the
// arguments, the address lookup, the socket, the connection (TCP). The dialogue is yours: the two
// functions marked "TO EXTEND" below. As delivered they speak the echo protocol of serveur.ts — each
// line you type is sent, and the answer is printed — so client and serveur work together at once:
//
//   node dist/examples/serveur.js 2200 tcp        and in another terminal
//   node dist/examples/client.js 127.0.0.1 2200 tcp
//
// Debugging: BSOCK_TRACE=1 prints every system call the program makes, as strace would (the kit's
// -DDEBUG). To test your client without your server, talk to it from `nc -l 2200` (TCP) or
// `nc -u -l 2200` (UDP), or from socklab.
import {
  AF_INET, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, type SocketHandle, SystemError, close, connect,
  gai_strerror, getaddrinfo, type InetAddress, read, readExactly, recvfrom, sendto, setsockopt, shutdown, socket,
  strerror, writeAll,
} from 'berkeley-sockets';

const STDIN = 0; // the keyboard and the screen are descriptors too (0 and 1), read and written as sockets are
const STDOUT = 1;
const BUFSIZE = 1024;

// ─── TO EXTEND (TCP): the dialogue over a connected socket ──────────────────────────────────────────
// `sock` is connected to the server. Replace the body with your protocol. As delivered: send what is
// typed, read back as many bytes as were sent (the echo), print them; at end of input (Ctrl-D) say
// so with shutdown, and print whatever the server still sends until it closes.
function dialogue_tcp(sock: SocketHandle): void {
  const line = Buffer.alloc(BUFSIZE);
  const answer = Buffer.alloc(BUFSIZE);
  let n: number;
  while ((n = read(STDIN, line, BUFSIZE)) > 0) { // one line typed (or one chunk of a piped file)
    writeAll(sock, line.subarray(0, n)); // write() may take only part of it: writeAll loops
    // TCP is a byte stream, not messages: the n bytes of the echo may arrive in several pieces, so
    // one read() is not enough. readExactly loops until all n are there (or the server closes).
    const got = readExactly(sock, answer, n);
    writeAll(STDOUT, answer.subarray(0, got));
    if (got < n) {
      console.error('the server closed the connection');
      return;
    }
  }
  shutdown(sock, SHUT_WR); // "I have nothing more to send": the server reads end of file (read = 0)
  while ((n = read(sock, answer)) > 0) writeAll(STDOUT, answer.subarray(0, n)); // until it closes
}

// ─── TO EXTEND (UDP): the dialogue in datagrams ─────────────────────────────────────────────────────
// `sock` is not connected: every sendto names `server`, every recvfrom says who sent. Replace the body
// with your protocol. As delivered: one datagram per line typed, and the answer printed. A datagram
// may be lost without any error, so each recvfrom waits at most 2 s (SO_RCVTIMEO).
function dialogue_udp(sock: SocketHandle<typeof AF_INET>, server: InetAddress): void {
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 2, tv_usec: 0 });
  const line = Buffer.alloc(BUFSIZE);
  const answer = Buffer.alloc(BUFSIZE);
  let n: number;
  while ((n = read(STDIN, line, BUFSIZE)) > 0) {
    sendto(sock, line, n, 0, server); // C: sendto(sock, line, n, 0, (struct sockaddr *)&server, sizeof server)
    try {
      const { n: m, address } = recvfrom(sock, answer, BUFSIZE, 0);
      if (address?.address !== server.address || address.port !== server.port) {
        console.error(`(a datagram from ${address?.address}:${address?.port}, not from the server)`);
      }
      writeAll(STDOUT, answer.subarray(0, m));
    } catch (e) {
      if (!(e instanceof SystemError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK'))) throw e;
      console.error('(no answer within 2 s: lost, or nobody listens on that port)');
    }
  }
}

// ─── Written for you: from the arguments to a ready socket ──────────────────────────────────────────
function client_appli(serveur: string, service: string, protocole: 'tcp' | 'udp'): void {
  const type = protocole === 'tcp' ? SOCK_STREAM : SOCK_DGRAM;

  // adr_socket(service, serveur, type, &p_adr_serv): getaddrinfo turns a name or a dotted address, and
  // a port number or a service name, into the socket address connect/sendto take (a sockaddr_in).
  const [info] = getaddrinfo(serveur, service, { ai_family: AF_INET, ai_socktype: type });
  const server = info.ai_addr as InetAddress;

  const sock = socket(AF_INET, type, 0);
  try {
    if (protocole === 'tcp') {
      connect(sock, server); // the three-way handshake; ECONNREFUSED if nobody listens there
      console.error(`connected to ${server.address}:${server.port}`);
      dialogue_tcp(sock);
    } else {
      dialogue_udp(sock, server); // nothing to set up: the first sendto picks our port
    }
  } finally {
    close(sock);
  }
}

/** perror(3): "connect: Connection refused". A SystemError carries the errno C would have left. */
function perror(e: SystemError): void {
  const text = e.syscall.startsWith('getaddrinfo') ? gai_strerror(e.errno) : strerror(e.errno);
  console.error(`${e.syscall}: ${text} (${e.message})`);
}

const [serveur, service, protocole = 'tcp'] = process.argv.slice(2);
if (serveur === undefined || service === undefined || (protocole !== 'tcp' && protocole !== 'udp')) {
  console.error('usage: client HOST PORT tcp|udp');
  process.exit(2);
}
try {
  client_appli(serveur, service, protocole);
} catch (e) {
  if (!(e instanceof SystemError)) throw e;
  perror(e);
  process.exit(1);
}
