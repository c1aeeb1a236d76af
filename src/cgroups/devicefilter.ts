/**
 * cgroup v2 has no devices.allow file: device access is decided by an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This compiles OCI device rules into one (pure; the C
 * executor loads and attaches it). The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
 * u32 minor; } with access_type = (access << 16) | type. Rules are checked last first and the first match
 * decides (the last matching rule wins, as with v1's lists); nothing matching is denied.
 */
import type { LinuxDeviceCgroup } from '../ocispec/types.js';

const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC = { m: 1, r: 2, w: 4 } as const;

// opcodes (struct bpf_insn.code)
const LDX_MEM_W = 0x61;
const ALU32_MOV_X = 0xbc;
const ALU32_MOV_K = 0xb4;
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const JMP32_JNE_K = 0x56;
const EXIT = 0x95;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= ACC[ch as keyof typeof ACC] ?? 0;
  return bits;
}

function ruleInsns(rule: LinuxDeviceCgroup): Insn[] {
  const checks: Array<(skip: number) => Insn[]> = [];
  if (rule.type === 'b' || rule.type === 'c') checks.push((skip) => [[JMP32_JNE_K, 3, 0, skip, rule.type === 'b' ? DEV_BLOCK : DEV_CHAR]]);
  const bits = accessBits(rule.access);
  if (bits !== 7) {
    // (requested & ~allowed) must be 0
    checks.push((skip) => [[ALU32_MOV_X, 7, 4, 0, 0], [ALU32_AND_K, 7, 0, 0, ~bits & 7], [JMP32_JNE_K, 7, 0, skip, 0]]);
  }
  if (rule.major !== undefined && rule.major >= 0) checks.push((skip) => [[JMP32_JNE_K, 5, 0, skip, rule.major!]]);
  if (rule.minor !== undefined && rule.minor >= 0) checks.push((skip) => [[JMP32_JNE_K, 6, 0, skip, rule.minor!]]);
  const tail: Insn[] = [[ALU32_MOV_K, 0, 0, 0, rule.allow ? 1 : 0], [EXIT, 0, 0, 0, 0]];
  // laid out backwards: each check ends with its jump, which skips everything after it in this rule's block
  let block = tail;
  for (let i = checks.length - 1; i >= 0; i--) block = [...checks[i]!(block.length), ...block];
  return block;
}

/** OCI device rules → struct bpf_insn[] bytes (little-endian, as the kernel reads them on x86_64/aarch64). */
export function compileDeviceFilter(rules: readonly LinuxDeviceCgroup[]): Buffer {
  const prog: Insn[] = [
    [LDX_MEM_W, 2, 1, 0, 0], // r2 = access_type
    [ALU32_MOV_X, 3, 2, 0, 0],
    [ALU32_AND_K, 3, 0, 0, 0xffff], // r3 = type
    [ALU32_MOV_X, 4, 2, 0, 0],
    [ALU32_RSH_K, 4, 0, 0, 16], // r4 = access
    [LDX_MEM_W, 5, 1, 4, 0], // r5 = major
    [LDX_MEM_W, 6, 1, 8, 0], // r6 = minor
  ];
  // the verifier refuses unreachable code: a rule matching everything ends the program
  let open = true;
  for (let i = rules.length - 1; i >= 0 && open; i--) {
    const insns = ruleInsns(rules[i]!);
    prog.push(...insns);
    if (insns.length === 2) open = false;
  }
  if (open) prog.push([ALU32_MOV_K, 0, 0, 0, 0], [EXIT, 0, 0, 0, 0]);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, dst, src, off, imm], i) => {
    buf.writeUInt8(code, i * 8);
    buf.writeUInt8((src << 4) | dst, i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return buf;
}
