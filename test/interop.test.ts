// Interop with Node's own sockets: options on sockets Node created, and sockets made here served by Node.
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_REUSEPORT, TCP_NODELAY, bind, fdOf, getKeepAlive,
  getsockname, getsockopt, listen, setKeepAlive, setsockopt, socket, toNetServer, toNetSocket,
} from '../src/index';

describe('fdOf: options on sockets Node created', () => {
  it('sets keepalive timers on a net.Socket, which getKeepAlive reads back', async () => {
    const server = net.createServer((s) => s.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      setKeepAlive(fdOf(client), { idle: 13, interval: 4, count: 6 });
      expect(getKeepAlive(fdOf(client))).toMatchObject({ enable: true, idle: 13, interval: 4, count: 6 });
      expect(getsockname(fdOf(client)).port).toBe(client.localPort);
      expect(getsockname(fdOf(server)).port).toBe(port);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('reads options of a dgram.Socket', async () => {
    const u = dgram.createSocket('udp4');
    u.bind(0, '127.0.0.1');
    await once(u, 'listening');
    try {
      setsockopt(fdOf(u), SOL_SOCKET, SO_RCVBUF, 65536);
      expect(getsockopt(fdOf(u), SOL_SOCKET, SO_RCVBUF)).toBe(131072);
      expect(getsockname(fdOf(u)).port).toBe(u.address().port);
    } finally {
      u.close();
    }
  });

  it('refuses what is not a Node socket, or one with no descriptor yet', () => {
    expect(() => fdOf({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => fdOf(new net.Socket())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('toNetServer / toNetSocket: sockets configured here, served by Node', () => {
  it('serves HTTP to http.get from two SO_REUSEPORT sockets on one port', async () => {
    const a = socket(AF_INET, SOCK_STREAM, 0);
    const b = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(a, SOL_SOCKET, SO_REUSEPORT!, 1);
    setsockopt(b, SOL_SOCKET, SO_REUSEPORT!, 1);
    bind(a, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const port = getsockname(a).port;
    bind(b, { family: AF_INET, address: '127.0.0.1', port }); // the same port: SO_REUSEPORT
    listen(a, 64);
    listen(b, 64);
    const servers = [a, b].map((fd, i) => toNetServer(fd, http.createServer((_, res) => res.end(`server ${i}`))));
    expect(a.closed && b.closed).toBe(true); // ownership went to Node
    try {
      const bodies = new Set<string>();
      for (let i = 0; i < 40 && bodies.size < 2; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
            let data = '';
            res.setEncoding('utf8').on('data', (d) => (data += d)).on('end', () => resolve(data));
          }).on('error', reject);
        });
        bodies.add(body);
      }
      expect([...bodies].sort()).toEqual(['server 0', 'server 1']); // the kernel spread the connections
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });

  it('turns a socket configured before connect into a net.Socket that connects and talks', async () => {
    const server = net.createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 8192); // before connect: what Node cannot do
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    const raw = fd.fd;
    const inode = readlinkSync(`/proc/self/fd/${raw}`);
    const sock = toNetSocket(fd);
    sock.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(sock, 'connect');
    expect(fdOf(sock)).toBe(raw);
    expect(getsockopt(fdOf(sock), SOL_SOCKET, SO_RCVBUF)).toBe(16384);
    sock.write('round trip');
    const [echo] = await once(sock, 'data');
    expect(String(echo)).toBe('round trip');
    sock.destroy();
    await once(sock, 'close');
    await new Promise((r) => server.close(r));
    // Node closed the descriptor it was given: that socket is gone from this process.
    const now = (() => {
      try {
        return readlinkSync(`/proc/self/fd/${raw}`);
      } catch {
        return 'closed';
      }
    })();
    expect(now).not.toBe(inode);
  });
});
