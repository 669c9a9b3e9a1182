// `npm start`: the main demonstration. A daytime exchange over TCP and a UDP question/answer, on
// loopback, with every system call printed as strace prints it (the library's trace), a word on what
// each one did, and at the end the whole exchange drawn as a sequence picture. In French when the
// locale is (LANG=fr_FR.UTF-8, as socklab): the course is French; the system calls are C's either way.
import {
  AF_INET, INADDR_LOOPBACK, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SystemError, accept, bind,
  close, connect, getsockname, getsockopt, htonl, htons, listen, ntohs, read, recvfrom, renderDiagram, sendto,
  shutdown, sockaddr_in, socket, toStruct, trace, write,
} from 'berkeley-sockets';

const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
const french = /^fr/i.test(locale);
/** The English or the French words (the POSIX precedence of LC_ALL, LC_MESSAGES, LANG). */
const say = (en: string, fr: string) => (french ? fr : en);

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

console.log(bold(say('1. Daytime over TCP: a server and a client in one process, on 127.0.0.1\n',
  '1. Daytime sur TCP : un serveur et un client dans un même processus, sur 127.0.0.1\n')));
const srv = step(() => socket(AF_INET, SOCK_STREAM, 0), (h) => say(`a TCP socket: descriptor ${h.fd}, close-on-exec`, `une socket TCP : descripteur ${h.fd}, fermé à l'exec`));
const addr = new sockaddr_in({ sin_family: AF_INET, sin_port: htons(0), sin_addr: { s_addr: htonl(INADDR_LOOPBACK) } });
step(() => bind(srv, addr), () => say('struct sockaddr_in as the kernel reads it: ', 'struct sockaddr_in telle que le noyau la lit : ') +
  addr.toBytes().toString('hex').replace(/(..)/g, '$1 ').trim());
step(() => listen(srv, 16), () => say('passive: the kernel now completes handshakes on our behalf',
  'passive : le noyau établit désormais les connexions pour nous'));
const local = step(() => getsockname(srv), (a) => {
  const s = toStruct(a) as sockaddr_in;
  return say(`port 0 let the kernel choose ${a.port}; in the struct, sin_port = ${s.sin_port} = htons(${ntohs(s.sin_port)})`,
    `le port 0 laisse le noyau choisir ${a.port} ; dans la structure, sin_port = ${s.sin_port} = htons(${ntohs(s.sin_port)})`);
});
const cli = step(() => socket(AF_INET, SOCK_STREAM, 0));
step(() => connect(cli, { family: AF_INET, address: '127.0.0.1', port: local.port }), () => say('the three-way handshake is done: SYN, SYN+ACK, ACK',
  'la poignée de main en trois temps est faite : SYN, SYN+ACK, ACK'));
const { fd: conn } = step(() => accept(srv), (r) => say(`a new descriptor, ${r.fd.fd}, for this client (${r.address.address}:${r.address.port})`,
  `un nouveau descripteur, ${r.fd.fd}, pour ce client (${r.address.address}:${r.address.port})`));
step(() => write(conn, `${ctime(new Date())}\r\n`), () => say('the server writes the date, as RFC 867 says, then closes',
  'le serveur écrit la date, comme le dit la RFC 867, puis ferme'));
step(() => close(conn));
const buf = Buffer.alloc(64);
let text = '';
for (let n; (n = step(() => read(cli, buf, 64))) > 0;) text += buf.toString('utf8', 0, n);
console.log(dim(say(`    the client read ${JSON.stringify(text)}, then 0: end of file, the server closed`,
  `    le client a lu ${JSON.stringify(text)}, puis 0 : fin de fichier, le serveur a fermé`)));
step(() => getsockopt(cli, SOL_SOCKET, SO_RCVBUF), (v) => say(`its receive buffer: ${v} bytes (Linux doubles what is set, socket(7))`,
  `son tampon de réception : ${v} octets (Linux double la valeur donnée, socket(7))`));
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
  console.log(dim(say(`    nobody listens there any more: the kernel answered the SYN with a RST (${e.code})`,
    `    plus personne n'écoute là : le noyau a répondu au SYN par un RST (${e.code})`)));
}

console.log(bold(say('\n2. A UDP question and its answer\n', '\n2. Une question en UDP et sa réponse\n')));
const server = step(() => socket(AF_INET, SOCK_DGRAM, 0));
step(() => bind(server, { family: AF_INET, address: '127.0.0.1', port: 0 }));
const sport = step(() => getsockname(server)).port;
const client = step(() => socket(AF_INET, SOCK_DGRAM, 0));
step(() => sendto(client, 'quelle heure ?', 0, { family: AF_INET, address: '127.0.0.1', port: sport }),
  () => say('no connection: the datagram carries its destination, and the kernel bound the client implicitly',
    'pas de connexion : le datagramme porte sa destination, et le noyau a attaché le client implicitement'));
const q = step(() => recvfrom(server, buf, 64), (r) => say(`the server learns who asked: ${r.address?.address}:${r.address?.port}`,
  `le serveur apprend qui demande : ${r.address?.address}:${r.address?.port}`));
step(() => sendto(server, `il est ${ctime(new Date()).slice(11, 19)}`, 0, q.address!), () => say('and answers that address', 'et répond à cette adresse'));
const a = step(() => recvfrom(client, buf, 64));
console.log(dim(say('    the client read ', '    le client a lu ') + JSON.stringify(buf.toString('utf8', 0, a.n))));
step(() => close(client));
step(() => close(server));
trace(false);

console.log(bold(say('\n3. The same calls as a sequence picture\n', '\n3. Les mêmes appels en diagramme de séquence\n')));
console.log(renderDiagram(traced));
console.log(say('BSOCK_TRACE=1 prints any program\'s calls like this; BSOCK_TRACE=diagram draws them. See examples/.',
  'BSOCK_TRACE=1 affiche ainsi les appels de tout programme ; BSOCK_TRACE=diagram les dessine. Voir examples/.'));
