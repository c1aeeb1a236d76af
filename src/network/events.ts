import { appendEvent } from '../events/log.js';
import type { NetworkRecord } from './types.js';

/** docker's network event: the actor is the network's id; `name` and `type` (its driver) in the attributes. */
export function networkEvent(root: string, action: string, n: Pick<NetworkRecord, 'Id' | 'Name' | 'Driver'>, extra: Record<string, string> = {}): void {
  appendEvent(root, { type: 'network', action, id: n.Id, attributes: { name: n.Name, type: n.Driver, ...extra } });
}
