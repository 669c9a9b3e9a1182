// SOCK_RAW: an ICMP echo to 127.0.0.1 built by hand, as ping does. Needs root (CAP_NET_RAW); in CI it
// must run, elsewhere it skips with a printed reason.
import { describe, expect, it } from 'vitest';
import {
  AF_INET, IPPROTO_ICMP, SOCK_RAW, SOL_SOCKET, SO_RCVTIMEO, SO_TYPE, close, getsockopt, recvfrom, sendto,
  setsockopt, socket,
} from '../src/index';
import { canRun, isRoot } from './helpers';

/** The Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit words. */
function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

describe.runIf(canRun('raw sockets need root (CAP_NET_RAW)', isRoot))('SOCK_RAW', () => {
  it('sends an ICMP echo request to 127.0.0.1 and receives the echo reply with its IP header', () => {
    const fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    try {
      expect(getsockopt(fd, SOL_SOCKET, SO_TYPE)).toBe(SOCK_RAW);
      const tv = Buffer.alloc(16); // struct timeval { 5 s }: never hang the test
      tv.writeBigInt64LE(5n, 0);
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);

      const id = process.pid & 0xffff;
      const echo = Buffer.alloc(8 + 16);
      echo[0] = 8; // ICMP_ECHO
      echo.writeUInt16BE(id, 4);
      echo.writeUInt16BE(1, 6); // sequence
      echo.write('berkeley-sockets', 8);
      echo.writeUInt16BE(checksum(echo), 2);
      expect(sendto(fd, echo, { family: AF_INET, address: '127.0.0.1', port: 0 })).toBe(echo.length);

      // The raw socket sees every ICMP packet on the host (our own request too): find our reply.
      const buf = Buffer.alloc(1500);
      for (let i = 0; i < 20; i++) {
        const { n, address } = recvfrom(fd, buf);
        const ihl = (buf[0] & 0x0f) * 4; // raw IPv4 sockets deliver the IP header
        const icmp = buf.subarray(ihl, n);
        if (icmp[0] !== 0 || icmp.readUInt16BE(4) !== id) continue; // not an echo reply of ours
        expect(buf[0] >> 4).toBe(4);
        expect(address).toMatchObject({ family: AF_INET, address: '127.0.0.1' });
        expect(icmp.readUInt16BE(6)).toBe(1);
        expect(icmp.subarray(8).toString()).toBe('berkeley-sockets');
        expect(checksum(icmp)).toBe(0);
        return;
      }
      throw new Error('no echo reply among 20 ICMP packets');
    } finally {
      close(fd);
    }
  });
});
