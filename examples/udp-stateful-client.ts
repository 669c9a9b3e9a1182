// The client of udp-stateful-server.ts: HELLO to the well-known port, then the rest of the dialogue
// with whatever port the answer came from — recvfrom tells it, nobody has to.
//
//   node dist/examples/udp-stateful-client.js HOST PORT [NUMBER...]
//
// Sends each NUMBER (default 12 30) and prints the running total the server keeps, then BYE.
// HOST is a numeric IPv4 address.
//
// This client gives up after 2 s without an answer rather than sending again: in a dialogue with
// state, a repeated datagram would be counted twice, and the client cannot tell a lost question from
// a lost answer. That is the slides' "peu adapté à une communication à état": over UDP a real
// protocol numbers its messages so the server can recognise a repeat (or uses TCP).
import {
  AF_INET, IPPROTO_UDP, SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO, SystemError, close, htons, inet_ntop, inet_pton,
  recvfrom, sendto, setsockopt, sockaddr_in, socket, type InetAddress,
} from 'berkeley-sockets';

const BUFSIZE = 512;

const [host, portArg, ...numbers] = process.argv.slice(2);
if (host === undefined || portArg === undefined) {
  console.error('usage: udp-stateful-client HOST PORT [NUMBER...]');
  process.exit(2);
}
const port = Number(portArg);
if (numbers.length === 0) numbers.push('12', '30');

const sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 2, tv_usec: 0 });

const serv_addr = new sockaddr_in();
serv_addr.sin_family = AF_INET;
serv_addr.sin_port = htons(port); // the well-known port: only the first datagram goes there
if (inet_pton(AF_INET, host, serv_addr.sin_addr) !== 1) {
  console.error(`${host}: not an IPv4 address`);
  process.exit(2);
}
const serverIp = inet_ntop(AF_INET, serv_addr.sin_addr);

const buf = Buffer.alloc(BUFSIZE);

/** One datagram from the server's machine, with the address it came from. Exits after 2 s of silence. */
function receive(): { text: string; from: InetAddress } {
  for (;;) {
    let r;
    try {
      r = recvfrom(sock, buf, BUFSIZE, 0);
    } catch (e) {
      if (e instanceof SystemError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) {
        console.error('no answer within 2 s: giving up (see the comment at the top of this file)');
        process.exit(1);
      }
      throw e;
    }
    if (r.address?.address === serverIp) return { text: buf.toString('utf8', 0, r.n), from: r.address };
    console.error(`ignoring a datagram from ${r.address?.address}:${r.address?.port}`);
  }
}

sendto(sock, 'HELLO', 0, serv_addr);
const { text: welcome, from: dialogue } = receive();
if (welcome !== 'OK') {
  console.error(`the server refused: ${welcome}`);
  process.exit(1);
}
// recvfrom's address is the server's new socket: the rest of the dialogue goes to that port.
console.log(`${welcome}: the server answered from port ${dialogue.port} (we wrote to port ${port}); the dialogue continues there`);

/** Sends `msg` to the dialogue's port and returns the answer, which must come from that same port. */
function ask(msg: string): string {
  sendto(sock, msg, 0, dialogue);
  for (;;) {
    const { text, from } = receive();
    if (from.port === dialogue.port) return text;
    console.error(`ignoring a datagram from port ${from.port}`);
  }
}

for (const x of numbers) console.log(`${x} -> ${ask(x)}`);
console.log(`BYE -> ${ask('BYE')}`);
close(sock);
