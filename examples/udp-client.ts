// The course's UDP client, question/answer: sendto the server's well-known port, then recvfrom the
// answer. There is no connect and no bind: the first sendto binds the socket to a free port (the
// kernel's choice, what the course gets with sin_port = 0), and that is where the answer comes back.
//
//   node dist/examples/udp-client.js HOST PORT [QUESTION]
//
// HOST is a numeric IPv4 address (inet_pton); QUESTION defaults to "quelle heure est-il ?".
// Try it against udp-server.ts, or against a server that is not this library: `nc -u -l 3400`, whose
// terminal then shows the question and sends back whatever line you type.
//
// UDP promises nothing: the question or the answer may be lost, and no error says so. Even when
// nobody listens on PORT, the ICMP "port unreachable" that comes back is reported only to a
// *connected* UDP socket (as ECONNREFUSED, see udp(7)); this one is not connected, so it just hears
// nothing. That is why the client waits a bounded time (SO_RCVTIMEO) and asks again, a few times.
import {
  AF_INET, IPPROTO_UDP, SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO, SystemError, close, htons, inet_ntop, inet_pton,
  recvfrom, sendto, setsockopt, sockaddr_in, socket,
} from 'berkeley-sockets';

const BUFSIZE = 512;
const TRIES = 3;
const WAIT = { tv_sec: 1, tv_usec: 0 }; // struct timeval: how long each recvfrom may wait

const [host, portArg, ...words] = process.argv.slice(2);
if (host === undefined || portArg === undefined) {
  console.error('usage: udp-client HOST PORT [QUESTION]');
  process.exit(2);
}
const port = Number(portArg);
const question = words.length > 0 ? words.join(' ') : 'quelle heure est-il ?';

const sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);

const serv_addr = new sockaddr_in();
serv_addr.sin_family = AF_INET;
serv_addr.sin_port = htons(port);
if (inet_pton(AF_INET, host, serv_addr.sin_addr) !== 1) {
  console.error(`${host}: not an IPv4 address`);
  process.exit(2);
}
const serverIp = inet_ntop(AF_INET, serv_addr.sin_addr); // '127.0.0.1', to compare with recvfrom's

// recvfrom now fails with EAGAIN after WAIT instead of blocking forever (socket(7)).
setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, WAIT);

const buf = Buffer.alloc(BUFSIZE);

/** The server's answer, or undefined when none came within WAIT. */
function waitForAnswer(): string | undefined {
  for (;;) {
    let r;
    try {
      r = recvfrom(sock, buf, BUFSIZE, 0);
    } catch (e) {
      if (e instanceof SystemError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) return undefined;
      throw e;
    }
    // Anyone may send a datagram to our port: take the answer only from the address we asked.
    if (r.address?.address === serverIp && r.address.port === port) return buf.toString('utf8', 0, r.n);
    console.error(`ignoring a datagram from ${r.address?.address}:${r.address?.port}`);
  }
}

let answer: string | undefined;
for (let attempt = 1; attempt <= TRIES && answer === undefined; attempt++) {
  sendto(sock, question, 0, serv_addr); // one datagram: the whole question, or nothing
  answer = waitForAnswer();
  if (answer === undefined) console.error(`no answer within ${WAIT.tv_sec} s (try ${attempt} of ${TRIES})`);
}
close(sock);

if (answer === undefined) {
  console.error(`no answer from ${serverIp}:${port}: the datagrams were lost, or nobody listens there`);
  process.exit(1);
}
console.log(answer);
