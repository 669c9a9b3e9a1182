// berkeley-sockets/promises: the same calls, never blocking the event loop.
import { once } from 'node:events';
import { closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_UNIX, MSG_TRUNC, POLLIN, POLLOUT, type RightsMessage, SCM_RIGHTS, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, type SocketHandle,
  bind, close, getNonBlocking, getsockname, listen, read as readSync, sendmsg, socket, socketpair, write as writeSync,
} from '../src/index';
import * as p from '../src/promises';
import { fdCount, tcpListener, trackHandles } from './helpers';

const track = trackHandles();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loopback = (port: number) => ({ family: AF_INET, address: '127.0.0.1', port });

describe('promises: the event loop keeps running', () => {
  it('ticks while 5 accepts, 5 reads and a poll are pending, then all of them complete', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const { srv, port } = tcpListener();
      track(srv);
      const accepts = Array.from({ length: 5 }, () => p.accept(srv));
      const pairs = Array.from({ length: 5 }, () => socketpair(AF_UNIX, SOCK_STREAM, 0).map(track));
      const reads = pairs.map(([a]) => p.read(a, Buffer.alloc(16)));
      const [pa, pb] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
      const polled = p.poll([{ fd: pa, events: POLLIN }]);
      await sleep(100);
      expect(ticks).toBeGreaterThanOrEqual(5); // timers ran while every call waited
      const clients = Array.from({ length: 5 }, () => track(socket(AF_INET, SOCK_STREAM, 0)));
      await Promise.all(clients.map((c) => p.connect(c, loopback(port))));
      pairs.forEach(([, b], i) => writeSync(b, `r${i}`));
      writeSync(pb, 'x');
      const accepted = await Promise.all(accepts);
      accepted.forEach((a) => track(a.fd));
      expect(accepted.map((a) => a.address.port).sort()).toEqual(clients.map((c) => getsockname(c).port).sort());
      expect(await Promise.all(reads)).toEqual([2, 2, 2, 2, 2]);
      expect(await polled).toBe(1);
    } finally {
      clearInterval(timer);
    }
  });

  it('keeps fs working with more pending reads than threadpool threads', async () => {
    const pairs = Array.from({ length: 16 }, () => socketpair(AF_UNIX, SOCK_STREAM, 0).map(track));
    const reads = pairs.map(([a]) => p.read(a, Buffer.alloc(8)));
    const text = await Promise.race([readFile(__filename, 'utf8'), sleep(5000).then(() => 'threadpool starved')]);
    expect(text).toContain('threadpool');
    expect(text.length).toBeGreaterThan(1000);
    pairs.forEach(([, b]) => writeSync(b, 'ok'));
    expect(await Promise.all(reads)).toEqual(Array(16).fill(2));
  });
});

describe('promises: an echo server', () => {
  it('echoes 64 KiB on each of 2,000 concurrent connections, every byte verified, no descriptor left', async () => {
    const before = fdCount();
    const srv = socket(AF_INET, SOCK_STREAM, 0);
    bind(srv, loopback(0));
    listen(srv, 4096);
    const { port } = getsockname(srv);
    const N = 2000;
    const SIZE = 64 * 1024;
    const server = (async () => {
      const served: Promise<void>[] = [];
      for await (const { fd } of p.connections(srv)) {
        served.push((async () => {
          try {
            for await (const chunk of p.chunks(fd)) await p.writeAll(fd, chunk);
          } finally {
            close(fd);
          }
        })());
        if (served.length === N) break;
      }
      await Promise.all(served);
    })();
    const client = async (i: number) => {
      const fd = socket(AF_INET, SOCK_STREAM, 0);
      try {
        await p.connect(fd, loopback(port));
        const data = Buffer.alloc(SIZE, i % 251);
        data.writeUInt32BE(i, 0);
        const back = Buffer.alloc(SIZE);
        const [, got] = await Promise.all([p.writeAll(fd, data), p.readExactly(fd, back)]);
        expect(got).toBe(SIZE);
        return back.equals(data);
      } finally {
        close(fd);
      }
    };
    const results = await Promise.all(Array.from({ length: N }, (_, i) => client(i)));
    await server;
    close(srv);
    expect(results.filter(Boolean).length).toBe(N);
    expect(fdCount()).toBe(before);
  }, 60_000);
});

