import { UsageError } from '../errors.js';
import type { HealthConfig } from '../image/manifest.js';
import type { ContainerState } from './record.js';

const NS = 1_000_000;
/** docker's defaults (nanoseconds in the config) */
export const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };

/**
 * The container's healthcheck, as dockerd merges a request's over the image's HEALTHCHECK: no Healthcheck in the
 * request takes the image's; otherwise an empty Test and each zero duration or retry count take the image's.
 * Undefined when there is none, or its Test is NONE (`--no-healthcheck`).
 */
export function resolveHealth(image: HealthConfig | undefined, req: HealthConfig | undefined): HealthConfig | undefined {
  const h: HealthConfig = { ...(image ?? {}) };
  if (req) {
    if (req.Test?.length) h.Test = req.Test;
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
      const v = req[k];
      if (v !== undefined && v < 0) throw new UsageError(`healthcheck ${k} cannot be negative`);
      if (v) h[k] = v;
    }
  }
  if (!h.Test?.length || h.Test[0] === 'NONE') return undefined;
  return h;
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
