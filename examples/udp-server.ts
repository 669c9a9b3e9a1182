// The course's iterative UDP server, question/answer: one socket on the well-known port, and a loop
// of recvfrom (a question, and who asked it) then sendto (the answer, to whoever asked). No listen, no
// accept, no connection: every datagram carries its sender's address, and that is all the server
// needs in order to answer. It serves one client at a time, which costs nothing here: the whole
// exchange is one datagram each way, and questions that arrive meanwhile wait in the socket's receive
// buffer. (When the dialogue needs more than one exchange, see udp-stateful-server.ts.)
//
//   node dist/examples/udp-server.js [PORT] [--bind ADDR] [--count N]
//
// The answer is the question in capital letters, a stand-in for any one-datagram service (daytime,
// DNS, NTP). PORT defaults to 3400, the slides' port; 0 lets the kernel choose (the port is printed).
// --bind ADDR listens on one address instead of all of them (INADDR_ANY); --count N answers N questions
// and exits. Ask it something with udp-client.ts, or with a tool that is not this library:
//   python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"bonjour", ("127.0.0.1", 3400)); print(s.recv(512))'
import {
  AF_INET, INADDR_ANY, IPPROTO_UDP, SOCK_DGRAM, bind, close, getsockname, htonl, htons, inet_pton, recvfrom,
  sendto, sockaddr_in, socket,
} from 'berkeley-sockets';

// A datagram longer than the buffer is cut to fit and the rest is lost for good: recvfrom returns one
// datagram per call, never the next part of the same one. 512 bytes is plenty for a question.
const BUFSIZE = 512;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('--count') ?? Infinity);
const bindAddress = option('--bind');
const port = Number(args[0] ?? 3400);

const sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);

const serv_addr = new sockaddr_in(); // zeroed, like memset(&serv_addr, 0, sizeof(serv_addr))
serv_addr.sin_family = AF_INET;
serv_addr.sin_port = htons(port); // network byte order
if (bindAddress === undefined) {
  serv_addr.sin_addr.s_addr = htonl(INADDR_ANY); // every address of this machine, as the course does
} else if (inet_pton(AF_INET, bindAddress, serv_addr.sin_addr) !== 1) {
  console.error(`${bindAddress}: not an IPv4 address`);
  process.exit(2);
}
bind(sock, serv_addr);
console.log(`udp server listening on port ${getsockname(sock).port}`);

const buf = Buffer.alloc(BUFSIZE);
for (let answered = 0; answered < count; answered++) {
  // Blocks until a datagram arrives. recvfrom fills in the sender's address (C's `struct sockaddr_in
  // *from, socklen_t *fromlen`), the only way to know whom to answer. n === 0 is an empty datagram,
  // not end of file: UDP has no connection, so it has no end of file either.
  const { n, address: client } = recvfrom(sock, buf, BUFSIZE, 0);
  const question = buf.toString('utf8', 0, n);
  console.error(`question from ${client!.address}:${client!.port}: ${JSON.stringify(question)}`);

  // The answer goes back to the address the question came from, from this same socket: the client
  // sees it come from the port it wrote to, which is how it knows the answer is the server's.
  sendto(sock, question.toUpperCase(), 0, client!);
}
close(sock);