describe('promises: abort, timeout and close', () => {
  it('rejects a pending accept with AbortError and leaves the listener usable', async () => {
    const { srv, port } = tcpListener();
    track(srv);
    const ac = new AbortController();
    const pending = p.accept(srv, { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    await p.connect(cli, loopback(port));
    const { fd } = await p.accept(srv, { timeout: 5000 });
    track(fd);
    expect(getsockname(cli).port).toBeGreaterThan(0);
  });

  it('times out a read with ETIMEDOUT and then reads what arrives later', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    const buf = Buffer.alloc(16);
    await expect(p.read(a, buf, undefined, { timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'read' });
    writeSync(b, 'late');
    expect(await p.read(a, buf, undefined, { timeout: 5000 })).toBe(4);
    expect(buf.toString('utf8', 0, 4)).toBe('late');
  });

  it('aborts and times out a connect to a listener whose backlog is full', async () => {
    const srv = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(srv, loopback(0));
    listen(srv, 0); // Linux queues backlog + 1 = 1 connection, then drops SYNs
    const port = getsockname(srv).port;
    // Fill the queue: the first connections complete, and then one stays in SYN_SENT.
    let stuck: SocketHandle | undefined;
    for (let i = 0; i < 8 && !stuck; i++) {
      const c = track(socket(AF_INET, SOCK_STREAM, 0));
      const r = await p.connect(c, loopback(port), { timeout: 300 }).then(() => 'ok', (e: { code: string }) => e.code);
      if (r === 'ETIMEDOUT') stuck = c;
      else expect(r).toBe('ok');
    }
    expect(stuck).toBeDefined();
    const c = track(socket(AF_INET, SOCK_STREAM, 0));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    await expect(p.connect(c, loopback(port), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects pending calls when the socket is closed, and frees its watcher', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    const r1 = p.read(a, Buffer.alloc(4));
    const r2 = p.recv(a, Buffer.alloc(4));
    close(a);
    await expect(r1).rejects.toMatchObject({ code: 'ERR_SOCKET_CLOSED', syscall: 'read' });
    await expect(r2).rejects.toMatchObject({ code: 'ERR_SOCKET_CLOSED', syscall: 'recv' });
    await expect(p.read(a, Buffer.alloc(4))).rejects.toMatchObject({ code: 'EBADF' });
    // The number may be reused at once; a new socket on it works normally.
    const [c, d] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    writeSync(d, 'hi');
    expect(await p.read(c, Buffer.alloc(4))).toBe(2);
    expect(b.closed).toBe(false);
  });

  it('does not keep the process alive with an unref\'d pending accept', async () => {
    const code = `
      const b = require('berkeley-sockets'); const p = require('berkeley-sockets/promises');
      const s = b.socket(b.AF_INET, b.SOCK_STREAM, 0); b.bind(s, { family: b.AF_INET, address: '127.0.0.1', port: 0 }); b.listen(s);
      p.accept(s).then(() => process.exit(3)); p.unref(s);
      setTimeout(() => console.log('timer ran'), 10);`;
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['-e', code], { cwd: __dirname + '/..', encoding: 'utf8', timeout: 10_000 });
    expect(out.trim()).toBe('timer ran');
  });
});

describe('promises: calls the kernel refuses at once', () => {
  it('fails a read or recv on a listening socket with ENOTCONN, as read(2) does, even after an accept had to wait', async () => {
    const { srv } = tcpListener();
    track(srv);
    // An accept with no client waits for readability; the reads after it must not wait for the same.
    const ac = new AbortController();
    const waiting = p.accept(srv, { signal: ac.signal }).catch((e: Error) => e);
    await sleep(20);
    ac.abort();
    expect(await waiting).toMatchObject({ name: 'AbortError' });
    for (let i = 0; i < 9; i++) {
      await expect(p.read(srv, Buffer.alloc(8), undefined, { timeout: 2000 })).rejects.toMatchObject({ code: 'ENOTCONN', syscall: 'read' });
    }
    await expect(p.recv(srv, Buffer.alloc(8), undefined, 0, { timeout: 2000 })).rejects.toMatchObject({ code: 'ENOTCONN', syscall: 'recv' });
    // And the listener still accepts.
    const c = track(socket(AF_INET, SOCK_STREAM, 0));
    const accepted = p.accept(srv, { timeout: 2000 });
    await p.connect(c, loopback(getsockname(srv).port));
    track((await accepted).fd);
  });
});

describe('promises: a number closed behind the library\'s back', () => {
  it('never blocks the event loop when the kernel gives a watched number to a new socket', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0);
    track(b);
    const n = a.release();
    writeSync(b, 'x');
    expect(await p.read(n, Buffer.alloc(1))).toBe(1); // n is now watched
    closeSync(n); // closed by another owner: the library is not told
    const [x, y] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    expect(x.fd).toBe(n);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      // Nothing to read: the read must wait for data without holding the loop (timers tick), then time out.
      await expect(p.read(x, Buffer.alloc(1), undefined, { timeout: 300 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(ticks).toBeGreaterThanOrEqual(5);
      expect(getNonBlocking(x)).toBe(true);
      // And it still reads what arrives.
      setTimeout(() => writeSync(y, 'late'), 20);
      const buf = Buffer.alloc(8);
      expect(buf.toString('utf8', 0, await p.read(x, buf, undefined, { timeout: 2000 }))).toBe('late');
    } finally {
      clearInterval(timer);
    }
  });
});

describe('promises: datagrams and poll', () => {
  it('iterates datagrams with their senders', async () => {
    const { udpSocket } = await import('./helpers');
    const a = udpSocket();
    const b = udpSocket();
    track(a.fd);
    track(b.fd);
    const it = p.datagrams(b.fd, 64);
    for (let i = 0; i < 3; i++) await p.sendto(a.fd, `dgram ${i}`, loopback(b.port));
    for (let i = 0; i < 3; i++) {
      const { value } = await it.next();
      expect(value!.data.toString()).toBe(`dgram ${i}`);
      expect(value!.address).toMatchObject({ address: '127.0.0.1', port: a.port });
    }
    await it.return(undefined);
  });

  it('recvmsg waits for a message and resolves as the sync call returns it: descriptors owned, flags, and abort', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM, 0).map(track);
    const [x, y] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    const buf = Buffer.alloc(16);
    const pending = p.recvmsg(b, { iov: buf });
    await sleep(20); // it waits: nothing was sent
    sendmsg(a, { iov: 'fd', control: [{ level: SOL_SOCKET, type: SCM_RIGHTS!, fds: [x] }] });
    const m = await pending;
    expect(m).toMatchObject({ n: 2, flags: 0, truncated: false, controlTruncated: false });
    expect(buf.toString('latin1', 0, m.n)).toBe('fd');
    const [passed] = (m.control[0] as RightsMessage).fds.map(track);
    writeSync(passed, 'via the passed descriptor');
    expect(readSync(y, Buffer.alloc(64))).toBe(25);
    // MSG_TRUNC: a datagram longer than the buffer reports its real length.
    sendmsg(a, { iov: 'a longer datagram' });
    expect(await p.recvmsg(b, { iov: Buffer.alloc(4), flags: MSG_TRUNC })).toMatchObject({ n: 17, truncated: true });
    const ac = new AbortController();
    const aborted = p.recvmsg(b, { iov: buf }, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(p.recvmsg(b, { iov: buf }, { timeout: 10 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'recvmsg' });
    await expect(p.recvmsg(b, null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('resolves poll with revents for the ready descriptor, and 0 on timeout', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    const fds = [{ fd: a, events: POLLIN }, { fd: b, events: POLLIN }];
    expect(await p.poll(fds, 20)).toBe(0);
    const pending = p.poll(fds, 5000);
    writeSync(a, 'x'); // makes b readable
    expect(await pending).toBe(1);
    expect(fds[0].revents).toBe(0);
    expect(fds[1].revents! & POLLIN).toBeTruthy();
    expect(await p.poll([{ fd: a, events: POLLOUT }], 1000)).toBe(1);
  });

  it('makes a descriptor non-blocking once the async API has used it', async () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM, 0).map(track);
    expect(getNonBlocking(a)).toBe(false);
    writeSync(b, 'x');
    await p.read(a, Buffer.alloc(1));
    expect(getNonBlocking(a)).toBe(true);
    expect(() => readSync(a, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
  });
});

describe('promises: descriptors it must not watch', () => {
  it('refuses a descriptor that is not a socket (ENOTSOCK), without changing it', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const f = openSync(__filename, 'r');
    try {
      await expect(p.read(f, Buffer.alloc(4))).rejects.toMatchObject({ code: 'ENOTSOCK', syscall: 'getsockopt' });
    } finally {
      closeSync(f);
    }
  });

  it('refuses a socket Node itself watches (EEXIST), and that socket keeps working', async () => {
    const net = await import('node:net');
    const { fdOf } = await import('../src/index');
    const server = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(client, 'connect');
    try {
      await expect(p.read(fdOf(client), Buffer.alloc(4))).rejects.toMatchObject({ code: 'EEXIST', syscall: 'epoll_ctl' });
      client.write('still alive');
      const [echo] = await once(client, 'data');
      expect(String(echo)).toBe('still alive');
    } finally {
      client.destroy();
      server.close();
    }
  });
});

describe('workers', () => {
  it('tears down a Worker with pending async calls cleanly (its watchers close with its environment)', async () => {
    const { srv } = tcpListener();
    track(srv);
    for (let round = 0; round < 3; round++) {
      const worker = new Worker(`
        const b = require('berkeley-sockets'); const p = require('berkeley-sockets/promises');
        const { workerData, parentPort } = require('node:worker_threads');
        const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);
        p.read(x, Buffer.alloc(8));                      // pending forever
        p.accept(workerData.fd);                          // pending on the main thread's listener
        parentPort.postMessage('waiting');`, { eval: true, workerData: { fd: srv.fd } });
      const [msg] = await once(worker, 'message');
      expect(msg).toBe('waiting');
      expect(await worker.terminate()).toBe(1); // terminated, not crashed
    }
    // The process survived three teardowns, and the listener still works here.
    const c = track(socket(AF_INET, SOCK_STREAM, 0));
    await p.connect(c, loopback(getsockname(srv).port));
    track((await p.accept(srv, { timeout: 5000 })).fd);
  });
});

describe('thread per client', () => {
  it('serves a client from a Worker with the sync API while the main thread keeps accepting', async () => {
    const one = tcpListener();
    const two = tcpListener();
    track(one.srv);
    track(two.srv);
    const worker = new Worker(`
      const b = require('berkeley-sockets');
      const { workerData, parentPort } = require('node:worker_threads');
      const { fd } = b.accept(workerData.fd);           // blocks this thread only
      const buf = Buffer.alloc(64);
      const n = b.read(fd, buf);
      b.writeAll(fd, 'worker says ' + buf.toString('utf8', 0, n));
      b.close(fd);
      parentPort.postMessage('served');`, { eval: true, workerData: { fd: one.srv.fd } });
    const served = new Promise((resolve, reject) => { worker.on('message', resolve); worker.on('error', reject); });
    // Meanwhile the main thread accepts on the other listener without blocking.
    const accepted = p.accept(two.srv, { timeout: 10_000 });
    const c2 = track(socket(AF_INET, SOCK_STREAM, 0));
    await p.connect(c2, loopback(two.port));
    track((await accepted).fd);
    const c1 = track(socket(AF_INET, SOCK_STREAM, 0));
    await p.connect(c1, loopback(one.port));
    await p.writeAll(c1, 'hello');
    const buf = Buffer.alloc(64);
    const n = await p.readExactly(c1, buf, 17, { timeout: 10_000 });
    expect(buf.toString('utf8', 0, n)).toBe('worker says hello');
    expect(await served).toBe('served');
    await worker.terminate();
  });
});
