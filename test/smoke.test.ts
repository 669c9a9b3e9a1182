import { describe, expect, it } from 'vitest';
import { close, read, write } from '../src/index';
import { fdCount, tcpPair } from './helpers';

describe('the core example', () => {
  it('moves bytes over a loopback TCP connection and closes every descriptor', () => {
    const before = fdCount();
    const { cli, conn, srv } = tcpPair();
    expect(write(cli, Buffer.from('bonjour'))).toBe(7);
    const buf = Buffer.alloc(64);
    const n = read(conn, buf);
    expect(buf.toString('utf8', 0, n)).toBe('bonjour');
    close(conn);
    close(cli);
    close(srv);
    expect(fdCount()).toBe(before);
  });
});
