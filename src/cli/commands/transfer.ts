// socklab commands — Moving bytes: read, recv, recvfrom, write, send, sendto, broadcast.
// Each command is one system call (or a short C idiom), made through the session (../session.ts).
import { isIP } from 'node:net';
import { AF_INET, MSG_DONTWAIT, MSG_OOB, MSG_PEEK } from '../../index';
import * as S from '../../index';
import * as A from '../../promises';
import { UsageError, type Word } from '../parse';
import { type Endpoint, calls } from '../strace';
import { type Spec, READ_SIZE, MAX_READ, type Try } from '../spec';
import type { Session } from '../session';

export function transferCommands(lab: Session): Record<string, Spec> {
  const m = lab.m;
  const specs: Record<string, Spec> = {
    read: {
      usage: 'read ID [N] [-nb]',
      help: {
        en: 'read(2): at most N bytes (default 1024); blocks until data arrives; 0 = the peer shut down',
        fr: "read(2) : au plus N octets (1024 par défaut) ; bloque jusqu'à l'arrivée de données ; 0 = l'autre côté a fermé",
      },
      args: ['id', 'n'],
      flags: ['-nb'],
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.read.usage);
        lab.noMore(c, 2, specs.read.usage);
        const n = lab.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
        const buf = Buffer.alloc(n);
        const fd = s.h.fd;
        let r: Try<number> & { interrupted?: boolean };
        if (c.flags.has('-nb')) {
          lab.nonBlocking(s);
          r = lab.attempt(() => S.read(s.h, buf, n));
        } else {
          r = await lab.wait(fd, 'in', 'in', `read(${fd})`, (signal) => A.read(s.h, buf, n, { signal }));
        }
        if ('f' in r) {
          lab.report(calls.read(fd, null, n), r.f, 'read', r.interrupted);
          return;
        }
        lab.report(calls.read(fd, buf.subarray(0, r.v), n), { rc: r.v }, 'read');
        if (r.v === 0) lab.out(m.eof);
      },
    },
    recv: {
      usage: 'recv ID [N] [-peek] [-oob] [-nb]',
      help: {
        en: 'recv(2): like read, with -peek (MSG_PEEK: leave the data queued) and -oob (urgent data)',
        fr: 'recv(2) : comme read, avec -peek (MSG_PEEK : les données restent en file) et -oob (données urgentes)',
      },
      args: ['id', 'n'],
      flags: ['-peek', '-oob', '-nb'],
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.recv.usage);
        lab.noMore(c, 2, specs.recv.usage);
        const n = lab.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
        const buf = Buffer.alloc(n);
        let flags = (c.flags.has('-peek') ? MSG_PEEK : 0) | (c.flags.has('-oob') ? MSG_OOB : 0);
        const fd = s.h.fd;
        let r: Try<number> & { interrupted?: boolean };
        if (c.flags.has('-nb')) {
          flags |= MSG_DONTWAIT ?? 0; // non-blocking for this call only, as a C program would write it
          if (MSG_DONTWAIT === undefined) lab.nonBlocking(s);
          r = lab.attempt(() => S.recv(s.h, buf, n, flags));
        } else {
          // Urgent data never blocks: recv(MSG_OOB) returns EINVAL at once when there is none, and says nothing.
          r = await lab.wait(fd, 'in', 'in', `recv(${fd})`, (signal) => A.recv(s.h, buf, n, flags, { signal }));
        }
        if ('f' in r) {
          lab.report(calls.recv(fd, null, n, flags), r.f, 'recv', r.interrupted);
          return;
        }
        lab.report(calls.recv(fd, buf.subarray(0, Math.min(r.v, n)), n, flags), { rc: r.v }, 'recv');
        if (r.v === 0 && s.kind === 'tcp') lab.out(m.eof);
      },
    },
    recvfrom: {
      usage: 'recvfrom ID [N] [-nb]',
      help: {
        en: 'recvfrom(2): one datagram and its sender (then ${from} is "HOST PORT" of the sender)',
        fr: "recvfrom(2) : un datagramme et son émetteur (ensuite ${from} vaut \"HÔTE PORT\" de l'émetteur)",
      },
      args: ['id', 'n'],
      flags: ['-nb'],
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.recvfrom.usage);
        lab.noMore(c, 2, specs.recvfrom.usage);
        const n = lab.number(c.w[1], 'N', 1, MAX_READ, READ_SIZE);
        const buf = Buffer.alloc(n);
        let flags = 0;
        const fd = s.h.fd;
        let r: Try<S.Received> & { interrupted?: boolean };
        if (c.flags.has('-nb')) {
          flags |= MSG_DONTWAIT ?? 0;
          if (MSG_DONTWAIT === undefined) lab.nonBlocking(s);
          r = lab.attempt(() => S.recvfrom(s.h, buf, n, flags));
        } else {
          r = await lab.wait(fd, 'in', 'in', `recvfrom(${fd})`, (signal) => A.recvfrom(s.h, buf, n, flags, { signal }));
        }
        if ('f' in r) {
          lab.report(calls.recvfrom(fd, null, n, flags, null), r.f, 'recvfrom', r.interrupted);
          return;
        }
        const from = r.v.address && 'port' in r.v.address ? (r.v.address as Endpoint) : null;
        lab.report(calls.recvfrom(fd, buf.subarray(0, Math.min(r.v.n, n)), n, flags, from), { rc: r.v.n }, 'recvfrom');
        if (from) {
          lab.vars.set('from', `${from.address} ${from.port}`);
          lab.vars.set('from_host', from.address);
          lab.vars.set('from_port', String(from.port));
        }
        if (r.v.n === 0 && s.kind === 'tcp') lab.out(m.eof);
      },
    },
    write: {
      usage: 'write ID TEXT [-nb]',
      help: {
        en: 'write(2): TEXT (C escapes: \\n \\r \\t \\0 \\xHH; quote it to keep spaces or #)',
        fr: 'write(2) : TEXTE (échappements C : \\n \\r \\t \\0 \\xHH ; entre guillemets pour garder espaces ou #)',
      },
      args: ['id', 'text'],
      flags: ['-nb'],
      textAt: 1,
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.write.usage);
        const data = lab.needText(c);
        const fd = s.h.fd;
        if (c.flags.has('-nb')) {
          lab.nonBlocking(s);
          const r = lab.attempt(() => S.write(s.h, data));
          lab.report(calls.write(fd, data), 'f' in r ? r.f : { rc: r.v }, 'write');
          return;
        }
        // A blocking write(2) on a stream returns once everything is in the send buffer: writeAll.
        const r = await lab.wait(fd, 'out', 'out', `write(${fd})`, (signal) => A.writeAll(s.h, data, { signal }));
        lab.afterWrite(calls.write(fd, data), r, data.length, 'write');
      },
    },
    send: {
      usage: 'send ID TEXT [-oob] [-nb]',
      help: {
        en: 'send(2): like write, with -oob (MSG_OOB: one urgent byte)',
        fr: 'send(2) : comme write, avec -oob (MSG_OOB : un octet urgent)',
      },
      args: ['id', 'text'],
      flags: ['-oob', '-nb'],
      textAt: 1,
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.send.usage);
        const data = lab.needText(c);
        let flags = c.flags.has('-oob') ? MSG_OOB : 0;
        const fd = s.h.fd;
        if (c.flags.has('-nb')) {
          flags |= MSG_DONTWAIT ?? 0;
          if (MSG_DONTWAIT === undefined) lab.nonBlocking(s);
          const r = lab.attempt(() => S.send(s.h, data, undefined, flags));
          lab.report(calls.send(fd, data, flags), 'f' in r ? r.f : { rc: r.v }, 'send');
          return;
        }
        const r = await lab.wait(fd, 'out', 'out', `send(${fd})`, async (signal) => {
          if (s.kind !== 'tcp') return A.send(s.h, data, undefined, flags, { signal });
          let done = 0;
          while (done < data.length) {
            try {
              done += await A.send(s.h, data.subarray(done), undefined, flags, { signal });
            } catch (e) {
              throw Object.assign(e as Error, { bytesWritten: done });
            }
          }
          return done;
        });
        lab.afterWrite(calls.send(fd, data, flags), r, data.length, 'send');
      },
    },
    sendto: {
      usage: 'sendto ID HOST PORT TEXT [-nb]',
      help: {
        en: 'sendto(2): one datagram to HOST PORT',
        fr: 'sendto(2) : un datagramme vers HÔTE PORT',
      },
      args: ['id', 'host', 'port', 'text'],
      flags: ['-nb'],
      textAt: 3,
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.sendto.usage);
        const to = lab.endpoint(c.w[1], c.w[2], s, specs.sendto.usage);
        await lab.sendTo(s, to, lab.needText(c), c.flags.has('-nb'));
      },
    },
    broadcast: {
      usage: 'broadcast ID [ADDR] PORT TEXT [-nb]',
      help: {
        en: 'sendto(2) to a broadcast address (default 255.255.255.255): needs SO_BROADCAST',
        fr: 'sendto(2) vers une adresse de diffusion (255.255.255.255 par défaut) : il faut SO_BROADCAST',
      },
      args: ['id', 'addr', 'port', 'text'],
      flags: ['-nb'],
      // broadcast ID ADDR PORT TEXT, or broadcast ID PORT TEXT to INADDR_BROADCAST.
      textAt: (rest) => (rest[1] !== undefined && isIP(rest[1].value) === 4 ? 3 : 2),
      run: async (c) => {
        const s = lab.sock(c.w[0], specs.broadcast.usage);
        if (s.domain !== AF_INET) throw new UsageError(m.notFor('broadcast', 'IPv6'));
        const [hostW, portW] = c.w.length === 3 ? [c.w[1], c.w[2]] : [{ value: '255.255.255.255' } as Word, c.w[1]];
        const to = lab.endpoint(hostW, portW, s, specs.broadcast.usage);
        await lab.sendTo(s, to, lab.needText(c), c.flags.has('-nb'));
      },
    },
  };
  return specs;
}
