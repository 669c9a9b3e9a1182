// Heavy use leaves nothing behind: after many connections, datagrams, socketpairs and failures, the
// process has exactly the descriptors it started with.
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_LINGER, accept, bind, close, connect, read, recvfrom,
  sendto, setsockopt, socket, socketpair, write,
} from '../src/index';
import { fdCount, openFds, tcpListener, udpSocket } from './helpers';

// Close with SO_LINGER {on, 0}: an RST instead of TIME_WAIT, so thousands of cycles do not exhaust
// ephemeral ports (struct linger is two C ints).
const abortive = Buffer.alloc(8);
abortive.writeInt32LE(1, 0);

describe('descriptor lifecycle', () => {
  it('returns to the baseline descriptor count after 1,000 TCP connect/accept/close cycles', () => {
    const before = openFds();
    const { srv, port } = tcpListener(128);
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 1000; i++) {
      const cli = socket(AF_INET, SOCK_STREAM, 0);
      connect(cli, { family: AF_INET, address: '127.0.0.1', port });
      const { fd: conn } = accept(srv);
      write(cli, 'ping');
      expect(read(conn, buf)).toBe(4);
      setsockopt(cli, SOL_SOCKET, SO_LINGER, abortive);
      close(cli);
      close(conn);
    }
    close(srv);
    expect(openFds()).toEqual(before);
  });

  it('returns to the baseline after 1,000 UDP datagrams and 1,000 socketpairs', () => {
    const before = fdCount();
    const a = udpSocket();
    const b = udpSocket();
    const buf = Buffer.alloc(16);
    for (let i = 0; i < 1000; i++) {
      sendto(a.fd, `d${i}`, { family: AF_INET, address: '127.0.0.1', port: b.port });
      const r = recvfrom(b.fd, buf);
      expect(buf.toString('utf8', 0, r.n)).toBe(`d${i}`);
    }
    close(a.fd);
    close(b.fd);
    for (let i = 0; i < 1000; i++) {
      const [x, y] = socketpair(AF_UNIX, i % 2 ? SOCK_STREAM : SOCK_DGRAM, 0);
      close(x);
      close(y);
    }
    expect(fdCount()).toBe(before);
  });

  it('leaks nothing when calls fail: refused connects, taken ports, bad arguments', () => {
    const before = fdCount();
    const { srv, port } = tcpListener();
    close(srv); // nobody listens on `port` any more
    for (let i = 0; i < 300; i++) {
      const s = socket(AF_INET, SOCK_STREAM, 0);
      try {
        expect(() => connect(s, { family: AF_INET, address: '127.0.0.1', port })).toThrow(/ECONNREFUSED/);
        expect(() => bind(s, { family: AF_INET, address: 'not an address', port: 0 })).toThrow(TypeError);
      } finally {
        close(s);
      }
      expect(() => socket(-1, SOCK_STREAM, 0)).toThrow(/EAFNOSUPPORT|EINVAL/);
    }
    expect(fdCount()).toBe(before);
  });
});
