// socklab commands — Creating, naming, connecting and closing sockets: socket, bind, listen, accept, connect, shutdown,
// close, getsockname, getpeername, and the helpers passive (socket + bind + listen) and resolve.
// Each command is one system call (or a short C idiom), made through the session (../session.ts).
import { isIP } from 'node:net';
import {
  AF_INET, AF_INET6, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SystemError, close, gai_strerror,
  getaddrinfo, getpeername, shutdown,
} from '../../index';
import * as S from '../../index';
import * as A from '../../promises';
import { UsageError, type Word } from '../parse';
import { type Endpoint, calls, endpoint } from '../strace';
import { type Spec, BACKLOG, type Try } from '../spec';
import type { Session } from '../session';

export function socketCommands(lab: Session): Record<string, Spec> {
  const m = lab.m;
  const specs: Record<string, Spec> = {
    socket: {
      usage: 'socket tcp|udp|raw [v6]',
      help: {
        en: 'socket(2): a new TCP, UDP or raw (ICMP) socket, IPv4 or with v6 IPv6; its descriptor is its id',
        fr: "socket(2) : une nouvelle socket TCP, UDP ou brute (ICMP), IPv4 ou IPv6 avec v6 ; son descripteur est son identificateur",
      },
      args: ['proto', 'v6'],
      run: (c) => {
        const proto = c.w[0]?.value;
        if (proto !== 'tcp' && proto !== 'udp' && proto !== 'raw') throw new UsageError(m.usage(specs.socket.usage));
        const v6 = c.w[1]?.value;
        if (v6 !== undefined && v6 !== 'v6' && v6 !== 'v4') throw new UsageError(m.badChoice(v6, ['v6', 'v4']));
        lab.noMore(c, 2, specs.socket.usage);
        lab.makeSocket(proto, v6 === 'v6' ? AF_INET6 : AF_INET);
      } },
    bind: {
      usage: 'bind ID [ADDR] PORT',
      help: {
        en: 'bind(2): the local address (default: any, *) and port (0: the kernel chooses)',
        fr: "bind(2) : l'adresse locale (par défaut : toutes, *) et le port (0 : le noyau choisit)",
      },
      args: ['id', 'addr', 'port'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.bind.usage);
        lab.noMore(c, 3, specs.bind.usage);
        const [hostW, portW] = c.w.length === 3 ? [c.w[1], c.w[2]] : [{ value: '*' } as Word, c.w[1]];
        lab.bindTo(s, lab.endpoint(hostW, portW, s, specs.bind.usage));
      } },
    listen: {
      usage: 'listen ID [N]',
      help: {
        en: 'listen(2): make a TCP socket passive, with a queue of N connections (default 5)',
        fr: 'listen(2) : rend une socket TCP passive, avec une file de N connexions (5 par défaut)',
      },
      args: ['id', 'n'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.listen.usage);
        lab.noMore(c, 2, specs.listen.usage);
        lab.listenOn(s, lab.number(c.w[1], 'N', 0, 2 ** 31 - 1, BACKLOG));
      } },
    accept: {
      usage: 'accept ID [-nb]',
      help: {
        en: 'accept(2): the next connection, a new socket (its descriptor is its id); blocks until a client connects',
        fr: "accept(2) : la connexion suivante, une nouvelle socket (son descripteur l'identifie) ; bloque jusqu'à ce qu'un client se connecte",
      },
      args: ['id'],
      flags: ['-nb'],
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.accept.usage);
        lab.noMore(c, 1, specs.accept.usage);
        const fd = s.h.fd;
        let r: Try<S.Accepted> & { interrupted?: boolean };
        if (c.flags.has('-nb')) {
          lab.nonBlocking(s);
          r = lab.attempt(() => S.accept(s.h));
        } else {
          r = await lab.wait(fd, 'in', 'accept', `accept(${fd})`, (signal) => A.accept(s.h, { signal }));
        }
        if ('f' in r) {
          lab.report(calls.accept(fd, null), r.f, 'accept', r.interrupted);
          return;
        }
        const peer = r.v.address as Endpoint;
        const n = lab.add(r.v.fd, s.domain, s.kind);
        n.peer = { address: peer.address, port: peer.port };
        lab.report(calls.accept(fd, peer), { rc: n.h.fd }, 'accept');
        lab.out(m.accepted(n.fd, endpoint(peer)));
      } },
    connect: {
      usage: 'connect ID HOST PORT [-nb]   |   connect HOST PORT [-nb]',
      help: {
        en: 'connect(2): TCP handshake (blocks), or a UDP default peer; without ID, creates the socket',
        fr: 'connect(2) : établissement TCP (bloquant) ou destinataire par défaut en UDP ; sans ID, crée la socket',
      },
      args: ['id', 'host', 'port'],
      flags: ['-nb'],
      run: async (c) => {
        // connect 20 127.0.0.1 is a forgotten port (asked for at the prompt), not the shortcut to host "20".
        if (c.w.length === 2 && !/^\d+$/.test(c.w[0].value)) {
          // The shortcut: a socket of the current mode, then connect.
          const domain = isIP(c.w[0].value) === 6 ? AF_INET6 : AF_INET;
          const to = lab.endpoint(c.w[0], c.w[1], { domain, kind: lab.mode }, specs.connect.usage);
          const s = lab.makeSocket(lab.mode, domain);
          if (s !== undefined) await lab.connectTo(s, to, c.flags.has('-nb'));
          return;
        }
        if (c.w.length !== 3) throw new UsageError(m.usage(specs.connect.usage));
        const s = lab.sock(c.w[0], specs.connect.usage);
        await lab.connectTo(s, lab.endpoint(c.w[1], c.w[2], s, specs.connect.usage), c.flags.has('-nb'));
      } },
    shutdown: {
      usage: 'shutdown ID rd|wr|rdwr',
      help: {
        en: 'shutdown(2): close one direction: rd (0), wr (1: the peer reads end of file) or rdwr (2)',
        fr: "shutdown(2) : ferme un sens : rd (0), wr (1 : l'autre côté lit une fin de fichier) ou rdwr (2)",
      },
      args: ['id', 'how'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.shutdown.usage);
        lab.noMore(c, 2, specs.shutdown.usage);
        const how = ({ rd: SHUT_RD, wr: SHUT_WR, rdwr: SHUT_RDWR, '0': SHUT_RD, '1': SHUT_WR, '2': SHUT_RDWR } as Record<string, number>)[c.w[1]?.value ?? ''];
        if (how === undefined) throw new UsageError(m.usage(specs.shutdown.usage));
        const r = lab.attempt(() => shutdown(s.h, how));
        lab.report(calls.shutdown(s.h.fd, how), 'f' in r ? r.f : { rc: 0 }, 'shutdown');
      } },
    close: {
      usage: 'close ID',
      help: {
        en: 'close(2): release the socket (TCP: starts the orderly release, FIN)',
        fr: 'close(2) : libère la socket (TCP : commence la fermeture, FIN)',
      },
      args: ['id'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.close.usage);
        lab.noMore(c, 1, specs.close.usage);
        const fd = s.h.fd;
        lab.socks.delete(s.fd); // the descriptor is gone whatever close returns (close(2), NOTES); the next socket may get it
        const r = lab.attempt(() => close(s.h));
        lab.report(calls.close(fd), 'f' in r ? r.f : { rc: 0 }, 'close');
      } },
    getsockname: {
      usage: 'getsockname ID',
      help: {
        en: 'getsockname(2): the local address and port (the one the kernel chose)',
        fr: "getsockname(2) : l'adresse et le port locaux (ceux que le noyau a choisis)",
      },
      args: ['id'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.getsockname.usage);
        lab.noMore(c, 1, specs.getsockname.usage);
        lab.getsockname(s);
      } },
    getpeername: {
      usage: 'getpeername ID',
      help: {
        en: 'getpeername(2): the address of the connected peer',
        fr: "getpeername(2) : l'adresse de l'autre extrémité de la connexion",
      },
      args: ['id'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.getpeername.usage);
        lab.noMore(c, 1, specs.getpeername.usage);
        const r = lab.attempt(() => getpeername(s.h) as Endpoint);
        lab.report(calls.getpeername(s.h.fd, 'v' in r ? r.v : null), 'f' in r ? r.f : { rc: 0 }, 'getpeername');
      } },
    passive: {
      usage: 'passive [ADDR] [PORT] [-reuseaddr]',
      help: {
        en: 'shortcut: socket + bind + listen (TCP mode) or socket + bind (UDP mode); PORT 0 or none: any',
        fr: 'raccourci : socket + bind + listen (mode TCP) ou socket + bind (mode UDP) ; PORT 0 ou absent : au choix du noyau',
      },
      args: ['addr', 'port'],
      flags: ['-reuseaddr'],
      run: (c) => {
        lab.noMore(c, 2, specs.passive.usage);
        let hostW: Word = { value: '*', quote: null, start: 0, end: 0 };
        let portW: Word = { value: '0', quote: null, start: 0, end: 0 };
        if (c.w.length === 2) [hostW, portW] = c.w;
        else if (c.w.length === 1) {
          if (/^\d+$/.test(c.w[0].value) || isIP(c.w[0].value) === 0 && !/[.:]/.test(c.w[0].value) && c.w[0].value !== '*' && c.w[0].value !== 'localhost') portW = c.w[0];
          else hostW = c.w[0];
        }
        const domain = isIP(hostW.value) === 6 ? AF_INET6 : AF_INET;
        const at = lab.endpoint(hostW, portW, { domain, kind: lab.mode }, specs.passive.usage);
        const s = lab.makeSocket(lab.mode, domain);
        if (s === undefined) return;
        if (c.flags.has('-reuseaddr') && !lab.setOption(s, lab.option(s, 'SO_REUSEADDR'), '1')) return;
        if (!lab.bindTo(s, at)) return;
        if (lab.mode === 'tcp' && !lab.listenOn(s, BACKLOG)) return;
        if (at.port === 0) lab.getsockname(s);
      } },
    resolve: {
      usage: 'resolve HOST [SERVICE]',
      help: {
        en: 'getaddrinfo(3): the addresses of HOST (/etc/hosts, DNS) and the port of SERVICE (/etc/services)',
        fr: 'getaddrinfo(3) : les adresses de HÔTE (/etc/hosts, DNS) et le port de SERVICE (/etc/services)',
      },
      args: ['host', 'service'],
      run: (c) => {
        if (c.w.length < 1) throw new UsageError(m.usage(specs.resolve.usage));
        lab.noMore(c, 2, specs.resolve.usage);
        const host = c.w[0].value;
        const service = c.w[1]?.value ?? null;
        const call = `getaddrinfo("${host}", ${service === null ? 'NULL' : `"${service}"`}, &hints, &res)`;
        let r: S.AddrInfo[];
        try {
          r = getaddrinfo(host, service, { ai_socktype: lab.mode === 'udp' ? SOCK_DGRAM : SOCK_STREAM });
        } catch (e) {
          const err = e as SystemError;
          if (!(e instanceof SystemError)) throw e;
          // getaddrinfo returns its EAI_* code (not -1 and errno): gai_strerror() explains it.
          const text = err.code.startsWith('EAI_') ? gai_strerror(err.errno) : S.strerror(err.errno);
          lab.out(`${call} = ${err.code} (${text})`);
          lab.failure ??= err.code;
          return;
        }
        lab.out(`${call} = 0`);
        for (const ai of r) {
          const fam = ai.ai_family === AF_INET6 ? 'AF_INET6' : 'AF_INET ';
          lab.out(`  ${fam}  ${endpoint(ai.ai_addr)}`);
        }
        lab.out(m.resolved(r.length));
      } } };
  return specs;
}
