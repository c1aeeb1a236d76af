import { UsageError } from '../errors.js';
import { parseTimeArg } from '../container/logs.js';

/** docker's filters (filters.Args): key → its values, in the order given. */
export type Filters = Map<string, string[]>;

/** What the prune verbs accept: until= is every prune's but volume prune's (as docker: volumes have no until). */
export const PRUNE_FILTERS = ['until', 'label', 'label!'];

/**
 * `key=value` filters, keys lowercased; docker's errors for a missing `=` and for a key the verb does not take.
 * The one parser of `--filter` values for the prune verbs, `volume ls` and `system prune`.
 */
export function parseFilters(args: string[], accepted: string[]): Filters {
  const out: Filters = new Map();
  for (const f of args) {
    const i = f.indexOf('=');
    if (i < 0) throw new UsageError('bad format of filter (expected name=value)');
    const key = f.slice(0, i).trim().toLowerCase();
    if (!accepted.includes(key)) throw new UsageError(`invalid filter '${key}'`);
    out.set(key, [...(out.get(key) ?? []), f.slice(i + 1).trim()]);
  }
  return out;
}

/** label=KEY[=VALUE] specs: true when every one holds for `labels` (no specs: true). */
export function labelsMatch(specs: string[] | undefined, labels: Record<string, string>): boolean {
  if (!specs) return true;
  return specs.every((spec) => {
    const i = spec.indexOf('=');
    const key = i < 0 ? spec : spec.slice(0, i);
    return key in labels && (i < 0 || labels[key] === spec.slice(i + 1));
  });
}

/** An object a prune may remove: when it was made (undefined: unknown, older than any until=) and its labels. */
export interface PruneSubject {
  created?: string;
  labels: Record<string, string>;
}

/**
 * The daemon's prune rule for until=, label= and label!= (moby's daemon/prune.go matchLabels): made before every
 * until= time, every label= holds, and not all of the label!= hold at once.
 */
export function pruneMatcher(filters: Filters, now = Date.now()): (s: PruneSubject) => boolean {
  const until = filters.get('until')?.map((v) => Date.parse(parseTimeArg(v, now, 'until')));
  const notLabels = filters.get('label!');
  return (s) => {
    if (until) {
      const t = s.created ? Date.parse(s.created) : 0;
      if (!until.every((u) => (Number.isNaN(t) ? 0 : t) < u)) return false;
    }
    if (!labelsMatch(filters.get('label'), s.labels)) return false;
    if (notLabels && notLabels.length && labelsMatch(notLabels, s.labels)) return false;
    return true;
  };
}
