/**
 * Capabilities (`--cap-add/--cap-drop/--privileged`) and `--security-opt`, docker's rules
 * (docker/cli opts/capabilities.go, moby oci/caps TweakCapabilities, daemon parseSecurityOpt).
 */
import { UsageError } from '../errors.js';
import { allCapabilities, capabilityNumber, DEFAULT_CAPABILITIES, LAST_CAP } from './defaults.js';

/**
 * The seccomp profile to apply: the compiled default, none, or a docker-format JSON profile (compiled by
 * src/ocispec/seccomp/): its content as the request carries it, and where the container keeps its copy.
 */
export type SeccompChoice = 'default' | 'unconfined' | { path: string; content: string };

/** Upper-case, trim, add CAP_ unless it is the magic ALL (docker's NormalizeCapability). */
export function normalizeCapability(name: string): string {
  const c = name.trim().toUpperCase();
  if (c === 'ALL') return c;
  return c.startsWith('CAP_') ? c : `CAP_${c}`;
}

/**
 * docker CLI's EffectiveCapAddCapDrop: normalized, deduplicated, sorted; ALL in a list makes it just [ALL];
 * a capability both added and dropped is added (add wins).
 */
export function effectiveCapAddDrop(add: readonly string[], drop: readonly string[]): { capAdd: string[]; capDrop: string[] } {
  let adds = new Set(add.map(normalizeCapability));
  let drops = new Set(drop.map(normalizeCapability));
  if (adds.has('ALL')) adds = new Set(['ALL']);
  if (drops.has('ALL')) drops = new Set(['ALL']);
  const capDrop = [...drops].filter((c) => !adds.has(c)).sort();
  return { capAdd: [...adds].sort(), capDrop };
}

function validate(list: readonly string[], which: 'CapAdd' | 'CapDrop', lastCap: number): void {
  for (const c of list) {
    if (c === 'ALL') continue;
    const n = capabilityNumber(c);
    if (n === undefined || n > lastCap) throw new UsageError(`invalid ${which}: unknown capability: ${JSON.stringify(c)}`);
  }
}

export interface CapabilityOptions {
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  privileged?: boolean;
  /** the kernel's last capability (/proc/sys/kernel/cap_last_cap); default: every capability tsdock knows */
  lastCap?: number;
  /** tsdock's own bounding set (CapBnd): "every capability" means every one it can hand on (podman does the same) */
  bounding?: bigint;
}

/**
 * The container's capability list (bounding = effective = permitted), docker's TweakCapabilities:
 * - --privileged: every capability (cap-add/cap-drop ignored, as docker does);
 * - cap-add ALL: every capability but the dropped ones;
 * - cap-drop ALL: only the added ones;
 * - else the defaults minus the dropped, then the added (duplicates removed).
 * Unknown names: `invalid CapAdd: unknown capability: "CAP_FOO"`.
 */
export function resolveCapabilities(opts: CapabilityOptions): string[] {
  const lastCap = opts.lastCap ?? LAST_CAP;
  const { capAdd, capDrop } = effectiveCapAddDrop(opts.capAdd ?? [], opts.capDrop ?? []);
  validate(capAdd, 'CapAdd', lastCap);
  validate(capDrop, 'CapDrop', lastCap);
  const bounding = opts.bounding;
  const all = allCapabilities(lastCap).filter((c) => bounding === undefined || ((bounding >> BigInt(capabilityNumber(c) ?? 0)) & 1n) === 1n);
  if (opts.privileged) return all;
  const defaults = DEFAULT_CAPABILITIES.filter((c) => (capabilityNumber(c) ?? Infinity) <= lastCap);
  let caps: string[];
  if (capAdd.includes('ALL')) caps = all.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = [...capAdd];
  else caps = [...defaults.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** a profile's content, placed by buildSpec where the container keeps it */
  seccomp: 'default' | 'unconfined' | { content: string };
  /** `systempaths=unconfined`: no masked or read-only paths */
  unconfinedSystemPaths: boolean;
  /** podman's `mask=` (extra masked paths) and `unmask=` (paths, or ALL, left unmasked) */
  mask: string[];
  unmask: string[];
  warnings: string[];
}

function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/**
 * `--security-opt` values (moby parseSecurityOpt and the docker CLI):
 * - `no-new-privileges`, `no-new-privileges=true|false` (also with `:`);
 * - `seccomp=unconfined`, `seccomp=builtin` (the default profile), `seccomp=<the profile's JSON>` (as in the
 *   Engine API: the client reads the file, docker's CLI and tsdock's alike);
 * - `systempaths=unconfined`; podman's `mask=/a:/b` and `unmask=ALL|/a:/b`;
 * - `label=…`, `label:…`, `disable`, `apparmor=…`: accepted and ignored, with a warning (no SELinux/AppArmor);
 * - anything else: `invalid --security-opt 2: "<opt>"` (docker's words), or `invalid --security-opt 1` when the
 *   value has no `=` or `:`.
 * With --privileged, seccomp is always unconfined (docker ignores `seccomp=` then).
 */
export function parseSecurityOpts(opts: readonly string[], privileged = false): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', unconfinedSystemPaths: false, mask: [], unmask: [], warnings: [] };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      out.warnings.push(`--security-opt ${opt}: ignored, tsdock has no SELinux support`);
      continue;
    }
    const eq = opt.indexOf('=');
    const colon = opt.indexOf(':');
    const at = eq >= 0 ? eq : colon;
    if (at < 0) throw new UsageError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'no-new-privileges': {
        const b = parseGoBool(value);
        if (b === undefined) throw new UsageError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value === 'builtin') out.seccomp = 'default';
        else if (value === '') throw new UsageError(`invalid --security-opt 2: ${JSON.stringify(opt)}: empty seccomp profile path`);
        else if (value.trimStart().startsWith('{')) out.seccomp = { content: value };
        else throw new UsageError(`invalid --security-opt seccomp: want the profile's JSON content, not a path (${value}): the client reads the file`);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw new UsageError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.unconfinedSystemPaths = true;
        break;
      case 'mask':
      case 'unmask':
        for (const p of value.split(':')) {
          if (p === '') continue;
          if (p !== 'ALL' && !p.startsWith('/')) throw new UsageError(`invalid --security-opt ${JSON.stringify(opt)}: ${JSON.stringify(p)} must be an absolute path`);
          if (key === 'mask' && p === 'ALL') throw new UsageError(`invalid --security-opt ${JSON.stringify(opt)}: mask=ALL is not allowed`);
          out[key].push(p);
        }
        break;
      case 'label':
        out.warnings.push(`--security-opt ${opt}: ignored, tsdock has no SELinux support`);
        break;
      case 'apparmor':
        out.warnings.push(`--security-opt ${opt}: ignored, tsdock has no AppArmor support`);
        break;
      default:
        throw new UsageError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  if (privileged) out.seccomp = 'unconfined';
  return out;
}
