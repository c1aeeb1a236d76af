/**
 * A small classic-BPF interpreter for seccomp programs (what the kernel's seccomp filter accepts: ld abs words,
 * ALU with constants, jumps with constants, ret), plus the kernel's structural checks: forward jumps inside the
 * program, loads aligned inside struct seccomp_data, a ret at the end of every path, at most 4096 instructions.
 */
export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: (number | bigint)[];
}

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decode(buf: Buffer): Insn[] {
  if (buf.length % 8) throw new Error(`program length ${buf.length} is not a multiple of 8`);
  const out: Insn[] = [];
  for (let i = 0; i < buf.length; i += 8) out.push({ code: buf.readUInt16LE(i), jt: buf.readUInt8(i + 2), jf: buf.readUInt8(i + 3), k: buf.readUInt32LE(i + 4) });
  return out;
}

const CLS = (c: number) => c & 0x07;
const LD = 0x00, ALU = 0x04, JMP = 0x05, RETC = 0x06, MISC = 0x07;

/** the kernel's checks (sk_chk_filter + seccomp_check_filter), simplified to what the compiler may emit */
export function verify(prog: Insn[]): void {
  if (!prog.length || prog.length > 4096) throw new Error(`bad program length ${prog.length}`);
  prog.forEach((ins, pc) => {
    switch (CLS(ins.code)) {
      case LD:
        if (ins.code !== 0x20) throw new Error(`pc ${pc}: only ld [k] words are allowed (code 0x${ins.code.toString(16)})`);
        if (ins.k % 4 || ins.k >= 64) throw new Error(`pc ${pc}: load offset ${ins.k} outside seccomp_data`);
        break;
      case ALU:
        if (![0x04, 0x14, 0x24, 0x54, 0x44, 0xa4, 0x64, 0x74, 0x84].includes(ins.code)) throw new Error(`pc ${pc}: unsupported alu 0x${ins.code.toString(16)}`);
        break;
      case JMP:
        if (ins.code === 0x05) {
          if (pc + 1 + ins.k >= prog.length) throw new Error(`pc ${pc}: ja out of program`);
        } else {
          if (![0x15, 0x25, 0x35, 0x45].includes(ins.code)) throw new Error(`pc ${pc}: unsupported jump 0x${ins.code.toString(16)}`);
          if (pc + 1 + ins.jt >= prog.length || pc + 1 + ins.jf >= prog.length) throw new Error(`pc ${pc}: jump out of program`);
        }
        break;
      case RETC:
        if (ins.code !== 0x06) throw new Error(`pc ${pc}: only ret k`);
        break;
      case MISC:
      default:
        throw new Error(`pc ${pc}: unsupported class (code 0x${ins.code.toString(16)})`);
    }
  });
  const last = prog[prog.length - 1]!;
  if (CLS(last.code) !== RETC && CLS(last.code) !== JMP) throw new Error('program does not end in ret');
}

/** struct seccomp_data as the 16 little-endian 32-bit words a filter can load */
function words(d: SeccompData): Uint32Array {
  const w = new Uint32Array(16);
  w[0] = d.nr >>> 0;
  w[1] = d.arch >>> 0;
  const put = (i: number, v: bigint) => {
    const u = BigInt.asUintN(64, v);
    w[i] = Number(u & 0xffffffffn);
    w[i + 1] = Number(u >> 32n);
  };
  put(2, d.ip ?? 0n);
  for (let i = 0; i < 6; i++) put(4 + 2 * i, BigInt(d.args?.[i] ?? 0));
  return w;
}

/** runs the filter; returns the 32-bit seccomp return value. Also counts instructions executed. */
export function run(prog: Insn[], d: SeccompData, stats?: { steps: number }): number {
  const w = words(d);
  let A = 0;
  let X = 0;
  let pc = 0;
  for (let steps = 0; steps < 100000; steps++) {
    if (stats) stats.steps++;
    const ins = prog[pc];
    if (!ins) throw new Error(`fell off the program at ${pc}`);
    const k = ins.k >>> 0;
    switch (ins.code) {
      case 0x20: A = w[k >> 2]!; pc++; break;
      case 0x04: A = (A + k) >>> 0; pc++; break;
      case 0x14: A = (A - k) >>> 0; pc++; break;
      case 0x54: A = (A & k) >>> 0; pc++; break;
      case 0x44: A = (A | k) >>> 0; pc++; break;
      case 0xa4: A = (A ^ k) >>> 0; pc++; break;
      case 0x64: A = (A << k) >>> 0; pc++; break;
      case 0x74: A = A >>> k; pc++; break;
      case 0x05: pc += 1 + k; break;
      case 0x15: pc += 1 + (A === k ? ins.jt : ins.jf); break;
      case 0x25: pc += 1 + (A > k ? ins.jt : ins.jf); break;
      case 0x35: pc += 1 + (A >= k ? ins.jt : ins.jf); break;
      case 0x45: pc += 1 + ((A & k) !== 0 ? ins.jt : ins.jf); break;
      case 0x06: return k;
      case 0x07: X = A; pc++; break;
      default: throw new Error(`unsupported opcode 0x${ins.code.toString(16)} at ${pc}`);
    }
    void X;
  }
  throw new Error('no ret after 100000 steps');
}

export const RET = { ALLOW: 0x7fff0000, KILL_PROCESS: 0x80000000, KILL_THREAD: 0, TRAP: 0x30000, LOG: 0x7ffc0000 };
export const errno = (e: number) => (0x50000 | e) >>> 0;

export function describeRet(r: number): string {
  if (r === RET.ALLOW) return 'ALLOW';
  if (r === RET.KILL_PROCESS) return 'KILL_PROCESS';
  if (r === 0) return 'KILL_THREAD';
  if ((r & 0xffff0000) >>> 0 === 0x50000) return `ERRNO(${r & 0xffff})`;
  return `0x${r.toString(16)}`;
}
