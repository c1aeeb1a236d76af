import type { Context } from '../context.js';
import { parseTimeArg } from '../container/logs.js';
import { EVENT_FILTER_KEYS, matchEvent } from '../events/filter.js';
import { readEvents } from '../events/read.js';
import { nowNano } from '../events/line.js';
import type { EngineEvent } from '../events/types.js';
import { parseFilters } from './prune-filters.js';

export type { EngineEvent } from '../events/types.js';

export interface EventsOptions {
  /** docker's --since/--until: RFC3339 date/time, Unix seconds, a duration before now ("10m"), or "now" */
  since?: string;
  until?: string;
  /** `KEY=VALUE`: type, event, container, image, label, volume, network */
  filters?: string[];
}

/** `--since`/`--until` as nanoseconds since the epoch (container/logs.ts parseTimeArg: docker's GetTimestamp). */
export function eventTime(value: string, flag: 'since' | 'until', now = nowNano()): bigint {
  if (value === 'now') return now;
  const fixed = parseTimeArg(value, Number(now / 1_000_000n), flag);
  return BigInt(Date.parse(`${fixed.slice(0, 19)}Z`)) * 1_000_000n + BigInt(fixed.slice(20, 29));
}

/**
 * `tsdock events`: the store's event log, filtered. With --since (or --until) what is recorded first, from that
 * time; then, unless --until has passed, what is appended from now on, until --until or the signal (SIGINT).
 */
export async function streamEvents(opts: EventsOptions, ctx: Context, emit: (ev: EngineEvent, timeNano: bigint) => void): Promise<void> {
  const filters = parseFilters(opts.filters ?? [], [...EVENT_FILTER_KEYS]);
  const now = nowNano();
  const until = opts.until !== undefined ? eventTime(opts.until, 'until', now) : undefined;
  const since = opts.since !== undefined ? eventTime(opts.since, 'since', now) : until !== undefined ? 0n : undefined;
  await readEvents(ctx.root, { sinceNano: since, untilNano: until, follow: true, signal: ctx.signal }, ({ event, timeNano }) => {
    if (matchEvent(event, filters)) emit(event, timeNano);
  });
}
