import type { EngineEvent } from './types.js';

/** `events --filter` keys (the ones that apply to tsdock's event types). */
export const EVENT_FILTER_KEYS = ['type', 'event', 'container', 'image', 'label', 'volume', 'network'] as const;

export type EventFilters = Map<string, string[]>;

/** no filter for the key, or one of its values is the value */
function exact(filters: EventFilters, key: string, ...values: string[]): boolean {
  const wanted = filters.get(key);
  return !wanted || wanted.some((w) => values.includes(w));
}

/** no filter for the key, or one of its values is a prefix of the value (an id prefix, or a name) */
function fuzzy(filters: EventFilters, key: string, ...values: (string | undefined)[]): boolean {
  const wanted = filters.get(key);
  return !wanted || wanted.some((w) => values.some((v) => v !== undefined && v.startsWith(w)));
}

/** `repo:tag` → `repo` (a registry port's colon is not a tag's) */
function stripTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

/**
 * docker's events filter (daemon/events/filter.go): values of one key are ORed, keys ANDed; `event` also
 * matches `health_status` for `health_status: healthy`; `container`/`volume`/`network` match the actor's id by
 * prefix or its name; `image` the image's id or name with or without its tag; `label` (KEY or KEY=VALUE) must
 * all match the attributes, as docker's MatchKVList.
 */
export function matchEvent(ev: EngineEvent, filters: EventFilters): boolean {
  const attrs = ev.Actor.Attributes ?? {};
  const id = ev.Actor.ID;
  const imageName = (ev.Type === 'image' ? attrs.name : attrs.image) ?? '';
  return (
    exact(filters, 'event', ev.Action, ev.Action.split(':')[0]!) &&
    exact(filters, 'type', ev.Type) &&
    (!filters.has('container') || (ev.Type === 'container' && fuzzy(filters, 'container', id, attrs.name))) &&
    (!filters.has('volume') || (ev.Type === 'volume' && fuzzy(filters, 'volume', id, attrs.name))) &&
    (!filters.has('network') || (ev.Type === 'network' && fuzzy(filters, 'network', id, attrs.name))) &&
    exact(filters, 'image', id, imageName, stripTag(id), stripTag(imageName)) &&
    (filters.get('label') ?? []).every((spec) => {
      const i = spec.indexOf('=');
      const key = i < 0 ? spec : spec.slice(0, i);
      return key in attrs && (i < 0 || attrs[key] === spec.slice(i + 1));
    })
  );
}
