// A capture filter compiled by the library, without libpcap: a few of pcap-filter(7)'s forms — `host
// ADDR`, `port N`, `tcp`, `udp`, `icmp`, `icmp6`, joined by `and` — turned into a classic BPF program
// (socket(7) SO_ATTACH_FILTER, filter.ts) for an Ethernet-framed link (ARPHRD_ETHER, and lo's
// ARPHRD_LOOPBACK: 14 bytes of header, the EtherType at 12).
//
// Each form means what pcap-filter(7) says it means, and the program for one form alone is the one
// `tcpdump -dd` prints for it (test/capture.test.ts compares them): `tcp` is IPv4 protocol 6, or IPv6
// next header 6 directly or after a fragment header; `port N` is SCTP, TCP or UDP with N as source or
// destination port, on IPv4 (not a later fragment: it has no ports) or IPv6 (no extension headers);
// `host A` is A as IPv4 source or destination, or as ARP/RARP sender or target address (IPv6 source
// or destination for an IPv6 A).
//
// The program tests the EtherTypes one after the other — the packet is one of them or none — and in
// each, the forms' conditions in order (protocol, port, host); a failed condition drops the packet.
// Forms joined by `and` give one program in that shape, which tcpdump's optimizer may order
// differently (`tcp and port 80` puts IPv4 first, `tcp port 80`, the same filter, IPv6): the test
// runs both programs over the same packets and finds the same verdicts.
import {
  AF_INET, AF_INET6, BPF_ABS, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_MSH,
  BPF_RET, BPF_W, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_RARP, IPPROTO_FRAGMENT, IPPROTO_ICMP, IPPROTO_ICMPV6,
  IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
} from '../constants';
import { invalidArgType, invalidArgValue, outOfRange } from '../errors';
import type { SockFilter } from '../filter';
import { inet_pton } from '../inet';
import { checkInt } from '../validate';

/** The protocols a filter names, as pcap-filter(7) spells them. */
export type CaptureProtocol = 'tcp' | 'udp' | 'icmp' | 'icmp6';

/** A capture filter: each field given must hold (pcap-filter(7)'s forms joined by `and`). */
export interface FilterSpec {
  /** `host ADDR`: a numeric IPv4 or IPv6 address, as source or destination. */
  host?: string;
  /** `port N`: SCTP, TCP or UDP source or destination port (0..65535). */
  port?: number;
  /** `tcp`, `udp`, `icmp` (IPv4) or `icmp6`. */
  protocol?: CaptureProtocol;
}

/**
 * What tcpdump keeps of a packet by default (libpcap's MAXIMUM_SNAPLEN): the filter's `ret` when it
 * accepts one, so the kernel queues the whole packet.
 */
export const MAXIMUM_SNAPLEN = 262144;

// Offsets in an Ethernet frame (IEEE 802.3; RFC 791, 8200, 826): the wire's, the same everywhere.
const ETHERTYPE = 12;
const NET = 14; // the network header
const IP4_FRAG = NET + 6;
const IP4_PROTO = NET + 9;
const IP4_SRC = NET + 12;
const IP4_DST = NET + 16;
const IP6_NEXT = NET + 6;
const IP6_SRC = NET + 8;
const IP6_DST = NET + 24;
const IP6_PAYLOAD = NET + 40; // the upper-layer header, when no extension header comes first
const ARP_SPA = NET + 14;
const ARP_TPA = NET + 24;
const IP4_OFFSET_MASK = 0x1fff; // the fragment offset bits of IPv4's flags/offset field

const PROTOCOLS: Record<CaptureProtocol, number | undefined> = {
  tcp: IPPROTO_TCP, udp: IPPROTO_UDP, icmp: IPPROTO_ICMP, icmp6: IPPROTO_ICMPV6,
};
/** Those with ports, in the order tcpdump tests them. */
const PORTED = [IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP].filter((p): p is number => p !== undefined);

// ── Parsing ────────────────────────────────────────────────────────────────────────────────────────

/**
 * The forms of a filter expression in pcap-filter(7)'s syntax: `host ADDR`, `port N`, `tcp`, `udp`,
 * `icmp`, `icmp6`, also `tcp port N` / `udp port N`, joined by `and` (or `&&`); each form at most once.
 * `''` is no filter. Anything else (or, not, names, ranges) is ERR_INVALID_ARG_VALUE.
 */
