// select(2) and poll(2), synchronous: sockets, a pipe (FIFO), timeouts, and the FD_SETSIZE guard.
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_UNIX, FD_CLR, FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, FdSet, POLLHUP, POLLIN, POLLOUT, SOCK_DGRAM, SOCK_STREAM,
  type SocketHandle, close, poll, read, select, shutdown, socket, socketpair, write, SHUT_WR, AF_INET,
} from '../src/index';

const opened: SocketHandle[] = [];
const pair = (type = SOCK_STREAM) => {
  const p = socketpair(AF_UNIX, type, 0);
  opened.push(...p);
  return p;
};
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
});

describe('select, C form', () => {
  it('reports the readable socket and clears the others from the set, as the course\'s talk loop expects', () => {
    const [a, b] = pair();
    const [c, d] = pair();
    write(b, 'hello');
    const rfds = new FdSet();
    FD_ZERO(rfds);
    FD_SET(a, rfds);
    FD_SET(c, rfds);
    const nfds = Math.max(a.fd, c.fd) + 1;
    expect(select(nfds, rfds, null, null, null)).toBe(1);
    expect(FD_ISSET(a, rfds)).toBe(true);
    expect(FD_ISSET(c, rfds)).toBe(false);
    const buf = Buffer.alloc(8);
    expect(read(a, buf)).toBe(5);
    FD_CLR(a, rfds);
    expect(FD_ISSET(a, rfds)).toBe(false);
    expect(d.closed).toBe(false);
  });

  it('returns 0 after the timeout when nothing is ready, with ms or a timeval', () => {
    const [a] = pair();
    const rfds = new FdSet();
    FD_SET(a, rfds);
    const t0 = process.hrtime.bigint();
    expect(select(a.fd + 1, rfds, null, null, { tv_sec: 0, tv_usec: 50_000 })).toBe(0);
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeGreaterThanOrEqual(45); // it did wait
    expect(rfds.fds).toEqual([]);
    FD_SET(a, rfds);
    expect(select(a.fd + 1, rfds, null, null, 0)).toBe(0);
  });

  it('ignores descriptors at or above nfds, like the kernel', () => {
    const [a, b] = pair();
    write(b, 'x');
    const rfds = new FdSet();
    FD_SET(a, rfds);
    expect(select(a.fd, rfds, null, null, 0)).toBe(0);
  });

  it('refuses a descriptor >= FD_SETSIZE with a RangeError instead of writing past the fd_set', () => {
    const set = new FdSet();
    expect(() => FD_SET(FD_SETSIZE, set)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => select([FD_SETSIZE + 5], [], [], 0)).toThrow(RangeError);
    expect(() => select(FD_SETSIZE + 1, set, null, null, 0)).toThrow(RangeError);
  });
});

describe('select, list form', () => {
  it('returns the ready subsets of handles and numbers', () => {
    const [a, b] = pair();
    const [c] = pair();
    write(b, 'x');
    const r = select([a, c.fd], [b], [], 0);
    expect(r.readable).toEqual([a]);
    expect(r.writable).toEqual([b]);
    expect(r.exceptional).toEqual([]);
  });

  it('sees end of file as readable', () => {
    const [a, b] = pair();
    shutdown(b, SHUT_WR);
    expect(select([a], [], [], 1000).readable).toEqual([a]);
    expect(read(a, Buffer.alloc(4))).toBe(0);
  });

  it('works on a pipe (a FIFO), not only on sockets', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-fifo-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR on a FIFO opens at once on Linux: we are both its reader and its writer.
    const fd = openSync(fifo, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    try {
      expect(select([fd], [], [], 0).readable).toEqual([]);
      writeSync(fd, 'ping');
      expect(select([fd], [], [], 1000).readable).toEqual([fd]);
      const fds = [{ fd, events: POLLIN | POLLOUT }];
      expect(poll(fds, 0)).toBe(1);
      expect(fds[0].revents! & POLLIN).toBeTruthy();
      expect(fds[0].revents! & POLLOUT).toBeTruthy();
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('poll', () => {
  it('fills revents: POLLIN for data, POLLOUT for room, POLLHUP when the peer is gone', () => {
    const [a, b] = pair();
    const fds = [{ fd: a, events: POLLIN }, { fd: b, events: POLLOUT }];
    expect(poll(fds, 0)).toBe(1);
    expect(fds[0].revents).toBe(0);
    expect(fds[1].revents).toBe(POLLOUT);
    write(b, 'x');
    expect(poll(fds, 0)).toBe(2);
    expect(fds[0].revents).toBe(POLLIN);
    close(b);
    const hup = [{ fd: a, events: POLLIN }];
    expect(poll(hup, 1000)).toBe(1);
    expect(hup[0].revents! & POLLHUP).toBeTruthy();
  });

  it('handles descriptors beyond FD_SETSIZE, which select cannot', () => {
    const many: SocketHandle[] = [];
    try {
      let high: SocketHandle | undefined;
      for (let i = 0; i < FD_SETSIZE + 16 && !high; i++) {
        const s = socket(AF_INET, SOCK_DGRAM, 0);
        many.push(s);
        if (s.fd >= FD_SETSIZE) high = s;
      }
      expect(high).toBeDefined();
      const fds = [{ fd: high!, events: POLLOUT }];
      expect(poll(fds, 0)).toBe(1);
      expect(() => select([], [high!], [], 0)).toThrow(RangeError);
    } finally {
      for (const s of many) s.close();
    }
  });

  it('returns 0 on timeout with nothing ready, and rejects a closed handle with EBADF', () => {
    const [a] = pair(SOCK_DGRAM);
    expect(poll([{ fd: a, events: POLLIN }], 20)).toBe(0);
    const [x] = pair();
    x.close();
    expect(() => poll([{ fd: x, events: POLLIN }], 0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
