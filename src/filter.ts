// Classic BPF socket filters (socket(7) SO_ATTACH_FILTER; the kernel's Documentation/networking/filter.rst):
// a program of `struct sock_filter` instructions the kernel runs on each packet before the socket sees
// it, keeping the first k bytes its `ret k` returns (0 drops the packet). The same programs tcpdump
// compiles (`tcpdump -dd` prints them as C). Written here as C writes them, with the BPF_* opcodes of
// <linux/filter.h> and the BPF_STMT/BPF_JUMP macros:
//
//   BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12)               ldh [12]      the EtherType
//   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 1)  jeq #0x800    next if equal, else skip one
//   BPF_STMT(BPF_RET | BPF_K, 0x40000)                   ret #262144   keep the packet
//   BPF_STMT(BPF_RET | BPF_K, 0)                         ret #0        drop it
//
// The instructions are laid out here (sock_filter's layout, measured by the compiler) and the addon
// passes the kernel a struct sock_fprog pointing at them (native/options_linux.cc).
import { native } from './binding';
import { LITTLE } from './byteorder';
import { invalidArgType, invalidArgValue } from './errors';
import { checkInt } from './validate';

/** One classic BPF instruction, C's `struct sock_filter`: opcode, jump offsets if true / false, operand. */
export interface SockFilter {
  /** BPF_LD | BPF_H | BPF_ABS, BPF_JMP | BPF_JEQ | BPF_K, BPF_RET | BPF_K… (16 bits). */
  code: number;
  /** Instructions to skip when a conditional jump's test is true (0..255). */
  jt: number;
  /** Instructions to skip when it is false (0..255). */
  jf: number;
  /** The operand: an offset, a constant, a length to keep (32 bits; -1 is 0xffffffff). */
  k: number;
}

/** C's `BPF_STMT(code, k)`: an instruction that does not jump. */
export function BPF_STMT(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k };
}

/** C's `BPF_JUMP(code, k, jt, jf)`: a conditional jump over `jt` or `jf` instructions. */
export function BPF_JUMP(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k };
}

type Layout = { size: number; fields: Record<string, [offset: number, size: number]> };

/**
 * @internal The struct sock_filter array of a program, as the kernel reads it. At most 65,535
 * instructions (sock_fprog.len is an unsigned short); the kernel itself refuses more than
 * BPF_MAXINSNS (4,096) and an empty program with EINVAL, which is left to it to say.
 */
export function encodeFilter(program: unknown, name = 'optval'): Uint8Array {
  const l = (native.optionLayouts as Record<string, Layout | undefined>).sock_filter;
  if (l === undefined) throw invalidArgValue(name, program, 'is a socket filter, which this platform does not have (SO_ATTACH_FILTER is Linux\'s)');
  if (!Array.isArray(program)) throw invalidArgType(name, 'an array of { code, jt, jf, k } (struct sock_filter)', program);
  checkInt(program.length, `${name}.length`, 0, 0xffff);
  const out = new Uint8Array(program.length * l.size);
  const v = new DataView(out.buffer);
  const [code, jt, jf, k] = ['code', 'jt', 'jf', 'k'].map((f) => l.fields[f][0]);
  for (let i = 0; i < program.length; i++) {
    const ins = program[i] as SockFilter;
    const at = `${name}[${i}]`;
    if (ins === null || typeof ins !== 'object') throw invalidArgType(at, 'a { code, jt, jf, k } object', ins);
    const base = i * l.size;
    v.setUint16(base + code, checkInt(ins.code, `${at}.code`, 0, 0xffff), LITTLE);
    v.setUint8(base + jt, checkInt(ins.jt, `${at}.jt`, 0, 0xff));
    v.setUint8(base + jf, checkInt(ins.jf, `${at}.jf`, 0, 0xff));
    v.setUint32(base + k, checkInt(ins.k, `${at}.k`, -0x80000000, 0xffffffff) >>> 0, LITTLE);
  }
  return out;
}

/** @internal The instructions in `bytes` (whole struct sock_filter), as getsockopt(SO_GET_FILTER) returns them. */
export function decodeFilter(bytes: Uint8Array): SockFilter[] {
  const l = (native.optionLayouts as Record<string, Layout | undefined>).sock_filter!;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [code, jt, jf, k] = ['code', 'jt', 'jf', 'k'].map((f) => l.fields[f][0]);
  const out: SockFilter[] = [];
  for (let base = 0; base + l.size <= bytes.length; base += l.size) {
    out.push({ code: v.getUint16(base + code, LITTLE), jt: v.getUint8(base + jt), jf: v.getUint8(base + jf), k: v.getUint32(base + k, LITTLE) });
  }
  return out;
}