export function parseFilter(expression: string): FilterSpec {
  if (typeof expression !== 'string') throw invalidArgType('filter', 'of type string', expression);
  const spec: FilterSpec = {};
  const words = expression.trim().split(/\s+/).filter(Boolean);
  const bad = (why: string) => invalidArgValue('filter', expression, why);
  const set = <K extends keyof FilterSpec>(key: K, value: FilterSpec[K]) => {
    if (spec[key] !== undefined) throw bad(`names ${key} twice (a packet has one ${key} per side: capture with one)`);
    spec[key] = value;
  };
  for (let i = 0; i < words.length;) {
    const w = words[i];
    if (w === 'host' || w === 'port') {
      const arg = words[i + 1];
      if (arg === undefined) throw bad(`ends after "${w}"`);
      if (w === 'host') set('host', arg);
      else if (/^\d+$/.test(arg)) set('port', Number(arg));
      else throw bad(`has port "${arg}": give the number (names are not looked up in /etc/services)`);
      i += 2;
    } else if (Object.hasOwn(PROTOCOLS, w)) {
      set('protocol', w as CaptureProtocol);
      i += 1;
      // pcap-filter's `tcp port 80`: the protocol qualifies the port that follows.
      if (words[i] === 'port' && (w === 'tcp' || w === 'udp')) continue;
    } else {
      throw bad(`has "${w}" where host ADDR, port N, tcp, udp, icmp or icmp6 can be (the forms this library compiles)`);
    }
    if (i < words.length) {
      if (words[i] !== 'and' && words[i] !== '&&') throw bad(`has "${words[i]}" where "and" can be (forms are joined by and)`);
      if (++i === words.length) throw bad('ends with "and"');
    }
  }
  return checkSpec(spec, 'filter');
}

function checkSpec(spec: FilterSpec, name: string): FilterSpec {
  if (spec === null || typeof spec !== 'object') throw invalidArgType(name, 'an object ({ host?, port?, protocol? }) or a filter expression', spec);
  const out: FilterSpec = {};
  if (spec.port !== undefined) {
    if (typeof spec.port !== 'number' || !Number.isInteger(spec.port) || spec.port < 0 || spec.port > 0xffff) {
      throw outOfRange(`${name}.port`, 'an integer >= 0 && <= 65535', spec.port);
    }
    out.port = spec.port;
  }
  if (spec.protocol !== undefined) {
    if (!Object.hasOwn(PROTOCOLS, spec.protocol) || PROTOCOLS[spec.protocol] === undefined) {
      throw invalidArgValue(`${name}.protocol`, spec.protocol, "must be 'tcp', 'udp', 'icmp' or 'icmp6'");
    }
    out.protocol = spec.protocol;
  }
  if (spec.host !== undefined) {
    if (typeof spec.host !== 'string') throw invalidArgType(`${name}.host`, 'of type string', spec.host);
    if (!spec.host.includes(':') ? !isAddress(AF_INET, spec.host) : !isAddress(AF_INET6, spec.host)) {
      throw invalidArgValue(`${name}.host`, spec.host, 'must be a numeric IPv4 or IPv6 address');
    }
    out.host = spec.host;
  }
  return out;
}

function isAddress(af: number, text: string): boolean {
  try {
    inet_pton(af, text);
    return true;
  } catch {
    return false;
  }
}

// ── Conditions ─────────────────────────────────────────────────────────────────────────────────────

/** A test on one loaded field (`neg`: true when the test fails), all of them, one of them, or `ldx`. */
type Cond =
  | { t: 'cmp'; size: number; mode: number; off: number; op: number; k: number; neg?: boolean }
  | { t: 'and' | 'or'; xs: Cond[] }
  | { t: 'ldx' };

const eq = (size: number, off: number, k: number, mode = BPF_ABS): Cond => ({ t: 'cmp', size, mode, off, op: BPF_JEQ, k });
const all = (...xs: Cond[]): Cond => (xs.length === 1 ? xs[0] : { t: 'and', xs });
const any = (...xs: Cond[]): Cond => (xs.length === 1 ? xs[0] : { t: 'or', xs });

/** One EtherType's branch: the types that lead to it and what must then hold (null: nothing more). */
interface Branch {
  types: number[];
  conds: Cond[];
}

function words(af: number, host: string): number[] {
  const b = inet_pton(af, host);
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(b.readUInt32BE(i));
  return out;
}

