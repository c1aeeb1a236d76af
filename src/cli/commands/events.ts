import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { EngineEvent } from '../../api/events.js';
import { collect } from '../opts/flags.js';
import { Template } from '../render/template.js';

interface EventsFlags {
  since?: string;
  until?: string;
  filter: string[];
  format?: string;
}

/** docker's RFC3339NanoFixed of a time in nanoseconds, in local time as docker prints it (`Z` when that is UTC) */
export function eventTimeText(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const offset = -new Date(ms).getTimezoneOffset(); // minutes east of UTC
  const iso = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(offset);
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${iso}.${String(timeNano % 1_000_000_000n).padStart(9, '0')}${zone}`;
}

/** docker's default line: `TIME TYPE ACTION ID (k=v, ...)`, the attributes sorted by key */
export function eventText(ev: EngineEvent, timeNano: bigint): string {
  const attrs = Object.keys(ev.Actor.Attributes ?? {}).sort().map((k) => `${k}=${ev.Actor.Attributes[k]}`);
  return `${eventTimeText(timeNano)} ${ev.Type} ${ev.Action} ${ev.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

/** `--format json`: the log's line, timeNano with every digit (a JSON number read back is rounded) */
function eventJson(ev: EngineEvent, timeNano: bigint): string {
  return JSON.stringify({ ...ev, timeNano: 0 }).replace(/"timeNano":0\}$/, `"timeNano":${timeNano}}`);
}

/** The event as a template sees it: docker's events.Message field names; Attributes a map (a missing key is `<no value>`, as Go's). */
function templateView(ev: EngineEvent): object {
  return { Status: ev.status ?? '', ID: ev.id ?? '', From: ev.from ?? '', Type: ev.Type, Action: ev.Action, Actor: { ID: ev.Actor.ID, Attributes: Object.assign(Object.create(null) as Record<string, string>, ev.Actor.Attributes) }, Scope: ev.scope, Time: ev.time, TimeNano: ev.timeNano };
}

/** `events` and `system events`. */
export function register(parent: Command, cli: CliContext, name = 'events'): void {
  parent
    .command(name)
    .description('Get real time events from the server')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <format>', "Format output using a custom template: 'json' prints in JSON format; 'TEMPLATE' prints with the given Go template")
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .action(async (o: EventsFlags) => {
      const format = o.format?.trim();
      const tpl = format && format !== 'json' ? new Template(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')) : undefined;
      const line = (ev: EngineEvent, timeNano: bigint): string => (format === 'json' ? eventJson(ev, timeNano) : tpl ? tpl.execute(templateView(ev)) : eventText(ev, timeNano));
      // loaded here: `system` registers this verb beside its others
      const { streamEvents } = await import('../../api/events.js');
      await streamEvents({ since: o.since, until: o.until, filters: o.filter }, cli.api(), (ev, timeNano) => cli.out(line(ev, timeNano)));
    });
}
