// `npm start`: the main demonstration. A daytime exchange over TCP and a UDP question/answer, on
// loopback, with every system call printed as strace prints it (the library's trace), a word on what
// each one did, and at the end the whole exchange drawn as a sequence picture.
import {
  AF_INET, INADDR_LOOPBACK, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SystemError, accept, bind,
  close, connect, getsockname, getsockopt, htonl, htons, listen, ntohs, read, recvfrom, renderDiagram, sendto,
  shutdown, sockaddr_in, socket, toStruct, trace, write,
} from 'berkeley-sockets';

const tty = process.stdout.isTTY;
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

// Every call's strace-format line is collected: printed after each step, and drawn at the end.
const traced: string[] = [];
let pending: string[] = [];
trace((line) => {
  traced.push(line);
  pending.push(line);
});

/** Runs one step, prints the system calls it made, then what they mean. */
function step<T>(fn: () => T, note?: (v: T) => string): T {
  let v: T;
  try {
    v = fn();
  } finally {
    for (const line of pending) console.log(line);
    pending = [];
  }
  if (note) console.log(dim(`    ${note(v)}`));
  return v;
}

/** ctime(3) without its newline: "Mon Nov 23 20:41:44 2026". */
function ctime(d: Date): string {
  const [day, mon] = [d.toDateString().slice(0, 3), d.toDateString().slice(4, 7)];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

console.log(bold('1. Daytime over TCP: a server and a client in one process, on 127.0.0.1\n'));
const srv = step(() => socket(AF_INET, SOCK_STREAM, 0), (h) => `a TCP socket: descriptor ${h.fd}, close-on-exec`);
const addr = new sockaddr_in({ sin_family: AF_INET, sin_port: htons(0), sin_addr: { s_addr: htonl(INADDR_LOOPBACK) } });
step(() => bind(srv, addr), () => `struct sockaddr_in as the kernel reads it: ${addr.toBytes().toString('hex').replace(/(..)/g, '$1 ').trim()}`);
step(() => listen(srv, 16), () => 'passive: the kernel now completes handshakes on our behalf');
const local = step(() => getsockname(srv), (a) => {
  const s = toStruct(a) as sockaddr_in;
  return `port 0 let the kernel choose ${a.port}; in the struct, sin_port = ${s.sin_port} = htons(${ntohs(s.sin_port)})`;
});
const cli = step(() => socket(AF_INET, SOCK_STREAM, 0));
step(() => connect(cli, { family: AF_INET, address: '127.0.0.1', port: local.port }), () => 'the three-way handshake is done: SYN, SYN+ACK, ACK');
const { fd: conn } = step(() => accept(srv), (r) => `a new descriptor, ${r.fd.fd}, for this client (${r.address.address}:${r.address.port})`);
step(() => write(conn, `${ctime(new Date())}\r\n`), () => 'the server writes the date, as RFC 867 says, then closes');
step(() => close(conn));
const buf = Buffer.alloc(64);
let text = '';
for (let n; (n = step(() => read(cli, buf, 64))) > 0;) text += buf.toString('utf8', 0, n);
console.log(dim(`    the client read ${JSON.stringify(text)}, then 0: end of file, the server closed`));
step(() => getsockopt(cli, SOL_SOCKET, SO_RCVBUF), (v) => `its receive buffer: ${v} bytes (Linux doubles what is set, socket(7))`);
step(() => shutdown(cli, SHUT_WR));
step(() => close(cli));
step(() => close(srv));
try {
  step(() => {
    const s = socket(AF_INET, SOCK_STREAM, 0);
    try {
      connect(s, { family: AF_INET, address: '127.0.0.1', port: local.port });
    } finally {
      close(s);
    }
  });
} catch (e) {
  if (!(e instanceof SystemError)) throw e;
  console.log(dim(`    nobody listens there any more: the kernel answered the SYN with a RST (${e.code})`));
}

console.log(bold('\n2. A UDP question and its answer\n'));
const server = step(() => socket(AF_INET, SOCK_DGRAM, 0));
step(() => bind(server, { family: AF_INET, address: '127.0.0.1', port: 0 }));
const sport = step(() => getsockname(server)).port;
const client = step(() => socket(AF_INET, SOCK_DGRAM, 0));
step(() => sendto(client, 'quelle heure ?', 0, { family: AF_INET, address: '127.0.0.1', port: sport }),
  () => 'no connection: the datagram carries its destination, and the kernel bound the client implicitly');
const q = step(() => recvfrom(server, buf, 64), (r) => `the server learns who asked: ${r.address?.address}:${r.address?.port}`);
step(() => sendto(server, `il est ${ctime(new Date()).slice(11, 19)}`, 0, q.address!), () => 'and answers that address');
const a = step(() => recvfrom(client, buf, 64));
console.log(dim(`    the client read ${JSON.stringify(buf.toString('utf8', 0, a.n))}`));
step(() => close(client));
step(() => close(server));
trace(false);

console.log(bold('\n3. The same calls as a sequence picture\n'));
console.log(renderDiagram(traced));
console.log('BSOCK_TRACE=1 prints any program\'s calls like this; BSOCK_TRACE=diagram draws them. See examples/.');
