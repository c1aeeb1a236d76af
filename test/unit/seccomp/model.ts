/**
 * A reference model of what a compiled profile must decide, written independently of the compiler: the rules
 * docker keeps for the container, then the first rule (profile order) whose conditions hold, compared with BigInt.
 */
import type { SeccompProfile } from '../../../src/ocispec/seccomp/index.js';

/** docker's default capability set */
export const DOCKER_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export interface ModelCtx {
  native: 'amd64' | 'arm64';
  caps: Set<string>;
  kernel: [number, number];
  table: Readonly<Record<string, number>>;
  /** argument indexes compared on their low 32 bits only, per syscall name (all for a 32-bit ABI) */
  lowArgs: (name: string, index: number) => boolean;
  enosys: boolean;
}

const M64 = (1n << 64n) - 1n;
const ERRNO = (e: number) => (0x50000 | (e & 0xffff)) >>> 0;

function act(action: string, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    case 'SCMP_ACT_ERRNO':
      return ERRNO(errnoRet ?? 1);
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x30000;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | ((errnoRet ?? 1) & 0xffff)) >>> 0;
  }
  throw new Error(`model: action ${action}`);
}

const ver = (s: string) => s.split('.').map(Number) as [number, number];
const atLeast = (k: [number, number], m: [number, number]) => k[0] > m[0] || (k[0] === m[0] && k[1] >= m[1]);

export function keptRules(profile: SeccompProfile, ctx: ModelCtx) {
  return profile.syscalls.filter((r) => {
    if (r.excludes?.arches?.includes(ctx.native)) return false;
    if (r.excludes?.caps?.some((c) => ctx.caps.has(c))) return false;
    if (r.excludes?.minKernel && atLeast(ctx.kernel, ver(r.excludes.minKernel))) return false;
    if (r.includes?.arches?.length && !r.includes.arches.includes(ctx.native)) return false;
    if (r.includes?.caps && !r.includes.caps.every((c) => ctx.caps.has(c))) return false;
    if (r.includes?.minKernel && !atLeast(ctx.kernel, ver(r.includes.minKernel))) return false;
    return true;
  });
}

type Rule = SeccompProfile['syscalls'][number];
const cache = new WeakMap<ModelCtx, WeakMap<SeccompProfile, { byNr: Map<number, [Rule, string][]>; max: number }>>();

/** the kept rules by syscall number (in profile order), and the highest number named */
function prepared(profile: SeccompProfile, ctx: ModelCtx) {
  let per = cache.get(ctx);
  if (!per) cache.set(ctx, (per = new WeakMap()));
  let p = per.get(profile);
  if (!p) {
    const byNr = new Map<number, [Rule, string][]>();
    let max = -1;
    for (const r of keptRules(profile, ctx)) {
      const seen = new Set<number>();
      for (const n of r.names) {
        if (!Object.hasOwn(ctx.table, n)) continue;
        const nr = ctx.table[n]!;
        max = Math.max(max, nr);
        if (seen.has(nr)) continue;
        seen.add(nr);
        if (!byNr.has(nr)) byNr.set(nr, []);
        byNr.get(nr)!.push([r, n]);
      }
    }
    per.set(profile, (p = { byNr, max }));
  }
  return p;
}

/** expected seccomp return for syscall `nr` with `args` (already within one architecture's section) */
export function expected(profile: SeccompProfile, ctx: ModelCtx, nr: number, args: bigint[]): number {
  const dflt = act(profile.defaultAction!, profile.defaultErrnoRet);
  const { byNr, max } = prepared(profile, ctx);
  for (const [r, name] of byNr.get(nr) ?? []) {
    const ok = (r.args ?? []).every((c) => {
      let a = BigInt.asUintN(64, args[c.index] ?? 0n);
      if (ctx.lowArgs(name, c.index)) a &= 0xffffffffn;
      const v = BigInt(c.value) & M64;
      switch (c.op) {
        case 'SCMP_CMP_EQ':
          return a === v;
        case 'SCMP_CMP_NE':
          return a !== v;
        case 'SCMP_CMP_LT':
          return a < v;
        case 'SCMP_CMP_LE':
          return a <= v;
        case 'SCMP_CMP_GT':
          return a > v;
        case 'SCMP_CMP_GE':
          return a >= v;
        case 'SCMP_CMP_MASKED_EQ':
          return (a & v) === BigInt(c.valueTwo ?? 0);
      }
      return false;
    });
    if (ok) return act(r.action, r.errnoRet);
  }
  const permissive = dflt === 0x7fff0000 || dflt === 0x7ffc0000 || (dflt & 0xffff0000) >>> 0 === 0x7ff00000;
  if (ctx.enosys && !permissive && max >= 0 && nr > max) return ERRNO(38);
  return dflt;
}
