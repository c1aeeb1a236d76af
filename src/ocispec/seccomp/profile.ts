/**
 * Docker's seccomp profile format (`--security-opt seccomp=profile.json`, moby's profiles/seccomp/default.json):
 * the OCI runtime-spec LinuxSeccomp fields plus docker's extensions (archMap, per-rule includes/excludes on
 * capabilities, architectures and kernel version, the deprecated single `name`).
 *
 * Argument values are 64-bit unsigned: a `number` while it is a safe integer, a `bigint` beyond (the parser keeps
 * JSON literals above 2^53 exact instead of rounding them).
 */
import { UsageError } from '../../errors.js';

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

/** libseccomp's architecture names, as profiles spell them (others of the SCMP_ARCH_ form are accepted too) */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
] as const;

export const SECCOMP_FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] as const;
export type SeccompFlag = (typeof SECCOMP_FLAGS)[number];

/** one condition on a syscall argument; all conditions of a rule must hold */
export interface SeccompArg {
  /** argument index, 0..5 */
  index: number;
  /** the datum; for SCMP_CMP_MASKED_EQ the mask */
  value: number | bigint;
  /** SCMP_CMP_MASKED_EQ only: the value `arg & mask` must equal (0 when absent) */
  valueTwo?: number | bigint;
  op: SeccompOperator;
}

/**
 * A condition on the container or host deciding whether a rule is part of the filter: `caps` are capability names
 * (CAP_SYS_ADMIN), `arches` libseccomp's native names (amd64, arm64, x86, x32, arm, s390x, ...), `minKernel`
 * "<major>.<minor>". includes: all must hold; excludes: any one drops the rule.
 */
export interface SeccompRuleFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  /** SCMP_ACT_ERRNO's errno (EPERM when absent); SCMP_ACT_TRACE's message data */
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: SeccompRuleFilter;
  excludes?: SeccompRuleFilter;
}

export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[] | null;
}

