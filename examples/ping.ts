// ping, on a raw socket: build an ICMP echo request by hand (RFC 792), checksum included, send it
// with sendto, and wait with select() for the echo reply the destination's kernel sends back.
//
//   sudo node dist/examples/ping.js [HOST] [-c COUNT] [-i SECONDS]
//
// HOST defaults to 127.0.0.1 (a name is looked up with getaddrinfo); -c 3 and -i 1 by default.
//
// A SOCK_RAW socket skips the transport layer: the program writes the ICMP header itself and reads
// whole IP packets. That power is why it needs root (CAP_NET_RAW, raw(7)): without it, socket() fails
// with EPERM. (The system's ping avoids that with the unprivileged "ping socket", SOCK_DGRAM +
// IPPROTO_ICMP, allowed by the net.ipv4.ping_group_range sysctl; the kernel then fills in the
// identifier and the checksum, which is exactly what this program is here to show.)
import {
  AF_INET, FD_ISSET, FD_SET, FD_ZERO, FdSet, IPPROTO_ICMP, SOCK_RAW, SystemError, close, getaddrinfo, inet_ntop,
  inet_pton, recvfrom, select, sendto, sockaddr_in, socket, type SocketHandle,
} from 'berkeley-sockets';

const ICMP_ECHOREPLY = 0; // <netinet/ip_icmp.h>
const ICMP_ECHO = 8;
const ICMP_HEADER = 8; // type, code, checksum, identifier, sequence number
const DATALEN = 56; // ping's default: 56 bytes of data + 8 of header = "64 bytes"

/**
 * The Internet checksum (RFC 1071), the course's in_cksum(): the one's complement of the one's
 * complement sum of the packet read as 16-bit big-endian words (an odd last byte is padded with a
 * zero). Computed with the checksum field at 0; a packet that carries its right checksum sums to 0.
 */
function in_cksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16); // fold the carries back in
  return ~sum & 0xffff;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const count = Number(option('-c') ?? 3);
const interval = Number(option('-i') ?? 1);
const host = args[0] ?? '127.0.0.1';

const dest = new sockaddr_in();
dest.sin_family = AF_INET; // sin_port stays 0: ICMP has no ports
if (inet_pton(AF_INET, host, dest.sin_addr) !== 1) {
  // Not a dotted address: a name, looked up in /etc/hosts or the DNS.
  inet_pton(AF_INET, getaddrinfo(host, null, { ai_family: AF_INET })[0].ai_addr.address, dest.sin_addr);
}
const target = inet_ntop(AF_INET, dest.sin_addr);

let sock: SocketHandle<typeof AF_INET>;
try {
  sock = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
} catch (e) {
  if (e instanceof SystemError && (e.code === 'EPERM' || e.code === 'EACCES')) {
    console.error(`ping: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): ${e.code}: a raw socket needs root ` +
      `(CAP_NET_RAW). Run: sudo node ${process.argv[1]} ${host}`);
    process.exit(2);
  }
  throw e;
}

// The identifier tells our replies from those of other pings running on this machine: a raw ICMP
// socket receives a copy of *every* ICMP packet the host gets (on loopback, our own request too).
const id = process.pid & 0xffff;

function echoRequest(seq: number): Buffer {
  const packet = Buffer.alloc(ICMP_HEADER + DATALEN);
  packet[0] = ICMP_ECHO; // type
  packet[1] = 0; // code
  packet.writeUInt16BE(0, 2); // checksum: 0 while it is computed
  packet.writeUInt16BE(id, 4); // identifier  (network byte order: writeUInt16BE is htons)
  packet.writeUInt16BE(seq, 6); // sequence number
  packet.writeDoubleBE(performance.timeOrigin + performance.now(), 8); // send time, to measure the round trip
  for (let i = 16; i < packet.length; i++) packet[i] = i; // filler, as ping's 0x10 0x11 0x12…
  packet.writeUInt16BE(in_cksum(packet), 2);
  return packet;
}

console.log(`PING ${host} (${target}) ${DATALEN}(${DATALEN + ICMP_HEADER + 20}) bytes of data.`);
const buf = Buffer.alloc(1500);
const rfds = new FdSet();
let received = 0;
const rtts: number[] = [];

for (let seq = 1; seq <= count; seq++) {
  sendto(sock, echoRequest(seq), 0, dest);
  const deadline = performance.now() + interval * 1000;
  let answered = false;

  // Until the next request is due, read whatever ICMP arrives and keep our reply. select() bounds the
  // wait: recvfrom alone would block forever if the reply never comes.
  for (let left = interval * 1000; left > 0; left = deadline - performance.now()) {
    FD_ZERO(rfds);
    FD_SET(sock, rfds);
    const ms = Math.ceil(left);
    if (select(sock.fd + 1, rfds, null, null, { tv_sec: Math.floor(ms / 1000), tv_usec: (ms % 1000) * 1000 }) === 0) break;
    if (!FD_ISSET(sock, rfds)) continue;
    const { n, address: from } = recvfrom(sock, buf, buf.length, 0);

    // A raw IPv4 socket delivers the IP header too (raw(7)): its length is the low nibble of the
    // first byte, in 32-bit words. The ICMP message follows it.
    const ihl = (buf[0] & 0x0f) * 4;
    const icmp = buf.subarray(ihl, n);
    if (icmp.length < ICMP_HEADER || icmp[0] !== ICMP_ECHOREPLY || icmp.readUInt16BE(4) !== id) continue; // not ours
    if (in_cksum(icmp) !== 0) {
      console.log(`reply from ${from?.address} with a bad checksum: ignored`);
      continue;
    }
    const rseq = icmp.readUInt16BE(6);
    const rtt = performance.timeOrigin + performance.now() - icmp.readDoubleBE(8);
    const ttl = buf[8]; // the IP header's time-to-live field
    console.log(`${icmp.length} bytes from ${from?.address}: icmp_seq=${rseq} ttl=${ttl} time=${rtt.toFixed(3)} ms`);
    if (rseq === seq && !answered) {
      answered = true;
      received++;
      rtts.push(rtt);
    }
    if (answered && seq === count) break; // the last reply is in: no need to wait out the interval
  }
}
close(sock);

const loss = Math.round(((count - received) / count) * 100);
console.log(`\n--- ${host} ping statistics ---`);
console.log(`${count} packets transmitted, ${received} received, ${loss}% packet loss`);
if (rtts.length > 0) {
  const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  console.log(`rtt min/avg/max = ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)}/${Math.max(...rtts).toFixed(3)} ms`);
}
process.exit(received > 0 ? 0 : 1);
