/**
 * Compiles a docker-format seccomp profile into a classic BPF program (`struct sock_filter[]`, 8 bytes per
 * instruction, host byte order) for seccomp(SECCOMP_SET_MODE_FILTER). Pure apart from reading the host kernel
 * version when the caller does not give one.
 *
 * Program layout:
 *
 *   ld arch; jeq AUDIT_ARCH_<native> → native section; [x86_64: jeq AUDIT_ARCH_I386 → i386 section];
 *   ret KILL_PROCESS                                    any other architecture
 *   native section: ld nr
 *     [x86_64: jge 0x40000000 → ret <x32 action>]       x32 ABI calls: never allowed (see below)
 *     binary search over syscall-number intervals; each leaf is `ret <action>`, or for a syscall with argument
 *     conditions a chain of rule blocks (in profile order, the first whose conditions all hold returns its
 *     action) ending in `ret <default>`
 *
 * Semantics, following docker (moby/profiles/seccomp) + runc + libseccomp unless noted:
 * - Rules are selected by includes/excludes against the given capabilities (docker checks the bounding set),
 *   the native architecture name (amd64, arm64) and the host kernel version (minKernel).
 * - Several rules for one syscall: the first matching rule in profile order decides; none matches → default.
 * - Names unknown for an architecture are skipped.
 * - Architectures: docker's x86_64 profile also covers i386 and x32 (archMap). i386 is supported (its own
 *   section with i386 numbers, arguments compared as 32-bit values as libseccomp does for 32-bit arches). x32
 *   calls (nr with bit 30 set under AUDIT_ARCH_X86_64) always get the default action, or EPERM when the default
 *   allows — never the allowlist. On aarch64 the 32-bit ARM compat ABI is not supported. Every architecture not
 *   covered is killed (SECCOMP_RET_KILL_PROCESS; libseccomp's default for a "bad arch" kills too).
 * - Like runc, a syscall number above every number the profile names (for that architecture) gets ENOSYS rather
 *   than the default errno, so programs fall back from syscalls newer than the profile (option `enosysForNewer`).
 * - Argument comparisons are unsigned 64-bit (both 32-bit halves; seccomp_data is little endian on both
 *   architectures). Deviation (hardening): for arguments the kernel itself reads as 32-bit ints (KERNEL_INT_ARGS:
 *   socket's family, personality's persona, ioctl's cmd, ...) only the low half is compared, since the kernel
 *   ignores the high half — with a full 64-bit compare, `socket(AF_VSOCK | 1 << 32, ...)` would pass a
 *   `family > AF_VSOCK` rule and still create a vsock socket.
 * - Classic BPF conditional jumps reach 255 instructions: longer forward jumps go through `ja` trampolines
 *   (or a copy of the target when it is a `ret`), inserted until the layout is stable.
 */
import os from 'node:os';
import { UsageError } from '../../errors.js';
import { parseKernelVersion, type SeccompAction, type SeccompArg, type SeccompProfile, type SeccompRule } from './profile.js';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.js';
import { SYSCALLS_I386, SYSCALLS_X86_64 } from './syscalls-x86_64.js';

export type SeccompArch = 'x86_64' | 'aarch64';

export interface CompileOptions {
  arch: SeccompArch;
  /** capability names (CAP_SYS_ADMIN...) the container has, for includes/excludes.caps; or a bit mask */
  capabilities: Iterable<string> | bigint;
  /** host kernel [major, minor] for minKernel rules; default: from os.release() */
  kernel?: [number, number];
  /** ENOSYS for syscall numbers above the profile's highest (runc's behaviour); default true */
  enosysForNewer?: boolean;
}

// seccomp return values (<linux/seccomp.h>)
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

// <linux/audit.h>
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

export const X32_SYSCALL_BIT = 0x40000000;
export const BPF_MAXINSNS = 4096;

/** SECCOMP_FILTER_FLAG_* of a profile's `flags`, for the seccomp() call */
export function seccompFilterFlags(profile: SeccompProfile): number {
  const bits: Record<string, number> = { SECCOMP_FILTER_FLAG_TSYNC: 1, SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32 };
  return (profile.flags ?? []).reduce((acc, f) => acc | (bits[f] ?? 0), 0);
}

