/**
 * Seccomp for `tsdock run`: docker's default profile, docker-format profile files, and the compiler to the BPF
 * program the executor loads (PlanProcess.seccomp).
 */
import fs from 'node:fs';
import { TsdockError, UsageError } from '../../errors.js';
import { compileSeccomp, nativeSeccompArch, seccompFilterFlags, type SeccompArch } from './bpf.js';
import { defaultProfile } from './default-profile.js';
import { compileCached } from './disk-cache.js';
import { isUnconfinedProfile, parseProfile, type SeccompProfile } from './profile.js';

export { defaultProfile } from './default-profile.js';
export { parseProfile, isUnconfinedProfile } from './profile.js';
export type { SeccompProfile, SeccompRule, SeccompArg, SeccompRuleFilter, SeccompAction, SeccompOperator, SeccompArchMapEntry, SeccompFlag } from './profile.js';
export { compileSeccomp, seccompFilterFlags, nativeSeccompArch, ALL_CAPABILITIES, KERNEL_INT_ARGS, SECCOMP_RET, AUDIT_ARCH, BPF_MAXINSNS } from './bpf.js';
export type { SeccompArch, CompileOptions } from './bpf.js';

/**
 * `--security-opt seccomp=…`: "unconfined", the default profile, or a profile file (`content` when the caller has
 * already read it; otherwise it is read here)
 */
export type SeccompOption = 'default' | 'unconfined' | { path: string; content?: string };

const parsed = new Map<string, SeccompProfile>();

/** the profile an option selects; undefined for unconfined (also a file with neither defaultAction nor syscalls) */
export function seccompProfileFor(opt: SeccompOption): SeccompProfile | undefined {
  if (opt === 'unconfined') return undefined;
  if (opt === 'default') return defaultProfile;
  if (!opt || typeof opt !== 'object' || typeof opt.path !== 'string') throw new UsageError(`invalid seccomp option ${JSON.stringify(opt)}`);
  let content = opt.content;
  if (content === undefined) {
    try {
      content = fs.readFileSync(opt.path, 'utf8');
    } catch (err) {
      throw new UsageError(`opening seccomp profile (${opt.path}) failed: ${(err as Error).message}`, { cause: err });
    }
  }
  const key = `${opt.path}\u0000${content}`;
  let p = parsed.get(key);
  if (!p) {
    p = parseProfile(content, opt.path);
    if (parsed.size > 16) parsed.clear();
    parsed.set(key, p);
  }
  return isUnconfinedProfile(p) ? undefined : p;
}

/**
 * The seccomp BPF program for a container: `caps` are its capabilities (names or a bit mask; docker decides with
 * the bounding set), `arch` the host's. undefined when unconfined.
 */
export function seccompFor(opt: SeccompOption, caps: Iterable<string> | bigint, arch: SeccompArch, kernel?: [number, number]): Buffer | undefined {
  const profile = seccompProfileFor(opt);
  if (!profile) return undefined;
  return compileSeccomp(profile, kernel ? { arch, capabilities: caps, kernel } : { arch, capabilities: caps });
}

/**
 * The seccomp fields of a process's plan (run's init and exec's process alike: one decision): the program and its
 * filter flags, nothing when unconfined; compiled through the disk cache in `cacheDir` when given (disk-cache.ts). A profile on an architecture without a syscall table here is refused,
 * never skipped (`arch` undefined: nativeSeccompArch() found none).
 */
export function seccompPlanFor(opt: SeccompOption, caps: Iterable<string> | bigint, o: { arch?: SeccompArch; cacheDir?: string } = {}): { seccomp?: Buffer; seccompFlags?: number } {
  const profile = seccompProfileFor(opt);
  if (!profile) return {};
  const arch = 'arch' in o ? o.arch : nativeSeccompArch();
  if (!arch) throw new TsdockError(`seccomp: unsupported architecture ${process.arch} (use --security-opt seccomp=unconfined)`);
  return { seccomp: compileCached(profile, { arch, capabilities: caps }, o.cacheDir), seccompFlags: seccompFilterFlags(profile) };
}
