// The course's UDP server with a dialogue (a "serveur à état"): the first datagram arrives on the
// well-known port; the server answers from a NEW socket, bound to port 0 so the kernel picks a free
// port, and the whole dialogue continues there — by hand, what accept() does for TCP.
//
//   node dist/examples/udp-stateful-server.js [PORT] [--bind ADDR] [--count N] [--timeout S]
//
// Why a new socket: on one socket, the datagrams of a dialogue already under way would be mixed with
// the first datagrams of new clients, and the server would have to sort them by sender itself. With a
// socket per dialogue, the well-known port only ever receives openings. The client learns the new port
// without being told: recvfrom gives it the address the answer came from (the slides' "reçoit le
// nouveau numéro de port"), and it sends the rest of the dialogue there.
//
// The dialogue keeps state, a running total:
//   client → well-known port : HELLO
//   new port → client        : OK
//   client → new port        : 12        new port → client : TOTAL 12
//   client → new port        : 30        new port → client : TOTAL 42
//   client → new port        : BYE       new port → client : BYE 42     (the server closes the socket)
//
// One dialogue at a time, as in the slides (openings from other clients wait in the well-known
// socket's buffer); echo-spawn.ts shows the process-per-client way to serve several at once. UDP has
// no end of file: a client that vanishes never says so, hence the explicit BYE and --timeout S
// (default 30 s) of silence after which the dialogue is abandoned. PORT defaults to 3401; 0 lets the
// kernel choose. --count N serves N dialogues and exits.
import {
  AF_INET, INADDR_ANY, IPPROTO_UDP, SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO, type SocketHandle, SystemError, bind,
  close, getsockname, htonl, htons, inet_pton, recvfrom, sendto, setsockopt, sockaddr_in, socket,
  type InetAddress,
} from 'berkeley-sockets';

const BUFSIZE = 512;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('--count') ?? Infinity);
const timeout = Number(option('--timeout') ?? 30);
const bindAddress = option('--bind');
const port = Number(args[0] ?? 3401);

const serv_addr = new sockaddr_in();
serv_addr.sin_family = AF_INET;
serv_addr.sin_port = htons(port);
if (bindAddress === undefined) {
  serv_addr.sin_addr.s_addr = htonl(INADDR_ANY);
} else if (inet_pton(AF_INET, bindAddress, serv_addr.sin_addr) !== 1) {
  console.error(`${bindAddress}: not an IPv4 address`);
  process.exit(2);
}

const sock = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP); // the well-known port: openings only
bind(sock, serv_addr);
const wellKnown = getsockname(sock).port;
console.log(`udp stateful server listening on port ${wellKnown}`);

const buf = Buffer.alloc(BUFSIZE);
const same = (a: InetAddress | null, b: InetAddress) => a !== null && a.address === b.address && a.port === b.port;

for (let served = 0; served < count; ) {
  const { n, address: client } = recvfrom(sock, buf, BUFSIZE, 0); // blocks until someone opens a dialogue
  const opening = buf.toString('utf8', 0, n).trim();
  if (opening !== 'HELLO') {
    sendto(sock, 'ERROR say HELLO first', 0, client!);
    continue;
  }

  // The dialogue's own socket: same address as the well-known one, port 0 = "any free port".
  const dlg_fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  const dlg_addr = new sockaddr_in();
  dlg_addr.sin_family = AF_INET;
  dlg_addr.sin_port = htons(0);
  dlg_addr.sin_addr.s_addr = serv_addr.sin_addr.s_addr;
  bind(dlg_fd, dlg_addr);
  const newPort = getsockname(dlg_fd).port; // the port the kernel chose (0 was only a request)
  console.error(`dialogue with ${client!.address}:${client!.port} moves from port ${wellKnown} to port ${newPort}`);

  // The first answer leaves from the new socket: its source port is what tells the client where to go.
  sendto(dlg_fd, 'OK', 0, client!);
  dialogue(dlg_fd, client!);
  close(dlg_fd);
  served++;
}
close(sock);

/** One client's dialogue, on its own socket, until BYE or `timeout` seconds of silence. */
function dialogue(fd: SocketHandle, client: InetAddress): void {
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: timeout, tv_usec: 0 });
  let total = 0; // the state: what makes this dialogue more than independent questions
  for (;;) {
    let r;
    try {
      r = recvfrom(fd, buf, BUFSIZE, 0);
    } catch (e) {
      if (e instanceof SystemError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) {
        console.error(`${client.address}:${client.port} silent for ${timeout} s: dialogue abandoned`);
        return;
      }
      throw e;
    }
    // The port is new but not secret: take only the client's datagrams. (connect() on this socket
    // would make the kernel do this filtering, and let send/recv replace sendto/recvfrom.)
    if (!same(r.address as InetAddress | null, client)) continue;
    const msg = buf.toString('utf8', 0, r.n).trim();
    if (msg === 'BYE') {
      sendto(fd, `BYE ${total}`, 0, client);
      console.error(`dialogue with ${client.address}:${client.port} ended, total ${total}`);
      return;
    }
    const x = Number(msg);
    if (msg === '' || !Number.isFinite(x)) {
      sendto(fd, `ERROR not a number: ${msg}`, 0, client);
      continue;
    }
    total += x;
    sendto(fd, `TOTAL ${total}`, 0, client);
  }
}