/** capability names by bit (<linux/capability.h>) */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** every capability name the kernel knows (a privileged container's set) */
export const ALL_CAPABILITIES: readonly string[] = Object.freeze([...CAPABILITIES]);

function capabilitySet(caps: Iterable<string> | bigint): Set<string> {
  if (typeof caps !== 'bigint') return new Set(caps);
  return new Set(CAPABILITIES.filter((_, bit) => (caps >> BigInt(bit)) & 1n));
}

/**
 * Arguments the kernel declares as 32-bit (int / unsigned int) and so truncates: only their low half is compared
 * (see the module comment). Indexes per syscall name.
 */
export const KERNEL_INT_ARGS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  socket: [0, 1, 2], // int family, int type, int protocol
  socketpair: [0, 1, 2],
  personality: [0], // unsigned int personality
  ioctl: [0, 1], // unsigned int fd, unsigned int cmd
  fcntl: [0, 1], // unsigned int fd, unsigned int cmd
  prctl: [0], // int option
  setsockopt: [0, 1, 2], // int fd, int level, int optname
  getsockopt: [0, 1, 2],
  setns: [0, 1], // int fd, int nstype
  kill: [1], // int sig
});

interface ArchSection {
  audit: number;
  table: Readonly<Record<string, number>>;
  /** 32-bit ABI: arguments are 32-bit values */
  is32: boolean;
}

/** libseccomp's native architecture names, which includes/excludes.arches use */
const NATIVE_NAME: Record<SeccompArch, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const SCMP_NATIVE: Record<SeccompArch, string> = { x86_64: 'SCMP_ARCH_X86_64', aarch64: 'SCMP_ARCH_AARCH64' };

// ---- rule selection ----------------------------------------------------------------------------------------

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const m = parseKernelVersion(min);
  if (!m) throw new UsageError(`seccomp: invalid minKernel ${JSON.stringify(min)}`);
  return kernel[0] > m[0] || (kernel[0] === m[0] && kernel[1] >= m[1]);
}

function selectRules(profile: SeccompProfile, native: string, caps: Set<string>, kernel: [number, number]): SeccompRule[] {
  return profile.syscalls.filter((r) => {
    const ex = r.excludes;
    if (ex) {
      if (ex.arches?.includes(native)) return false;
      if (ex.caps?.some((c) => caps.has(c))) return false;
      if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) return false;
    }
    const inc = r.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(native)) return false;
      if (inc.caps?.some((c) => !caps.has(c))) return false;
      if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
    }
    return true;
  });
}

function actionValue(action: SeccompAction, errnoRet: number | undefined, where: string): number {
  const data = (errnoRet ?? 1) & 0xffff; // runc: EPERM unless errnoRet says otherwise
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | data) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new UsageError(`seccomp: ${where}: SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which tsdock does not support`);
    default:
      throw new UsageError(`seccomp: ${where}: unknown action ${JSON.stringify(action)}`);
  }
}

const isPermissive = (ret: number) => ret === SECCOMP_RET.ALLOW || ret === SECCOMP_RET.LOG;
/** runc adds its ENOSYS stub unless the default lets calls through (allow, log, or trace: a tracer handles them) */
const wantsEnosysStub = (ret: number) => !isPermissive(ret) && (ret & 0xffff0000) >>> 0 !== SECCOMP_RET.TRACE;

// ---- per-syscall decision ----------------------------------------------------------------------------------

interface Cond {
  index: number;
  op: SeccompArg['op'];
  value: bigint;
  valueTwo: bigint;
  /** compare the low 32 bits only */
  low: boolean;
}

interface Entry {
  ret: number;
  conds: Cond[];
}

/** a syscall's outcome: a plain action, or rule blocks checked in order then `fallback` */
type Outcome = { ret: number; entries?: undefined } | { ret?: undefined; entries: Entry[]; fallback: number; key: string };

const U32 = 0xffffffffn;

