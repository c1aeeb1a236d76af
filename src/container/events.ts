import { appendEvent } from '../events/log.js';
import { eventTemplate } from '../events/line.js';
import { PLACEHOLDER } from '../events/line.js';
import type { ContainerRecord } from './record.js';

type EventSubject = Pick<ContainerRecord, 'Id' | 'Name' | 'ImageName'> & { Config: Pick<ContainerRecord['Config'], 'Labels'> };

/** docker's container event attributes: the container's labels, then `image` and `name` (which win). */
export function containerAttributes(record: EventSubject, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(record.Config.Labels ?? {}), image: record.ImageName, name: record.Name.replace(/^\//, ''), ...extra };
}

/** A container's state changed: one line in the store's event log (create, start, die, stop, kill, destroy...). */
export function containerEvent(root: string, action: string, record: EventSubject, extra: Record<string, string> = {}): void {
  appendEvent(root, { type: 'container', action, id: record.Id, from: record.ImageName, attributes: containerAttributes(record, extra) });
}

/**
 * The lines a detached container's monitor writes when the container ends (the executor renders nothing):
 * `die` with the exit code, and `oom` when the cgroup counted an OOM kill, docker's order (oom, then die).
 */
export function monitorEventTemplates(record: EventSubject): { start: string; die: string; oom: string } {
  const from = record.ImageName;
  return {
    start: eventTemplate({ type: 'container', action: 'start', id: record.Id, from, attributes: containerAttributes(record) }),
    die: eventTemplate({ type: 'container', action: 'die', id: record.Id, from, attributes: containerAttributes(record, { exitCode: PLACEHOLDER.exitCode }) }),
    oom: eventTemplate({ type: 'container', action: 'oom', id: record.Id, from, attributes: containerAttributes(record) }),
  };
}
