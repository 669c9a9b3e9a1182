// `npm start`: a short tour of the system calls, each printed with what it returned, the way a C
// programmer would check them. A TCP exchange, then a UDP one, all on loopback.
import {
  AF_INET, INADDR_LOOPBACK, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_TYPE, SystemError, accept,
  bind, close, connect, getpeername, getsockname, getsockopt, htonl, htons, inet_ntop, listen, ntohs, read,
  recvfrom, renderDiagram, sendto, shutdown, sockaddr_in, socket, strerror, toStruct, trace, write,
} from 'berkeley-sockets';

// Every system call is also collected (in strace's format) for the sequence picture at the end.
const traced: string[] = [];
trace((line) => traced.push(line));

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function show<T>(call: string, fn: () => T, render: (v: T) => string = (v) => JSON.stringify(v)): T {
  try {
    const v = fn();
    console.log(`${call} = ${v === undefined ? '0' : render(v)}`);
    return v;
  } catch (e) {
    if (e instanceof SystemError) console.log(`${call} = -1 ${e.code} (${strerror(e.errno)})`);
    throw e;
  }
}
const fdStr = (h: { fd: number }) => String(h.fd);

console.log(bold('TCP: a server and a client in one process, on 127.0.0.1'));
const srv = show('socket(AF_INET, SOCK_STREAM, 0)', () => socket(AF_INET, SOCK_STREAM, 0), fdStr);
const addr = new sockaddr_in({ sin_family: AF_INET, sin_port: htons(0), sin_addr: { s_addr: htonl(INADDR_LOOPBACK) } });
console.log(dim(`  struct sockaddr_in = ${addr.toBytes().toString('hex').replace(/(..)/g, '$1 ').trim()}`));
show(`bind(${srv.fd}, {sin_family=AF_INET, sin_port=htons(0), sin_addr=htonl(INADDR_LOOPBACK)})`, () => bind(srv, addr));
show(`listen(${srv.fd}, 16)`, () => listen(srv, 16));
const local = show(`getsockname(${srv.fd})`, () => getsockname(srv));
const raw = toStruct(local) as sockaddr_in;
console.log(dim(`  the kernel chose port ${local.port}; in the struct, sin_port = ${raw.sin_port} = htons(${ntohs(raw.sin_port)})`));

const cli = show('socket(AF_INET, SOCK_STREAM, 0)', () => socket(AF_INET, SOCK_STREAM, 0), fdStr);
show(`connect(${cli.fd}, 127.0.0.1:${local.port})`, () => connect(cli, { family: AF_INET, address: '127.0.0.1', port: local.port }));
const { fd: conn, address: peer } = show(`accept(${srv.fd})`, () => accept(srv), (r) => `${r.fd.fd}, peer ${r.address.address}:${r.address.port}`);
show(`getpeername(${cli.fd})`, () => getpeername(cli));
show(`write(${cli.fd}, "bonjour", 7)`, () => write(cli, 'bonjour'));
const buf = Buffer.alloc(64);
const n = show(`read(${conn.fd}, buf, 64)`, () => read(conn, buf, 64));
console.log(dim(`  buf = ${JSON.stringify(buf.toString('utf8', 0, n))}`));
show(`shutdown(${cli.fd}, SHUT_WR)`, () => shutdown(cli, SHUT_WR));
show(`read(${conn.fd}, buf, 64)`, () => read(conn, buf, 64), (v) => `${v}  ${dim('(end of file: the client shut down its side)')}`);
show(`getsockopt(${conn.fd}, SOL_SOCKET, SO_TYPE)`, () => getsockopt(conn, SOL_SOCKET, SO_TYPE), (v) => `${v} (SOCK_STREAM)`);
show(`getsockopt(${conn.fd}, SOL_SOCKET, SO_RCVBUF)`, () => getsockopt(conn, SOL_SOCKET, SO_RCVBUF));
for (const h of [conn, cli, srv]) show(`close(${h.fd})`, () => close(h));
try {
  show(`connect(socket, 127.0.0.1:${local.port})`, () => {
    using s = socket(AF_INET, SOCK_STREAM, 0);
    connect(s, { family: AF_INET, address: '127.0.0.1', port: local.port });
  });
} catch {
  console.log(dim('  nobody listens there any more: the kernel answered the SYN with a RST'));
}

console.log(bold('\nUDP: a question and an answer'));
const server = show('socket(AF_INET, SOCK_DGRAM, 0)', () => socket(AF_INET, SOCK_DGRAM, 0), fdStr);
show(`bind(${server.fd}, 127.0.0.1:0)`, () => bind(server, { family: AF_INET, address: '127.0.0.1', port: 0 }));
const sport = getsockname(server).port;
const client = show('socket(AF_INET, SOCK_DGRAM, 0)', () => socket(AF_INET, SOCK_DGRAM, 0), fdStr);
show(`sendto(${client.fd}, "quelle heure ?", 0, 127.0.0.1:${sport})`, () =>
  sendto(client, 'quelle heure ?', 0, { family: AF_INET, address: '127.0.0.1', port: sport }));
console.log(dim(`  the client was bound implicitly: getsockname = ${JSON.stringify(getsockname(client))}`));
const q = show(`recvfrom(${server.fd}, buf, 64, 0)`, () => recvfrom(server, buf, 64), (r) => `${r.n}, from ${r.address?.address}:${r.address?.port}`);
console.log(dim(`  buf = ${JSON.stringify(buf.toString('utf8', 0, q.n))}`));
show(`sendto(${server.fd}, "il est midi", 0, sender)`, () => sendto(server, 'il est midi', 0, q.address!));
const a = show(`recvfrom(${client.fd}, buf, 64, 0)`, () => recvfrom(client, buf, 64), (r) => `${r.n}, from ${r.address?.address}:${r.address?.port}`);
console.log(dim(`  buf = ${JSON.stringify(buf.toString('utf8', 0, a.n))}`));
for (const h of [client, server]) show(`close(${h.fd})`, () => close(h));
console.log(dim(`\ninet_ntop(AF_INET, htonl(INADDR_LOOPBACK)) = ${inet_ntop(AF_INET, { s_addr: htonl(INADDR_LOOPBACK) })}`));
trace(false);
console.log(bold('\nThe same calls as a sequence picture (BSOCK_TRACE=diagram draws one for any program):\n'));
console.log(renderDiagram(traced));
console.log('See examples/ for the course programs; BSOCK_TRACE=1 prints any program\'s calls as strace does.');