function outcomeFor(entries: Entry[], dflt: number): Outcome {
  // the first unconditional rule ends the chain; trailing rules that return the default change nothing
  const cut = entries.findIndex((e) => e.conds.length === 0);
  let list = cut >= 0 ? entries.slice(0, cut) : entries;
  const fallback = cut >= 0 ? entries[cut]!.ret : dflt;
  while (list.length && list[list.length - 1]!.ret === fallback) list = list.slice(0, -1);
  if (!list.length) return { ret: fallback };
  return { entries: list, fallback, key: JSON.stringify([list, fallback], (_, v) => (typeof v === 'bigint' ? v.toString() : v)) };
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.entries === undefined ? b.entries === undefined && a.ret === b.ret : b.entries !== undefined && a.key === b.key;
}

// ---- assembler with labels and long-jump trampolines -----------------------------------------------------

const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

type Label = { pos: number };
type Ins =
  | { t: 'op'; code: number; k: number }
  | { t: 'jmp'; code: number; k: number; jt: Label; jf: Label; farT: boolean; farF: boolean }
  | { t: 'ja'; to: Label }
  | { t: 'label'; l: Label };

class Assembler {
  readonly code: Ins[] = [];
  label(): Label {
    return { pos: -1 };
  }
  place(l: Label): void {
    this.code.push({ t: 'label', l });
  }
  ld(k: number): void {
    this.code.push({ t: 'op', code: BPF.LD_W_ABS, k });
  }
  and(k: number): void {
    this.code.push({ t: 'op', code: BPF.ALU_AND_K, k });
  }
  ret(k: number): void {
    this.code.push({ t: 'op', code: BPF.RET_K, k });
  }
  ja(to: Label): void {
    this.code.push({ t: 'ja', to });
  }
  jmp(code: number, k: number, jt: Label, jf: Label): void {
    this.code.push({ t: 'jmp', code, k: k >>> 0, jt, jf, farT: false, farF: false });
  }

  private layout(): number {
    let pos = 0;
    for (const ins of this.code) {
      if (ins.t === 'label') ins.l.pos = pos;
      else pos += ins.t === 'jmp' ? 1 + (ins.farT ? 1 : 0) + (ins.farF ? 1 : 0) : 1;
    }
    return pos;
  }

  /** the instruction a label points at, when it is a `ret` (far jumps to it copy it instead of jumping) */
  private retAt(l: Label): number | undefined {
    const i = this.index.get(l.pos);
    const ins = i === undefined ? undefined : this.code[i];
    return ins?.t === 'op' && ins.code === BPF.RET_K ? ins.k : undefined;
  }
  private index = new Map<number, number>();

  assemble(): Buffer {
    // widen jumps whose targets are out of 8-bit reach until nothing changes (positions only grow, so this ends)
    let total = this.layout();
    for (let changed = true; changed; ) {
      changed = false;
      let pos = 0;
      for (const ins of this.code) {
        if (ins.t === 'label') continue;
        if (ins.t === 'jmp') {
          // offsets count from the instruction after the jump (trampolines included)
          if (!ins.farT && ins.jt.pos - (pos + 1) > 255) ins.farT = changed = true;
          if (!ins.farF && ins.jf.pos - (pos + 1) > 255) ins.farF = changed = true;
          pos += 1 + (ins.farT ? 1 : 0) + (ins.farF ? 1 : 0);
        } else pos++;
      }
      if (changed) total = this.layout();
    }
    if (total > BPF_MAXINSNS) throw new UsageError(`seccomp: the compiled filter has ${total} instructions, more than the kernel's ${BPF_MAXINSNS}`);
    this.index.clear();
    for (let i = 0, pos = 0; i < this.code.length; i++) {
      const ins = this.code[i]!;
      if (ins.t === 'label') continue;
      if (!this.index.has(pos)) this.index.set(pos, i);
      pos += ins.t === 'jmp' ? 1 + (ins.farT ? 1 : 0) + (ins.farF ? 1 : 0) : 1;
    }
    const out = Buffer.alloc(total * 8);
    let pos = 0;
    const emit = (code: number, jt: number, jf: number, k: number) => {
      if (jt < 0 || jt > 255 || jf < 0 || jf > 255 || k < 0) throw new Error(`seccomp: internal error: bad jump at ${pos} (${jt}, ${jf}, ${k})`);
      out.writeUInt16LE(code, pos * 8);
      out.writeUInt8(jt, pos * 8 + 2);
      out.writeUInt8(jf, pos * 8 + 3);
      out.writeUInt32LE(k >>> 0, pos * 8 + 4);
      pos++;
    };
    const far = (to: Label) => {
      const r = this.retAt(to);
      if (r !== undefined) emit(BPF.RET_K, 0, 0, r);
      else emit(BPF.JA, 0, 0, to.pos - (pos + 1));
    };
    for (const ins of this.code) {
      if (ins.t === 'label') continue;
      if (ins.t === 'op') emit(ins.code, 0, 0, ins.k);
      else if (ins.t === 'ja') emit(BPF.JA, 0, 0, ins.to.pos - (pos + 1));
      else {
        const next = pos + 1;
        const jt = ins.farT ? 0 : ins.jt.pos - next;
        const jf = ins.farF ? (ins.farT ? 1 : 0) : ins.jf.pos - next;
        emit(ins.code, jt, jf, ins.k);
        if (ins.farT) far(ins.jt);
        if (ins.farF) far(ins.jf);
      }
    }
    if (pos !== total) throw new Error('seccomp: internal error: layout mismatch');
    // host byte order: the kernel reads struct sock_filter natively; both supported arches are little endian
    return out;
  }
}