/** The branches of a filter, in tcpdump's order; a branch some form rules out is left out. */
function branches(spec: FilterSpec): Branch[] {
  const proto = spec.protocol === undefined ? undefined : PROTOCOLS[spec.protocol]!;
  const v6host = spec.host?.includes(':');
  const out: Branch[] = [];

  const ip4: Cond[] = [];
  let ip4ok = !(spec.host !== undefined && v6host) && proto !== IPPROTO_ICMPV6;
  if (spec.port !== undefined) {
    const withPorts = proto === undefined ? PORTED : PORTED.filter((p) => p === proto);
    if (withPorts.length === 0) ip4ok = false;
    ip4.push(
      any(...withPorts.map((p) => eq(BPF_B, IP4_PROTO, p))),
      { t: 'cmp', size: BPF_H, mode: BPF_ABS, off: IP4_FRAG, op: BPF_JSET, k: IP4_OFFSET_MASK, neg: true },
      { t: 'ldx' },
      any(eq(BPF_H, NET, spec.port, BPF_IND), eq(BPF_H, NET + 2, spec.port, BPF_IND)),
    );
  } else if (proto !== undefined) {
    ip4.push(eq(BPF_B, IP4_PROTO, proto));
  }
  if (spec.host !== undefined && !v6host) {
    const [a] = words(AF_INET, spec.host);
    ip4.push(any(eq(BPF_W, IP4_SRC, a), eq(BPF_W, IP4_DST, a)));
  }

  const ip6: Cond[] = [];
  let ip6ok = !(spec.host !== undefined && !v6host) && proto !== IPPROTO_ICMP;
  if (spec.port !== undefined) {
    const withPorts = proto === undefined ? PORTED : PORTED.filter((p) => p === proto);
    if (withPorts.length === 0) ip6ok = false;
    ip6.push(
      any(...withPorts.map((p) => eq(BPF_B, IP6_NEXT, p))),
      any(eq(BPF_H, IP6_PAYLOAD, spec.port), eq(BPF_H, IP6_PAYLOAD + 2, spec.port)),
    );
  } else if (proto !== undefined) {
    // Directly, or in the first fragment after a fragment header (whose next header is at its start).
    ip6.push(any(eq(BPF_B, IP6_NEXT, proto), all(eq(BPF_B, IP6_NEXT, IPPROTO_FRAGMENT!), eq(BPF_B, IP6_PAYLOAD, proto))));
  }
  if (spec.host !== undefined && v6host) {
    const a = words(AF_INET6, spec.host);
    ip6.push(any(all(...a.map((w, i) => eq(BPF_W, IP6_SRC + 4 * i, w))), all(...a.map((w, i) => eq(BPF_W, IP6_DST + 4 * i, w)))));
  }

  const v4: Branch = { types: [ETH_P_IP!], conds: ip4 };
  const v6: Branch = { types: [ETH_P_IPV6!], conds: ip6 };
  // `port N` alone (no protocol) comes out of tcpdump's optimizer with IPv6 first; everything else IPv4 first.
  const order = spec.port !== undefined && proto === undefined ? [[v6, ip6ok], [v4, ip4ok]] as const : [[v4, ip4ok], [v6, ip6ok]] as const;
  for (const [b, ok] of order) if (ok) out.push(b);
  // ARP and RARP carry IPv4 addresses too: `host A` (and nothing else) matches them.
  if (spec.host !== undefined && !v6host && spec.port === undefined && proto === undefined) {
    const [a] = words(AF_INET, spec.host);
    out.push({ types: [ETH_P_ARP!, ETH_P_RARP!], conds: [any(eq(BPF_W, ARP_SPA, a), eq(BPF_W, ARP_TPA, a))] });
  }
  return out;
}

// ── Code generation ────────────────────────────────────────────────────────────────────────────────

type Label = number;
interface Jump {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
}

/**
 * Emits conditions as jumps to labels, resolved at the end; the accumulator's content is tracked so
 * that a field already loaded on every path to an instruction is not loaded again (as tcpdump's
 * optimizer does: after `jeq #0x800` fails, the EtherType is still in A for `jeq #0x86dd`).
 */
class Emitter {
  readonly code: Jump[] = [];
  private readonly at = new Map<Label, number>();
  private readonly incoming = new Map<Label, (string | null)[]>();
  private next = 0;
  /** What A holds here: a load's key, null for unknown, undefined where no path falls through. */
  private a: string | null | undefined = null;

