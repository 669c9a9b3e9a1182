// The wire trace's kernel filter (socket(7) SO_ATTACH_FILTER on its capture): what may wait in the
// capture's receive queue until the next traced call reads it.
//
// Between two calls the packets wait in that queue, and a program may sleep in poll() for seconds while
// other programs fill the loopback: a bulk transfer's segments and ACKs would fill the queue, and the
// kernel would then drop the program's own packets (a keepalive probe) with the rest. The filter keeps
// TCP and UDP packets with a learnt port at either end — the trace learns a call's destination port
// before the call (connect's, sendto's), so the packets the call sends are kept though the socket's
// own port is learnt only from a later line — and TCP segments with SYN, FIN or RST of any port (a
// handshake toward a port learnt late). Everything else IP carries (ICMP, IPv4 fragments, IPv6
// extension headers) is kept, as is what is not IP. Past MAX_PORTS learnt ports the program would
// outgrow BPF's 8-bit jumps: the filter then keeps everything, as with no filter.
import {
  BPF_ABS, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_MSH, BPF_RET,
  ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP,
} from '../constants';
import type { SockFilter } from '../filter';

/** The most learnt ports the filter names one by one. */
export const MAX_PORTS = 48;

// Offsets in an Ethernet-framed packet (lo's too: ARPHRD_LOOPBACK has the same 14-byte header).
const ETHERTYPE = 12;
const NET = 14;
const TCP_FLAGS = 13; // in the TCP header
const SYN_FIN_RST = 0x07;

type Step = { ins: SockFilter; yes?: string; no?: string } | { label: string };

/**
 * The filter for these learnt ports, accepting `snaplen` bytes of what it keeps (the capture's own
 * snapshot length).
 */
export function wireFilter(ports: Iterable<number>, snaplen: number): SockFilter[] {
  const list = [...new Set(ports)];
  if (list.length > MAX_PORTS) return [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: snaplen }];
  const steps: Step[] = [];
  const op = (code: number, k: number) => steps.push({ ins: { code, jt: 0, jf: 0, k } });
  // A conditional jump: to `yes` when true, to `no` when false (undefined: the next instruction).
  const jump = (code: number, k: number, yes?: string, no?: string) => steps.push({ ins: { code: BPF_JMP | code | BPF_K, jt: 0, jf: 0, k }, yes, no });
  const label = (name: string) => steps.push({ label: name });
  const anyPort = () => list.forEach((p) => jump(BPF_JEQ, p, 'keep'));

  op(BPF_LD | BPF_H | BPF_ABS, ETHERTYPE);
  jump(BPF_JEQ, ETH_P_IP!, undefined, 'not4');
  op(BPF_LD | BPF_H | BPF_ABS, NET + 6); // flags and fragment offset: a later fragment has no ports
  jump(BPF_JSET, 0x1fff, 'keep');
  op(BPF_LD | BPF_B | BPF_ABS, NET + 9); // protocol
  jump(BPF_JEQ, IPPROTO_TCP, 'tcp4');
  jump(BPF_JEQ, IPPROTO_UDP, 'udp4', 'keep');
  label('tcp4');
  op(BPF_LDX | BPF_B | BPF_MSH, NET); // X = the IPv4 header's length
  op(BPF_LD | BPF_B | BPF_IND, NET + TCP_FLAGS);
  jump(BPF_JSET, SYN_FIN_RST, 'keep');
  label('udp4');
  op(BPF_LDX | BPF_B | BPF_MSH, NET);
  op(BPF_LD | BPF_H | BPF_IND, NET); // source port
  anyPort();
  op(BPF_LD | BPF_H | BPF_IND, NET + 2); // destination port
  anyPort();
  op(BPF_RET | BPF_K, 0);
  label('not4');
  jump(BPF_JEQ, ETH_P_IPV6!, undefined, 'keep');
  op(BPF_LD | BPF_B | BPF_ABS, NET + 6); // next header (an extension header: kept, ports unknown)
  jump(BPF_JEQ, IPPROTO_TCP, 'tcp6');
  jump(BPF_JEQ, IPPROTO_UDP, 'ports6', 'keep');
  label('tcp6');
  op(BPF_LD | BPF_B | BPF_ABS, NET + 40 + TCP_FLAGS);
  jump(BPF_JSET, SYN_FIN_RST, 'keep');
  label('ports6');
  op(BPF_LD | BPF_H | BPF_ABS, NET + 40);
  anyPort();
  op(BPF_LD | BPF_H | BPF_ABS, NET + 42);
  anyPort();
  op(BPF_RET | BPF_K, 0);
  label('keep');
  op(BPF_RET | BPF_K, snaplen);
  // Labels to instruction indexes, then each jump's offsets (counted from the next instruction).
  const at = new Map<string, number>();
  let n = 0;
  for (const s of steps) {
    if ('label' in s) at.set(s.label, n);
    else n++;
  }
  const program: SockFilter[] = [];
  for (const s of steps) {
    if ('label' in s) continue;
    const i = program.length;
    const offset = (target?: string) => (target === undefined ? 0 : at.get(target)! - i - 1);
    program.push({ ...s.ins, jt: offset(s.yes), jf: offset(s.no) });
  }
  return program;
}