// ---- code generation -------------------------------------------------------------------------------------

const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 16 + 8 * i + 4;

/**
 * The low-half test of a condition: with A = the argument's low 32 bits, jump to `pass` or `fail`. `op` here is
 * what the low half decides once the high halves are known to be equal.
 */
function emitLow(a: Assembler, op: SeccompArg['op'], vLo: number, mask: number, pass: Label, fail: Label): void {
  switch (op) {
    case 'SCMP_CMP_EQ':
      return a.jmp(BPF.JEQ_K, vLo, pass, fail);
    case 'SCMP_CMP_NE':
      return a.jmp(BPF.JEQ_K, vLo, fail, pass);
    case 'SCMP_CMP_GT':
      return a.jmp(BPF.JGT_K, vLo, pass, fail);
    case 'SCMP_CMP_GE':
      return a.jmp(BPF.JGE_K, vLo, pass, fail);
    case 'SCMP_CMP_LT':
      return a.jmp(BPF.JGE_K, vLo, fail, pass);
    case 'SCMP_CMP_LE':
      return a.jmp(BPF.JGT_K, vLo, fail, pass);
    case 'SCMP_CMP_MASKED_EQ':
      if (mask !== 0xffffffff) a.and(mask);
      return a.jmp(BPF.JEQ_K, vLo, pass, fail);
  }
}

