import { appendEvent } from '../events/log.js';
import type { Endpoint, NetworkRecord } from './types.js';

/** docker's network event: the actor is the network's id; `name` and `type` (its driver) in the attributes. */
export function networkEvent(root: string, action: string, n: Pick<NetworkRecord, 'Id' | 'Name' | 'Driver'>, extra: Record<string, string> = {}): void {
  appendEvent(root, { type: 'network', action, id: n.Id, attributes: { name: n.Name, type: n.Driver, ...extra } });
}

/**
 * docker's `network connect`/`disconnect` events of a start and a stop: one per bridge network the container is on
 * (its lease's endpoints).
 */
export function endpointEvents(root: string, action: 'connect' | 'disconnect', id: string, endpoints: Endpoint[]): void {
  for (const e of endpoints) networkEvent(root, action, { Id: e.networkId, Name: e.network, Driver: 'bridge' }, { container: id });
}