  label(): Label {
    return this.next++;
  }

  place(l: Label): void {
    this.at.set(l, this.code.length);
    const states = [...(this.incoming.get(l) ?? []), ...(this.a === undefined ? [] : [this.a])];
    this.a = states.length > 0 && states.every((s) => s === states[0]) ? states[0] : null;
  }

  stmt(code: number, k: number): void {
    this.code.push({ code, k });
  }

  private jumpTo(l: Label, state: string | null): void {
    const list = this.incoming.get(l) ?? [];
    list.push(state);
    this.incoming.set(l, list);
  }

  cond(c: Cond, t: Label, f: Label): void {
    if (c.t === 'cmp') {
      const key = `${c.size}/${c.mode}/${c.off}`;
      if (this.a !== key) {
        this.stmt(BPF_LD | c.size | c.mode, c.off);
        this.a = key;
      }
      const [jt, jf] = c.neg ? [f, t] : [t, f];
      this.code.push({ code: BPF_JMP | c.op | BPF_K, k: c.k, jt, jf });
      this.jumpTo(jt, key);
      this.jumpTo(jf, key);
      this.a = undefined;
      return;
    }
    if (c.t === 'ldx') throw new Error('ldx stands only in a sequence');
    const xs = c.xs;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (x.t === 'ldx') {
        // X = the IPv4 header length (4 * the IHL nibble), for the port loads that follow.
        this.stmt(BPF_LDX | BPF_B | BPF_MSH, NET);
        if (i === xs.length - 1) throw new Error('ldx ends a sequence');
        continue;
      }
      if (i === xs.length - 1) {
        this.cond(x, t, f);
      } else {
        const l = this.label();
        if (c.t === 'and') this.cond(x, l, f);
        else this.cond(x, t, l);
        this.place(l);
      }
    }
  }

  /** The program, jumps resolved to offsets (each forward and within a jump's 8 bits). */
  resolve(): SockFilter[] {
    return this.code.map((ins, i) => {
      const off = (l: Label | undefined) => {
        if (l === undefined) return 0;
        const d = this.at.get(l)! - (i + 1);
        if (d < 0 || d > 255) throw new Error(`BPF jump out of range: ${d}`);
        return d;
      };
      return { code: ins.code, jt: off(ins.jt), jf: off(ins.jf), k: ins.k >>> 0 };
    });
  }
}

/**
 * Compiles a capture filter into classic BPF instructions for SO_ATTACH_FILTER (socket(7)): a packet
 * the program accepts is kept (`ret #snaplen`: that many bytes of it), any other is dropped in the
 * kernel before the socket sees it. The forms are pcap-filter(7)'s — `{ host, port, protocol }`, or
 * the expression `'tcp and port 8080 and host 127.0.0.2'` (see parseFilter) — for a link with Ethernet
 * framing (Ethernet, and Linux's loopback: packet(7) gives both 14-byte headers with SOCK_RAW).
 * One form alone compiles to the program `tcpdump -dd -s SNAPLEN` prints for it. No form: every packet.
 * A filter no packet can pass (`icmp and port 53`, an IPv6 host with `icmp`) is ERR_INVALID_ARG_VALUE,
 * as tcpdump refuses it ("expression rejects all packets").
 */
export function compileFilter(filter: FilterSpec | string, snaplen = MAXIMUM_SNAPLEN): SockFilter[] {
  const spec = typeof filter === 'string' ? parseFilter(filter) : checkSpec(filter, 'filter');
  checkInt(snaplen, 'snaplen', 1, 0xffffffff);
  const e = new Emitter();
  const accept = e.label();
  const drop = e.label();
  const list = branches(spec);
  if (spec.host === undefined && spec.port === undefined && spec.protocol === undefined) {
    return [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: snaplen }];
  }
  if (list.length === 0) throw invalidArgValue('filter', filter, 'rejects every packet (no protocol has all these forms)');
  list.forEach((b, i) => {
    const next = i === list.length - 1 ? drop : e.label();
    const body = e.label();
    e.cond(any(...b.types.map((type) => eq(BPF_H, ETHERTYPE, type))), body, next);
    e.place(body);
    e.cond(all(...b.conds), accept, drop);
    if (next !== drop) e.place(next);
  });
  e.place(accept);
  e.stmt(BPF_RET | BPF_K, snaplen);
  e.place(drop);
  e.stmt(BPF_RET | BPF_K, 0);
  return e.resolve();
}