/** emits code that falls through when `c` holds and jumps to `fail` otherwise */
function emitCond(a: Assembler, c: Cond, fail: Label): void {
  const masked = c.op === 'SCMP_CMP_MASKED_EQ';
  // for MASKED_EQ the compared datum is valueTwo and value is the mask
  const datum = masked ? c.valueTwo : c.value;
  const mask = masked ? c.value : U32 | (U32 << 32n);
  const dHi = Number(datum >> 32n);
  const dLo = Number(datum & U32);
  const mHi = Number(mask >> 32n);
  const mLo = Number(mask & U32);
  const pass = a.label();
  // what the high halves say: 'low' = equal, decide on the low half; 'pass'/'fail' = decided
  if (c.low || (masked && mHi === 0)) {
    // only the low half counts: as if the argument's high half were 0 (the kernel truncates it; or it is masked
    // away). Then the high halves are equal iff the datum's is 0, and otherwise 0 < dHi decides.
    if (dHi !== 0) {
      const below = c.op === 'SCMP_CMP_NE' || c.op === 'SCMP_CMP_LT' || c.op === 'SCMP_CMP_LE';
      if (!below) a.ja(fail); // EQ, GT, GE, MASKED_EQ can never hold
      return; // NE, LT, LE always hold
    }
    a.ld(argLo(c.index));
    emitLow(a, c.op, dLo, mLo, pass, fail);
    a.place(pass);
    return;
  }
  const lowHalf = a.label();
  a.ld(argHi(c.index));
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      a.jmp(BPF.JEQ_K, dHi, lowHalf, fail);
      break;
    case 'SCMP_CMP_NE':
      a.jmp(BPF.JEQ_K, dHi, lowHalf, pass);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      // hi > dHi → holds; hi < dHi → fails; equal → the low half decides
      if (dHi === 0) a.jmp(BPF.JEQ_K, 0, lowHalf, pass);
      else if (dHi === 0xffffffff) a.jmp(BPF.JEQ_K, dHi, lowHalf, fail);
      else {
        const notAbove = a.label();
        a.jmp(BPF.JGT_K, dHi, pass, notAbove);
        a.place(notAbove);
        a.jmp(BPF.JEQ_K, dHi, lowHalf, fail);
      }
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      // the negations of GE and GT
      if (dHi === 0) a.jmp(BPF.JEQ_K, 0, lowHalf, fail);
      else if (dHi === 0xffffffff) a.jmp(BPF.JEQ_K, dHi, lowHalf, pass);
      else {
        const notAbove = a.label();
        a.jmp(BPF.JGT_K, dHi, fail, notAbove);
        a.place(notAbove);
        a.jmp(BPF.JEQ_K, dHi, lowHalf, pass);
      }
      break;
    case 'SCMP_CMP_MASKED_EQ':
      if (mHi !== 0xffffffff) a.and(mHi);
      a.jmp(BPF.JEQ_K, dHi, lowHalf, fail);
      break;
  }
  a.place(lowHalf);
  a.ld(argLo(c.index));
  emitLow(a, c.op, dLo, mLo, pass, fail);
  a.place(pass);
}

function emitOutcome(a: Assembler, o: Outcome): void {
  if (o.entries === undefined) return a.ret(o.ret);
  for (const e of o.entries) {
    const next = a.label();
    for (const c of e.conds) emitCond(a, c, next);
    a.ret(e.ret);
    a.place(next);
  }
  a.ret(o.fallback);
}

interface Interval {
  lo: number;
  outcome: Outcome;
}

/** binary search over intervals (sorted, contiguous); the accumulator holds the syscall number */
function emitTree(a: Assembler, iv: Interval[], from: number, to: number): void {
  if (to - from === 1) return emitOutcome(a, iv[from]!.outcome);
  const mid = (from + to) >> 1;
  const right = a.label();
  const left = a.label();
  a.jmp(BPF.JGE_K, iv[mid]!.lo, right, left);
  a.place(left);
  emitTree(a, iv, from, mid);
  a.place(right);
  emitTree(a, iv, mid, to);
}

function buildIntervals(section: ArchSection, rules: SeccompRule[], dflt: number, enosys: boolean, top: number): Interval[] {
  const perNr = new Map<number, Entry[]>();
  const intArgs = (name: string) => KERNEL_INT_ARGS[name] ?? [];
  rules.forEach((r, ri) => {
    const ret = actionValue(r.action, r.errnoRet, `syscalls[${ri}]`);
    for (const name of r.names) {
      if (!Object.hasOwn(section.table, name)) continue; // not a syscall of this architecture
      const nr = section.table[name]!;
      const conds = (r.args ?? []).map((arg) => ({
        index: arg.index,
        op: arg.op,
        value: BigInt(arg.value),
        valueTwo: BigInt(arg.valueTwo ?? 0),
        low: section.is32 || intArgs(name).includes(arg.index),
      }));
      let list = perNr.get(nr);
      if (!list) perNr.set(nr, (list = []));
      list.push({ ret, conds });
    }
  });
  const nrs = [...perNr.keys()].sort((x, y) => x - y);
  const maxNr = nrs.length ? nrs[nrs.length - 1]! : -1;
  const iv: Interval[] = [];
  const push = (lo: number, outcome: Outcome) => {
    const last = iv[iv.length - 1];
    if (last && sameOutcome(last.outcome, outcome)) return;
    iv.push({ lo, outcome });
  };
  let next = 0;
  for (const nr of nrs) {
    if (nr > next) push(next, { ret: dflt });
    push(nr, outcomeFor(perNr.get(nr)!, dflt));
    next = nr + 1;
  }
  if (next <= top) push(next, { ret: enosys && wantsEnosysStub(dflt) && maxNr >= 0 ? (SECCOMP_RET.ERRNO | 38) >>> 0 : dflt });
  return iv;
}

