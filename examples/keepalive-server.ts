// A variant of the course's keepalive server (course/keepalive.ts is the course's own, call for call,
// forking its own client): accept one client, turn TCP keepalive on with short timers, and wait.
// While the client says nothing, the server's kernel checks every few seconds that it is still there.
//
//   node dist/examples/keepalive-server.js [PORT] [--bind ADDR] [--idle S] [--interval S] [--probes N]
//
// Then connect and stay silent, e.g. `nc 127.0.0.1 12345` (or daytime-client, talk, python3), and
// watch the probes from another terminal (tcpdump needs root):
//
//   sudo tcpdump -n -i lo port 12345
//
// After --idle seconds of silence (default 1) the server's kernel sends a probe: an ACK carrying no
// data, whose sequence number is one *below* the next byte it would send, so the peer must answer it
// with an ACK of its own. In tcpdump each probe is a pair of lines with "length 0", one per second
// (--interval, default 1), for as long as the peer answers:
//
//   18:00:35.173892 IP 127.0.0.1.12345 > 127.0.0.1.51720: Flags [.], ack 1, win 512, length 0
//   18:00:35.173903 IP 127.0.0.1.51720 > 127.0.0.1.12345: Flags [.], ack 1, win 512, length 0
//
// If --probes probes in a row go unanswered (default 10: the peer crashed, or a cable was pulled),
// the kernel gives the connection up and the server's blocked read() fails with ETIMEDOUT. Nothing is
// sent to the application in either case: keepalive is the kernel's business. (`ss -tno` shows the
// timer too: timer:(keepalive,…).) To watch a dead peer being detected, run keepalive-lab.ts.
import {
  AF_INET, INADDR_ANY, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SystemError, accept, bind, close,
  getKeepAlive, getsockname, htonl, htons, inet_pton, listen, read, setKeepAlive, setsockopt, sockaddr_in, socket,
} from 'berkeley-sockets';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const idle = Number(option('--idle') ?? 1);
const interval = Number(option('--interval') ?? 1);
const probes = Number(option('--probes') ?? 10);
const bindAddress = option('--bind');
const port = Number(args[0] ?? 12345);

const server = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
setsockopt(server, SOL_SOCKET, SO_REUSEADDR, 1); // restart at once, whatever TIME_WAIT remains

const addr = new sockaddr_in();
addr.sin_family = AF_INET;
addr.sin_port = htons(port);
if (bindAddress === undefined) {
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
} else if (inet_pton(AF_INET, bindAddress, addr.sin_addr) !== 1) {
  console.error(`${bindAddress}: not an IPv4 address`);
  process.exit(2);
}
bind(server, addr);
listen(server, 1);
const bound = getsockname(server).port;
console.log(`keepalive server listening on port ${bound}; watch it with: tcpdump -n -i lo port ${bound}`);

const { fd: client, address: peer } = accept(server); // one client, as in the course
close(server); // no other client is awaited

// The course's enable_keepalive(), in one call. It makes the same four setsockopt(2) calls:
//   setsockopt(client, SOL_SOCKET,  SO_KEEPALIVE,  1)         turn it on (socket(7))
//   setsockopt(client, IPPROTO_TCP, TCP_KEEPIDLE,  idle)      seconds of silence before the first probe
//   setsockopt(client, IPPROTO_TCP, TCP_KEEPINTVL, interval)  seconds between unanswered probes
//   setsockopt(client, IPPROTO_TCP, TCP_KEEPCNT,   probes)    unanswered probes before giving up (tcp(7))
// Without the last three, Linux waits two hours (net.ipv4.tcp_keepalive_time) before the first probe.
setKeepAlive(client, { idle, interval, count: probes });
const ka = getKeepAlive(client); // read back what the kernel applied
console.log(`client ${peer.address}:${peer.port} connected; keepalive ${ka.enable ? 'on' : 'off'}: ` +
  `idle ${ka.idle} s, interval ${ka.interval} s, ${ka.count} probes`);

// Wait. The course waits for a signal (pause()); waiting in read() shows more: it returns data if the
// client talks (which restarts the idle timer), 0 when it leaves, and fails with ETIMEDOUT when the
// probes went unanswered.
const buf = Buffer.alloc(1024);
try {
  let n: number;
  while ((n = read(client, buf)) > 0) console.log(`client sent ${n} byte(s): the idle timer starts again`);
  console.log('the client closed the connection');
} catch (e) {
  if (!(e instanceof SystemError && e.code === 'ETIMEDOUT')) throw e;
  console.log(`read: ETIMEDOUT: ${ka.count} probes went unanswered, the kernel gave the connection up`);
} finally {
  close(client);
}
