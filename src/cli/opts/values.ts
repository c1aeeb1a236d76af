/**
 * Flag values as docker's CLI reads them (pflag, go-units, docker/cli opts): sizes, integers, rationals,
 * durations, ulimits, restart policies, key=value lists. Each error names the flag in pflag's words.
 */
import { UsageError } from '../../errors.js';
import { ramInBytes } from '../../ocispec/units.js';
import type { RestartPolicy, Ulimit } from '../../api/create.js';

const invalid = (value: string, flag: string, why: string) => new UsageError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

/** go-units RAMInBytes: "32m", "1.5g", "64MiB", "100" (bytes) */
export function bytesFlag(value: string, flag: string): number {
  const n = ramInBytes(value);
  if (n === undefined) throw invalid(value, flag, `invalid size: '${value}'`);
  return n;
}

/** docker's MemSwapBytes: a size, or -1 for unlimited swap */
export function swapFlag(value: string, flag: string): number {
  return value.trim() === '-1' ? -1 : bytesFlag(value, flag);
}

/** strconv.ParseInt (base 10) */
export function intFlag(value: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value.trim()))) {
    throw invalid(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  }
  return Number(value.trim());
}

/** strconv.ParseUint (base 10) */
export function uintFlag(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value.trim()))) {
    throw invalid(value, flag, `strconv.ParseUint: parsing "${value}": invalid syntax`);
  }
  return Number(value.trim());
}

/** docker's NanoCPUs: a rational number of CPUs → billionths */
export function nanoCpusFlag(value: string, flag: string): number {
  const v = value.trim();
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !Number.isFinite(n)) throw invalid(value, flag, `failed to parse ${value} as a rational number`);
  return Math.round(n * 1e9);
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds: 30s, 1m30s, 500ms, 1h */
export function durationFlag(value: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (value === '0') return 0;
  if (!value || consumed !== value.length) throw invalid(value, flag, `time: invalid duration "${value}"`);
  return Math.round(total);
}

/** go-units ParseUlimit's syntax: `name=soft[:hard]`, hard defaulting to soft (the names and ranges are dockerd's checks) */
export function ulimitFlag(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw new UsageError(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  const parts = value.slice(eq + 1).split(':');
  if (parts.length > 2) throw new UsageError(`too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string): number => {
    if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`invalid ulimit value ${JSON.stringify(s)} for ${name}`);
    return Number(s);
  };
  const soft = num(parts[0]!);
  return { Name: name, Soft: soft, Hard: parts.length === 2 ? num(parts[1]!) : soft };
}

/** docker/cli opts.ParseRestartPolicy: no | always | unless-stopped | on-failure[:max-retries] */
export function restartFlag(value: string): RestartPolicy {
  const [name, count, extra] = value.split(':');
  const bad = () => new UsageError(`invalid restart policy format: ${value}`);
  if (extra !== undefined || name === undefined) throw bad();
  if (name !== 'no' && name !== 'always' && name !== 'unless-stopped' && name !== 'on-failure') throw bad();
  if (count === undefined) return { Name: name, MaximumRetryCount: 0 };
  if (name !== 'on-failure') throw new UsageError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
  if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy format: maximum retry count must be an integer`);
  return { Name: name, MaximumRetryCount: Number(count) };
}

/**
 * `--label a=b` / `--log-opt k=v` lists as maps (a bare key: an empty value). With `env`, a bare key takes its
 * value from it, and is skipped when unset (docker's --build-arg). With `flag`, an empty name is refused.
 */
export function keyValues(list: readonly string[], opts: { env?: NodeJS.ProcessEnv; flag?: string } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0 && opts.flag) throw new UsageError(`invalid ${opts.flag} ${JSON.stringify(kv)}: empty name`);
    if (i > 0 || (i === 0 && !opts.flag)) out[kv.slice(0, i)] = kv.slice(i + 1);
    else if (!opts.env) out[kv] = '';
    else if (opts.env[kv] !== undefined) out[kv] = opts.env[kv]!;
  }
  return out;
}