// ---- entry point -----------------------------------------------------------------------------------------

export function hostKernel(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function compile(profile: SeccompProfile, opts: CompileOptions, caps: Set<string>, kernel: [number, number]): Buffer {
  if (!profile.defaultAction) throw new UsageError('seccomp: the profile has no defaultAction');
  const dflt = actionValue(profile.defaultAction, profile.defaultErrnoRet, 'defaultAction');
  const arches = new Set<string>([SCMP_NATIVE[opts.arch]]);
  if (profile.architectures?.length) profile.architectures.forEach((x) => arches.add(x));
  else for (const m of profile.archMap ?? []) if (m.architecture === SCMP_NATIVE[opts.arch]) (m.subArchitectures ?? []).forEach((x) => arches.add(x));

  const sections: ArchSection[] =
    opts.arch === 'x86_64'
      ? [{ audit: AUDIT_ARCH.X86_64, table: SYSCALLS_X86_64, is32: false }, ...(arches.has('SCMP_ARCH_X86') ? [{ audit: AUDIT_ARCH.I386, table: SYSCALLS_I386, is32: true }] : [])]
      : [{ audit: AUDIT_ARCH.AARCH64, table: SYSCALLS_AARCH64, is32: false }];
  const rules = selectRules(profile, NATIVE_NAME[opts.arch], caps, kernel);
  const enosys = opts.enosysForNewer ?? true;

  const a = new Assembler();
  const entry = sections.map(() => a.label());
  a.ld(4); // seccomp_data.arch
  sections.forEach((s, i) => {
    const no = a.label();
    a.jmp(BPF.JEQ_K, s.audit, entry[i]!, no);
    a.place(no);
  });
  a.ret(SECCOMP_RET.KILL_PROCESS);
  sections.forEach((s, i) => {
    a.place(entry[i]!);
    a.ld(0); // seccomp_data.nr
    let top = 0xffffffff;
    if (s.audit === AUDIT_ARCH.X86_64) {
      const x32 = a.label();
      const native = a.label();
      a.jmp(BPF.JGE_K, X32_SYSCALL_BIT, x32, native);
      a.place(x32);
      a.ret(isPermissive(dflt) ? (SECCOMP_RET.ERRNO | 1) >>> 0 : dflt);
      a.place(native);
      top = X32_SYSCALL_BIT - 1;
    }
    const iv = buildIntervals(s, rules, dflt, enosys, top);
    emitTree(a, iv, 0, iv.length);
  });
  return a.assemble();
}

const cache = new WeakMap<SeccompProfile, Map<string, Buffer>>();

/**
 * The BPF program for `profile` in a container with `capabilities` on `arch`. Cached per profile object and
 * (arch, capabilities, kernel, enosysForNewer); each call returns its own copy.
 * Throws UsageError for a profile tsdock cannot load (SCMP_ACT_NOTIFY, a program over 4096 instructions).
 */
export function compileSeccomp(profile: SeccompProfile, opts: CompileOptions): Buffer {
  if (opts.arch !== 'x86_64' && opts.arch !== 'aarch64') throw new UsageError(`seccomp: unsupported architecture ${JSON.stringify(opts.arch)}`);
  const caps = capabilitySet(opts.capabilities);
  const kernel = opts.kernel ?? hostKernel();
  const key = `${opts.arch}|${kernel.join('.')}|${opts.enosysForNewer ?? true}|${[...caps].sort().join(',')}`;
  let byKey = cache.get(profile);
  if (!byKey) cache.set(profile, (byKey = new Map()));
  let prog = byKey.get(key);
  if (!prog) {
    prog = compile(profile, opts, caps, kernel);
    byKey.set(key, prog);
  }
  return Buffer.from(prog);
}

/** the host's architecture as the compiler names it, or undefined when seccomp is not supported there */
export function nativeSeccompArch(): SeccompArch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
}