export interface SeccompProfile {
  /** absent only in a profile without syscalls, which means unconfined (docker's rule) */
  defaultAction?: SeccompAction;
  /** errno for a SCMP_ACT_ERRNO default action (EPERM when absent) */
  defaultErrnoRet?: number;
  /** explicit architecture list (OCI form); exclusive with archMap */
  architectures?: string[];
  /** docker's form: for the native architecture, the sub-architectures the filter also covers */
  archMap?: SeccompArchMapEntry[];
  flags?: SeccompFlag[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: SeccompRule[];
}

/** a profile that disables seccomp, by docker's rule: no default action and no syscalls */
export function isUnconfinedProfile(p: { defaultAction?: string; syscalls?: unknown[] }): boolean {
  return !p.defaultAction && (p.syscalls?.length ?? 0) === 0;
}

/** "<major>.<minor>" (docker ignores anything after the minor number only when reading the host's release) */
export function parseKernelVersion(v: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (!m) return undefined;
  const k: [number, number] = [Number(m[1]), Number(m[2])];
  if (k[0] > 255 || k[1] > 255 || (k[0] === 0 && k[1] === 0)) return undefined;
  return k;
}

const U64_MAX = (1n << 64n) - 1n;
/** marker for integer literals the JSON pre-pass turned into strings to keep them exact */
const BIG = '\u0000u64:';

/**
 * JSON.parse, except that integer literals longer than 15 digits become marker strings (JSON.parse would round
 * them to a double). Strings are copied through untouched.
 */
function parseJsonExact(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
      i++;
    } else if ((c >= 48 && c <= 57) || c === 45 /* - */) {
      const start = i;
      i++;
      while (i < n && /[0-9eE.+-]/.test(text[i]!)) i++;
      const lit = text.slice(start, i);
      if (/^-?\d{16,}$/.test(lit)) {
        out += text.slice(last, start) + `"\\u0000u64:${lit}"`; // decodes to BIG + the digits
        last = i;
      }
    } else i++;
  }
  return JSON.parse(out + text.slice(last));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class ProfileReader {
  constructor(private readonly source: string) {}

  fail(where: string, what: string): never {
    throw new UsageError(`seccomp profile ${this.source}: ${where ? `${where}: ` : ''}${what}`);
  }

  object(v: Json | undefined, where: string): { [k: string]: Json } {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(where, `expected an object, got ${describe(v)}`);
    return v;
  }

  string(v: Json | undefined, where: string): string {
    if (typeof v !== 'string' || v.startsWith(BIG)) this.fail(where, `expected a string, got ${describe(v)}`);
    return v;
  }

  optString(v: Json | undefined, where: string): string | undefined {
    return v === undefined || v === null || v === '' ? undefined : this.string(v, where);
  }

  strings(v: Json | undefined, where: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(where, `expected an array of strings, got ${describe(v)}`);
    return v.map((s, i) => this.string(s, `${where}[${i}]`));
  }

  /** unsigned integer of at most `bits` bits */
  uint(v: Json | undefined, where: string, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) this.fail(where, `expected an integer from 0 to ${max}, got ${describe(v)}`);
    return v;
  }

  u64(v: Json | undefined, where: string): number | bigint {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    if (typeof v === 'string' && v.startsWith(BIG)) {
      const big = BigInt(v.slice(BIG.length));
      if (big >= 0n && big <= U64_MAX) return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    this.fail(where, `expected an unsigned 64-bit integer, got ${describe(v)}`);
  }

  arch(v: Json | undefined, where: string): string {
    const s = this.string(v, where);
    if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(s)) this.fail(where, `not an architecture name: ${JSON.stringify(s)} (e.g. ${SECCOMP_ARCHES.slice(0, 3).join(', ')})`);
    return s;
  }

  oneOf<T extends string>(v: Json | undefined, where: string, allowed: readonly T[], what: string): T {
    const s = this.string(v, where);
    if (!(allowed as readonly string[]).includes(s)) this.fail(where, `unknown ${what} ${JSON.stringify(s)} (expected one of ${allowed.join(', ')})`);
    return s as T;
  }


  filter(v: Json | undefined, where: string): SeccompRuleFilter | undefined {
    if (v === undefined || v === null) return undefined;
    const o = this.object(v, where);
    const f: SeccompRuleFilter = {};
    const caps = this.strings(o.caps, `${where}.caps`);
    if (caps?.length) f.caps = caps.map((c, i) => (/^CAP_[A-Z_]+$/.test(c) ? c : this.fail(`${where}.caps[${i}]`, `not a capability name: ${JSON.stringify(c)}`)));
    const arches = this.strings(o.arches, `${where}.arches`);
    if (arches?.length) f.arches = arches;
    const mk = this.optString(o.minKernel, `${where}.minKernel`);
    if (mk !== undefined) {
      if (!parseKernelVersion(mk)) this.fail(`${where}.minKernel`, `invalid kernel version ${JSON.stringify(mk)}, expected "<kernel>.<major>"`);
      f.minKernel = mk;
    }
    return f;
  }

  arg(v: Json, where: string): SeccompArg {
    const o = this.object(v, where);
    const a: SeccompArg = {
      index: this.uint(o.index, `${where}.index`, 5),
      value: this.u64(o.value ?? 0, `${where}.value`),
      op: this.oneOf(o.op, `${where}.op`, SECCOMP_OPERATORS, 'operator'),
    };
    if (o.valueTwo !== undefined && o.valueTwo !== null) a.valueTwo = this.u64(o.valueTwo, `${where}.valueTwo`);
    return a;
  }

  rule(v: Json, where: string): SeccompRule {
    const o = this.object(v, where);
    const names = this.strings(o.names, `${where}.names`) ?? [];
    const name = this.optString(o.name, `${where}.name`);
    if (name !== undefined && names.length) this.fail(where, `both 'name' and 'names' are specified, use either 'name' or 'names'`);
    if (name !== undefined) names.push(name);
    if (!names.length) this.fail(where, `no syscall names`);
    const r: SeccompRule = { names, action: this.oneOf(o.action, `${where}.action`, SECCOMP_ACTIONS, 'action') };
    if (o.errnoRet !== undefined && o.errnoRet !== null) r.errnoRet = this.uint(o.errnoRet, `${where}.errnoRet`, 0xffff);
    if (o.args !== undefined && o.args !== null) {
      if (!Array.isArray(o.args)) this.fail(`${where}.args`, `expected an array, got ${describe(o.args)}`);
      if (o.args.length) r.args = o.args.map((a, i) => this.arg(a, `${where}.args[${i}]`));
    }
    const comment = this.optString(o.comment, `${where}.comment`);
    if (comment !== undefined) r.comment = comment;
    const inc = this.filter(o.includes, `${where}.includes`);
    if (inc && Object.keys(inc).length) r.includes = inc;
    const exc = this.filter(o.excludes, `${where}.excludes`);
    if (exc && Object.keys(exc).length) r.excludes = exc;
    return r;
  }

  profile(v: Json): SeccompProfile {
    const o = this.object(v, '');
    const syscalls = o.syscalls ?? [];
    if (!Array.isArray(syscalls)) this.fail('syscalls', `expected an array, got ${describe(syscalls)}`);
    const p: SeccompProfile = { syscalls: syscalls.map((r, i) => this.rule(r, `syscalls[${i}]`)) };
    if (o.defaultAction !== undefined && o.defaultAction !== null && o.defaultAction !== '') p.defaultAction = this.oneOf(o.defaultAction, 'defaultAction', SECCOMP_ACTIONS, 'action');
    else if (p.syscalls.length) this.fail('defaultAction', 'missing (required when syscalls are listed)');
    if (o.defaultErrnoRet !== undefined && o.defaultErrnoRet !== null) p.defaultErrnoRet = this.uint(o.defaultErrnoRet, 'defaultErrnoRet', 0xffff);
    const arches = this.strings(o.architectures, 'architectures');
    if (arches?.length) {
      arches.forEach((a, i) => this.arch(a, `architectures[${i}]`));
      p.architectures = arches;
    }
    if (o.archMap !== undefined && o.archMap !== null) {
      if (!Array.isArray(o.archMap)) this.fail('archMap', `expected an array, got ${describe(o.archMap)}`);
      p.archMap = o.archMap.map((e, i) => {
        const w = `archMap[${i}]`;
        const m = this.object(e, w);
        const subs = this.strings(m.subArchitectures, `${w}.subArchitectures`);
        subs?.forEach((a, j) => this.arch(a, `${w}.subArchitectures[${j}]`));
        return { architecture: this.arch(m.architecture, `${w}.architecture`), subArchitectures: subs ?? null };
      });
      if (p.architectures && p.archMap.length) this.fail('', `both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'`);
    }
    const flags = this.strings(o.flags, 'flags');
    if (flags?.length) p.flags = flags.map((f, i) => this.oneOf(f, `flags[${i}]`, SECCOMP_FLAGS, 'flag'));
    const lp = this.optString(o.listenerPath, 'listenerPath');
    if (lp !== undefined) p.listenerPath = lp;
    const lm = this.optString(o.listenerMetadata, 'listenerMetadata');
    if (lm !== undefined) p.listenerMetadata = lm;
    return p;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string' && v.startsWith(BIG)) return v.slice(BIG.length);
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * Parses a docker-format seccomp profile. `source` names it in errors (the file path of
 * `--security-opt seccomp=<path>`). Throws UsageError("seccomp profile <source>: <where>: <what>").
 * A profile with neither defaultAction nor syscalls parses (it means unconfined: see isUnconfinedProfile).
 */
export function parseProfile(text: string, source = 'profile'): SeccompProfile {
  const reader = new ProfileReader(source);
  let json: unknown;
  try {
    json = parseJsonExact(text);
  } catch (err) {
    reader.fail('', `invalid JSON: ${(err as Error).message}`);
  }
  return reader.profile(json as Json);
}
