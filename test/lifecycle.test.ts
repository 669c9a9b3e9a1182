// Heavy use leaves nothing behind: after many connections, datagrams, socketpairs and failures, the
// process has exactly the descriptors it started with.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
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

describe('Workers: what a Worker owned goes with it', () => {
  it('closes the descriptors a terminated Worker\'s handles still owned, pending async reads or not; released ones stay open', () => {
    const out = execFileSync(process.execPath, ['-e', `
      const { Worker } = require('node:worker_threads');
      const { readdirSync } = require('node:fs');
      const b = require('berkeley-sockets');
      const count = () => readdirSync('/proc/self/fd').length;
      const code = "const wt = require('node:worker_threads'); const b = require('berkeley-sockets');" +
        "const p = require('berkeley-sockets/promises'); const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);" +
        "if (wt.workerData.pending) p.read(x, Buffer.alloc(4));" +
        "const released = b.socket(b.AF_INET, b.SOCK_DGRAM, 0).release(); wt.parentPort.postMessage(released);" +
        "setInterval(() => {}, 1000);";
      (async () => {
        // A first Worker leaves Node's own descriptors for Worker support open: count from after one.
        const warm = new Worker("require('berkeley-sockets'); require('berkeley-sockets/promises');", { eval: true });
        await new Promise((resolve) => warm.once('exit', resolve));
        const before = count();
        const released = [];
        for (let i = 0; i < 10; i++) {
          const w = new Worker(code, { eval: true, workerData: { pending: i % 2 === 0 } });
          released.push(await new Promise((resolve) => w.once('message', resolve)));
          await w.terminate();
        }
        const afterTerminate = count() - before;
        for (const n of released) b.close(n);
        console.log(JSON.stringify({ afterTerminate, afterClosingReleased: count() - before }));
      })();`], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 });
    // Each Worker's socketpair is closed with it; its released socket is the caller's to close.
    expect(JSON.parse(out)).toEqual({ afterTerminate: 10, afterClosingReleased: 0 });
  });
});

describe('Workers blocked in a synchronous call', () => {
  /** Runs `main` in a child Node (the library loaded), and returns its stdout; the child must end by itself. */
  function child(main: string): string {
    return execFileSync(process.execPath, ['-e', `
      const { Worker } = require('node:worker_threads');
      const b = require('berkeley-sockets');
      const blocked = (call) => new Worker(
        "const b = require('berkeley-sockets'); const wt = require('node:worker_threads');" +
        "const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);" +
        "const srv = b.socket(b.AF_INET, b.SOCK_STREAM, 0); b.bind(srv, { family: b.AF_INET, address: '127.0.0.1', port: 0 }); b.listen(srv, 1);" +
        "wt.parentPort.postMessage('blocking'); " + call, { eval: true });
      const ready = (w) => new Promise((resolve) => w.once('message', () => setTimeout(resolve, 100)));
      ${main}`], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 15_000 });
  }

  it('ends with worker.terminate(), whether blocked in read, accept, poll or writeAll', () => {
    const out = child(`
      (async () => {
        for (const call of ['b.read(x, Buffer.alloc(8))', 'b.accept(srv)', 'b.poll([{ fd: x, events: b.POLLIN }], -1)', 'b.writeAll(x, Buffer.alloc(1 << 24))']) {
          const w = blocked(call);
          await ready(w);
          const t = Date.now();
          await w.terminate();
          console.log(call.split('(')[0], Date.now() - t < 2000 ? 'terminated' : 'slow');
        }
      })();`);
    expect(out.trim().split('\n')).toEqual(['b.read terminated', 'b.accept terminated', 'b.poll terminated', 'b.writeAll terminated']);
  });

  it('lets process.exit() end the process while a Worker blocks in read', () => {
    const out = child(`
      const w = blocked('b.read(x, Buffer.alloc(8))');
      ready(w).then(() => { console.log('exiting'); process.exit(0); });`);
    expect(out.trim()).toBe('exiting');
  });
});
