// Close-on-exec: no socket leaks into a child process by accident, and one handed over explicitly
// (child_process stdio) keeps working after the parent closes its copy.
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, bind, close, getCloseOnExec, listen, read, setCloseOnExec,
  setsockopt, socket, write, ATOMIC_CLOEXEC,
} from '../src/index';
import { tcpPair } from './helpers';

/** The kernel object behind a descriptor of this process: 'socket:[1234]'. */
function inode(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

/** The kernel objects a freshly exec'd child process holds open, by the child's own account. */
function childFdTargets(extraStdio: number[] = []): string[] {
  const code = `const fs=require('fs');const out=[];for(const n of fs.readdirSync('/proc/self/fd')){try{out.push(fs.readlinkSync('/proc/self/fd/'+n))}catch{}}process.stdout.write(JSON.stringify(out))`;
  const r = spawnSync(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit', ...extraStdio], encoding: 'utf8' });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

/** A receive timeout so a test can never hang on a blocking read (struct timeval, 64-bit Linux). */
function recvTimeout(fd: Parameters<typeof setsockopt>[0], seconds: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(seconds), 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);
}

describe('close-on-exec', () => {
  it('creates sockets, accepted connections and socketpairs close-on-exec', () => {
    const { cli, conn, srv } = tcpPair();
    try {
      expect(ATOMIC_CLOEXEC).toBe(true);
      for (const h of [cli, conn, srv]) expect(getCloseOnExec(h)).toBe(true);
    } finally {
      close(cli); close(conn); close(srv);
    }
  });

  it('does not let an exec\'d child see a listening socket', () => {
    const srv = socket(AF_INET, SOCK_STREAM, 0);
    try {
      bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
      listen(srv);
      const mine = inode(srv.fd);
      expect(mine).toMatch(/^socket:\[\d+\]$/);
      expect(childFdTargets()).not.toContain(mine);
      // The positive control: with FD_CLOEXEC cleared, the same child does inherit it.
      setCloseOnExec(srv, false);
      expect(childFdTargets()).toContain(mine);
    } finally {
      close(srv);
    }
  });

  it('hands a connection to a child explicitly; it stays up after the parent closes its copy', async () => {
    const { cli, conn, srv } = tcpPair();
    try {
      recvTimeout(cli, 10);
      // The child receives the connection as its fd 3, reads the parent's greeting, answers, exits.
      const code = `const fs=require('fs');const b=Buffer.alloc(64);const n=fs.readSync(3,b);fs.writeSync(3,'child got '+b.toString('utf8',0,n));`;
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', conn.fd] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      close(conn); // the parent's copy only: the child's descriptor keeps the connection open
      expect(conn.closed).toBe(true);
      expect(write(cli, 'hello')).toBe(5);
      const buf = Buffer.alloc(64);
      let got = '';
      for (let i = 0; i < 20 && !got.endsWith('hello'); i++) {
        const n = read(cli, buf);
        if (n === 0) break;
        got += buf.toString('utf8', 0, n);
      }
      expect(got).toBe('child got hello');
      expect(await exited).toBe(0);
      // Every copy is now closed: the client sees end of file.
      expect(read(cli, buf)).toBe(0);
    } finally {
      close(cli); close(conn); close(srv);
    }
  });

  it('gives the child a connection that accept() returned, not the listener', () => {
    const { cli, conn, srv } = tcpPair();
    try {
      const targets = childFdTargets([conn.fd]);
      expect(targets).toContain(inode(conn.fd));
      expect(targets).not.toContain(inode(srv.fd));
      expect(targets).not.toContain(inode(cli.fd));
    } finally {
      close(cli); close(conn); close(srv);
    }
  });
});
