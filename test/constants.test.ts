// Platform constants: src/constants.ts must export exactly what the addon read from the C headers
// (native/constants.cc), with the same values, and be what scripts/gen-constants.mjs generates.
// Values are cross-checked against the C headers through a second, independent reader: CPython.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../src/binding';
import * as C from '../src/constants';
import * as index from '../src/index';
import { canRun, hasCommand } from './helpers';

const root = join(__dirname, '..');
const cc = readFileSync(join(root, 'native/constants.cc'), 'utf8');
const ts = readFileSync(join(root, 'src/constants.ts'), 'utf8');
const nativeConstants = native.constants;
const exported = C as unknown as Record<string, number | undefined>;

/** BS_CONST(NAME) in constants.cc, in order. */
const ccNames = [...cc.matchAll(/^\s*BS_CONST\((\w+)\);/gm)].map((m) => m[1]);
/** Names whose BS_CONST sits inside some #if/#ifdef block: they may be absent on some platform. */
const ccOptional = (() => {
  const names = new Set<string>();
  let depth = 0;
  for (const line of cc.split('\n')) {
    if (/^\s*#\s*if/.test(line)) depth++;
    else if (/^\s*#\s*endif/.test(line)) depth--;
    const m = /^\s*BS_CONST\((\w+)\);/.exec(line);
    if (m && depth > 0) names.add(m[1]);
  }
  return names;
})();
/** `export const NAME` in src/constants.ts. */
const tsNames = [...ts.matchAll(/^export const (\w+)\b/gm)].map((m) => m[1]);

describe('src/constants.ts against the addon', () => {
  it('exports every constant the addon provides, with the same value', () => {
    const keys = Object.keys(nativeConstants);
    expect(keys.length).toBeGreaterThan(100);
    const wrong = keys.filter((k) => exported[k] !== nativeConstants[k]);
    expect(wrong).toEqual([]);
  });

  it('exports nothing the addon lacks, except optional names this platform does not define', () => {
    for (const [k, v] of Object.entries(exported)) {
      if (k in nativeConstants) continue;
      expect(v, `${k} is exported with a value but the addon has no such constant`).toBeUndefined();
      expect(ccOptional.has(k), `${k} is undefined but is not inside an #if block in constants.cc`).toBe(true);
    }
  });

  it('has only finite integer values', () => {
    for (const [k, v] of Object.entries(nativeConstants)) {
      expect(Number.isInteger(v), k).toBe(true);
    }
  });

  it('re-exports every constant from the package entry point', () => {
    const entry = index as unknown as Record<string, unknown>;
    const missing = Object.keys(exported).filter((k) => !(k in entry) || entry[k] !== exported[k]);
    expect(missing).toEqual([]);
  });
});

describe('src/constants.ts against native/constants.cc', () => {
  it('declares exactly the BS_CONST names of constants.cc, once each and in the same order', () => {
    expect(new Set(ccNames).size).toBe(ccNames.length);
    expect(tsNames).toEqual(ccNames);
  });

  it('types a constant `| undefined` exactly when constants.cc guards it with an #if / #ifdef', () => {
    const tsOptional = [...ts.matchAll(/^export const (\w+): [^=]*\| undefined =/gm)].map((m) => m[1]);
    // Except epoll's names and the classic BPF opcodes, present or absent with the subsystem itself:
    // typed `number`, since epoll_create1 and setsockopt(SO_ATTACH_FILTER) fail with ENOSYS first where
    // they are missing (scripts/gen-constants.mjs, WHOLE_SUBSYSTEM).
    const whole = [...ccOptional].filter((k) => k.startsWith('EPOLL') || k.startsWith('BPF_'));
    expect(whole).toContain('EPOLLET');
    expect(whole).toContain('BPF_MAXINSNS');
    expect(new Set(tsOptional)).toEqual(new Set([...ccOptional].filter((k) => !whole.includes(k))));
  });

  it('is what scripts/gen-constants.mjs generates (run on a temporary copy, never on the tree)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'bs-gen-'));
    try {
      for (const d of ['scripts', 'native', 'src']) mkdirSync(join(tmp, d));
      copyFileSync(join(root, 'scripts/gen-constants.mjs'), join(tmp, 'scripts/gen-constants.mjs'));
      copyFileSync(join(root, 'native/constants.cc'), join(tmp, 'native/constants.cc'));
      execFileSync(process.execPath, [join(tmp, 'scripts/gen-constants.mjs')], { cwd: tmp, stdio: 'pipe' });
      const written = readdirSync(join(tmp, 'src'));
      expect(written).toContain('constants.ts');
      // Every file the generator writes (constants.ts and whatever else it owns) must match the tree.
      for (const f of written) {
        const generated = readFileSync(join(tmp, 'src', f), 'utf8');
        const current = readFileSync(join(root, 'src', f), 'utf8');
        expect(generated === current, `src/${f} is stale: run node scripts/gen-constants.mjs`).toBe(true);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('values', () => {
  it('has the values POSIX fixes (netinet/in.h, sys/socket.h)', () => {
    expect(C.AF_UNSPEC).toBe(0);
    expect(C.INADDR_ANY).toBe(0);
    expect(C.INADDR_LOOPBACK).toBe(0x7f000001);
    expect(C.INADDR_BROADCAST).toBe(0xffffffff);
    expect(C.INADDR_NONE).toBe(0xffffffff);
    expect(C.INET_ADDRSTRLEN).toBe(16);
    expect(C.INET6_ADDRSTRLEN).toBe(46);
    expect([C.SHUT_RD, C.SHUT_WR, C.SHUT_RDWR]).toEqual([0, 1, 2]);
  });

  it('gives each PF_ the value of its AF_, and AF_LOCAL the value of AF_UNIX', () => {
    expect(C.PF_UNSPEC).toBe(C.AF_UNSPEC);
    expect(C.PF_INET).toBe(C.AF_INET);
    expect(C.PF_INET6).toBe(C.AF_INET6);
    expect(C.PF_UNIX).toBe(C.AF_UNIX);
    if (C.AF_LOCAL !== undefined) expect(C.AF_LOCAL).toBe(C.AF_UNIX);
    if (C.PF_LOCAL !== undefined) expect(C.PF_LOCAL).toBe(C.AF_UNIX);
  });

  it('keeps the members of each enumeration distinct', () => {
    const groups = [
      ['AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_PACKET', 'AF_NETLINK'],
      ['SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_RAW', 'SOCK_SEQPACKET', 'SOCK_RDM'],
      ['EAI_AGAIN', 'EAI_BADFLAGS', 'EAI_FAIL', 'EAI_FAMILY', 'EAI_MEMORY', 'EAI_NONAME', 'EAI_SERVICE', 'EAI_SOCKTYPE', 'EAI_SYSTEM', 'EAI_OVERFLOW'],
      ['IPPROTO_IP', 'IPPROTO_TCP', 'IPPROTO_UDP', 'IPPROTO_ICMP', 'IPPROTO_IPV6', 'IPPROTO_RAW'],
    ];
    for (const g of groups) {
      const vals = g.filter((k) => exported[k] !== undefined).map((k) => exported[k]);
      expect(new Set(vals).size, g.join(' ')).toBe(vals.length);
    }
  });

  it('has flag constants that are single bits', () => {
    for (const k of ['AI_PASSIVE', 'AI_CANONNAME', 'AI_NUMERICHOST', 'AI_NUMERICSERV', 'NI_NUMERICHOST', 'NI_NUMERICSERV', 'NI_NAMEREQD', 'NI_DGRAM', 'MSG_PEEK', 'MSG_OOB', 'MSG_WAITALL', 'O_NONBLOCK', 'POLLIN', 'POLLOUT']) {
      const v = exported[k]!;
      expect(v > 0 && (v & (v - 1)) === 0, `${k} = ${v}`).toBe(true);
    }
  });

  it.skipIf(process.platform !== 'linux')('has the Linux values', () => {
    expect(C.AF_INET).toBe(2);
    expect(C.AF_INET6).toBe(10);
    expect(C.AF_UNIX).toBe(1);
    expect(C.SOCK_STREAM).toBe(1);
    expect(C.SOCK_DGRAM).toBe(2);
    expect(C.SOCK_RAW).toBe(3);
    expect(C.SOCK_SEQPACKET).toBe(5);
    expect(C.SOCK_NONBLOCK).toBe(0o4000);
    expect(C.SOCK_CLOEXEC).toBe(0o2000000);
    expect(C.SOL_SOCKET).toBe(1);
    expect(C.SO_REUSEADDR).toBe(2);
    expect(C.SO_TYPE).toBe(3);
    expect(C.SO_ERROR).toBe(4);
    expect(C.SO_KEEPALIVE).toBe(9);
    expect(C.IPPROTO_TCP).toBe(6);
    expect(C.IPPROTO_UDP).toBe(17);
    expect(C.IPPROTO_IPV6).toBe(41);
    expect(C.TCP_NODELAY).toBe(1);
    expect(C.TCP_KEEPIDLE).toBe(4);
    expect(C.TCP_KEEPINTVL).toBe(5);
    expect(C.TCP_KEEPCNT).toBe(6);
    expect(C.IPV6_V6ONLY).toBe(26);
    expect(C.MSG_PEEK).toBe(2);
    expect(C.MSG_DONTWAIT).toBe(0x40);
    expect(C.MSG_NOSIGNAL).toBe(0x4000);
    expect(C.SHUT_WR).toBe(1);
    expect(C.INADDR_LOOPBACK).toBe(0x7f000001);
    expect(C.AI_PASSIVE).toBe(1);
    expect(C.NI_NUMERICHOST).toBe(1);
    expect(C.F_GETFL).toBe(3);
    expect(C.F_SETFL).toBe(4);
    expect(C.FD_CLOEXEC).toBe(1);
    expect(C.POLLIN).toBe(1);
    expect(C.POLLOUT).toBe(4);
    // packet(7), <linux/if_ether.h>, <net/if_arp.h>, <linux/filter.h>: the same on every architecture.
    expect(C.SOL_PACKET).toBe(263);
    expect([C.ETH_P_ALL, C.ETH_P_IP, C.ETH_P_ARP, C.ETH_P_IPV6]).toEqual([0x0003, 0x0800, 0x0806, 0x86dd]);
    expect([C.PACKET_HOST, C.PACKET_BROADCAST, C.PACKET_MULTICAST, C.PACKET_OTHERHOST, C.PACKET_OUTGOING]).toEqual([0, 1, 2, 3, 4]);
    expect([C.PACKET_ADD_MEMBERSHIP, C.PACKET_DROP_MEMBERSHIP]).toEqual([1, 2]);
    expect([C.ARPHRD_NETROM, C.ARPHRD_ETHER, C.ARPHRD_LOOPBACK, C.ARPHRD_NONE]).toEqual([0, 1, 772, 0xfffe]);
    // The wire's numbers, which the capture decoder and filter compiler take from the headers too.
    expect(C.ETH_P_RARP).toBe(0x8035);
    expect([C.IPPROTO_HOPOPTS, C.IPPROTO_ROUTING, C.IPPROTO_FRAGMENT, C.IPPROTO_NONE, C.IPPROTO_DSTOPTS]).toEqual([0, 43, 44, 59, 60]);
    expect([C.TCPOPT_EOL, C.TCPOPT_NOP, C.TCPOPT_MAXSEG, C.TCPOPT_WINDOW, C.TCPOPT_SACK_PERMITTED, C.TCPOPT_SACK, C.TCPOPT_TIMESTAMP]).toEqual([0, 1, 2, 3, 4, 5, 8]);
    expect([C.BPF_LD, C.BPF_H, C.BPF_ABS, C.BPF_JMP, C.BPF_JEQ, C.BPF_RET, C.BPF_K, C.BPF_MAXINSNS]).toEqual([0, 8, 0x20, 5, 0x10, 6, 0, 4096]);
    // SIOCINQ is FIONREAD, SIOCOUTQ TIOCOUTQ (linux/sockios.h); SO_GET_FILTER is SO_ATTACH_FILTER.
    expect(C.SIOCINQ).toBe(C.FIONREAD);
    expect(C.SO_GET_FILTER).toBe(C.SO_ATTACH_FILTER);
    expect(C.SCM_TIMESTAMPNS).toBe(C.SO_TIMESTAMPNS);
  });

  it('agrees with the values CPython reads from the same C headers', () => {
    if (!canRun('python3 cross-check of constants', hasCommand('python3'))) return;
    const py = [
      'import json, sys, socket, select, fcntl, os, errno',
      'names = json.loads(sys.stdin.read())',
      'out = {}',
      'for n in names:',
      '    for m in (socket, select, fcntl, os, errno):',
      '        v = getattr(m, n, None)',
      '        if isinstance(v, int):',
      '            out[n] = int(v)',
      '            break',
      'print(json.dumps(out))',
    ].join('\n');
    const theirs = JSON.parse(
      execFileSync('python3', ['-c', py], { input: JSON.stringify(Object.keys(nativeConstants)), encoding: 'utf8' }),
    ) as Record<string, number>;
    // A cross-check that covers nothing proves nothing.
    expect(Object.keys(theirs).length).toBeGreaterThan(Object.keys(nativeConstants).length / 2);
    const mismatches = Object.entries(theirs)
      .filter(([k, v]) => nativeConstants[k] !== v)
      .map(([k, v]) => `${k}: addon ${nativeConstants[k]}, python ${v}`);
    expect(mismatches).toEqual([]);
  });
});
