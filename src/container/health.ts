import { UsageError } from '../errors.js';
import type { HealthConfig } from '../image/manifest.js';
import type { ContainerState } from './record.js';

const NS = 1_000_000;
/** docker's defaults (nanoseconds in the config) */
export const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  /** commander's negation: false for --no-healthcheck */
  healthcheck?: boolean;
}

/** Go durations as docker's flags take them: 30s, 1m30s, 500ms, 1h */
export function parseDuration(v: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (!v || consumed !== v.length) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: time: invalid duration "${v}"`);
  return total;
}

/** The container's healthcheck: flags over the image's HEALTHCHECK; undefined when there is none (or NONE). */
export function resolveHealth(image: HealthConfig | undefined, f: HealthFlags): HealthConfig | undefined {
  if (f.healthcheck === false) {
    if (f.healthCmd) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return undefined;
  }
  const base: HealthConfig = f.healthCmd ? { Test: ['CMD-SHELL', f.healthCmd] } : { ...(image ?? {}) };
  if (!base.Test?.length || base.Test[0] === 'NONE') return undefined;
  const ms = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseDuration(v, flag));
  const interval = ms(f.healthInterval, '--health-interval');
  const timeout = ms(f.healthTimeout, '--health-timeout');
  const start = ms(f.healthStartPeriod, '--health-start-period');
  if (interval !== undefined) base.Interval = interval * NS;
  if (timeout !== undefined) base.Timeout = timeout * NS;
  if (start !== undefined) base.StartPeriod = start * NS;
  if (f.healthRetries !== undefined) {
    const r = Number(f.healthRetries);
    if (!Number.isInteger(r) || r < 0) throw new UsageError(`invalid argument "${f.healthRetries}" for "--health-retries" flag`);
    base.Retries = r;
  }
  return base;
}

/** milliseconds of a config's durations, with docker's defaults for unset (0) ones */
export function healthTiming(h: HealthConfig): { interval: number; timeout: number; startPeriod: number; retries: number } {
  return {
    interval: h.Interval ? h.Interval / NS : HEALTH_DEFAULTS.interval,
    timeout: h.Timeout ? h.Timeout / NS : HEALTH_DEFAULTS.timeout,
    startPeriod: h.StartPeriod ? h.StartPeriod / NS : HEALTH_DEFAULTS.startPeriod,
    retries: h.Retries || HEALTH_DEFAULTS.retries,
  };
}

/** the command a probe runs: CMD args as they are, CMD-SHELL through /bin/sh -c */
export function probeCommand(h: HealthConfig): string[] {
  const [kind, ...rest] = h.Test ?? [];
  if (kind === 'CMD') return rest;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  throw new UsageError(`unsupported healthcheck test ${JSON.stringify(h.Test)}`);
}

export interface ProbeResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/**
 * docker's health state machine: a success makes it healthy; failures count towards `retries` only after the
 * start period; `retries` consecutive failures make it unhealthy. The log keeps the last 5 probes.
 */
export function nextHealth(prev: ContainerState['Health'], probe: ProbeResult, timing: ReturnType<typeof healthTiming>, startedAt: string | undefined): NonNullable<ContainerState['Health']> {
  const h = prev ?? { Status: 'starting' as const, FailingStreak: 0, Log: [] };
  const log = [...(h.Log as ProbeResult[]), probe].slice(-5);
  if (probe.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStart = startedAt !== undefined && Date.parse(probe.Start) - Date.parse(startedAt) < timing.startPeriod;
  if (inStart) return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= timing.retries ? 'unhealthy' : h.Status, FailingStreak: streak, Log: log };
}
