/**
 * `network connect` / `disconnect` as changes to a container's stored request, so every later start joins the
 * same networks (docker keeps them in the container's endpoint settings). Pure: the record in, the record out.
 * The first network is HostConfig.NetworkMode; the others are NetworkingConfig.EndpointsConfig's keys. A container
 * left with no network has the mode `none`; connecting one with `none` makes that network its first.
 */
import { TsdockError } from '../errors.js';
import { requestOf, type ContainerRecord } from './record.js';
import { networkMode, requestedNetworks, type CreateRequest, type EndpointSettings } from './request.js';

/** a network as the record may name it: its name, or its id as given at create */
export interface NetworkRef {
  Name: string;
  Id: string;
}

const names = (n: NetworkRef) => (x: string) => x === n.Name || x === n.Id || (n.Name === 'bridge' && x === 'default');

/** Is the container configured for the network (by name, id, or `default` for bridge)? */
export function configuredFor(r: CreateRequest, n: NetworkRef): boolean {
  return requestedNetworks(r).some(names(n));
}

function withRequest(record: ContainerRecord, r: CreateRequest): ContainerRecord {
  return { ...record, Request: r, HostConfig: { ...record.HostConfig, NetworkMode: r.HostConfig.NetworkMode ?? record.HostConfig.NetworkMode } };
}

/** The record with the network added (docker's errors for modes that have no networks of their own). */
export function withNetwork(record: ContainerRecord, n: NetworkRef, settings: EndpointSettings): ContainerRecord {
  const r = requestOf(record);
  const mode = networkMode(r);
  const name = record.Name.replace(/^\//, '');
  if (mode === 'host') throw new TsdockError('container cannot be disconnected from host network or connected to host network', { exitCode: 1 });
  if (mode === 'container') throw new TsdockError('container sharing network namespace with another container or host cannot be connected to any other network', { exitCode: 1 });
  if (mode === 'pasta' || mode === 'slirp4netns') throw new TsdockError(`container ${name} has --network ${mode}, which joins no bridge networks: create it with --network <network>`, { exitCode: 1 });
  if (configuredFor(r, n)) throw new TsdockError(`endpoint with name ${name} already exists in network ${n.Name}`, { exitCode: 1 });
  const eps = { ...(r.NetworkingConfig?.EndpointsConfig ?? {}) };
  const hc = mode === 'none' ? { ...r.HostConfig, NetworkMode: n.Name } : r.HostConfig;
  if (Object.keys(settings).length) eps[n.Name] = settings;
  else if (mode !== 'none') eps[n.Name] = {};
  return withRequest(record, { ...r, HostConfig: hc, NetworkingConfig: { EndpointsConfig: eps } });
}

/** The record without the network; its next network (or `none`) becomes the first when it was the first. */
export function withoutNetwork(record: ContainerRecord, n: NetworkRef): ContainerRecord {
  const r = requestOf(record);
  const name = record.Name.replace(/^\//, '');
  if (!configuredFor(r, n)) throw new TsdockError(`container ${name} is not connected to network ${n.Name}`, { exitCode: 1 });
  const is = names(n);
  const eps = Object.fromEntries(Object.entries(r.NetworkingConfig?.EndpointsConfig ?? {}).filter(([k]) => !is(k)));
  let hc = r.HostConfig;
  if (is(r.HostConfig.NetworkMode ?? '')) {
    const next = requestedNetworks(r).find((x) => !is(x));
    hc = { ...hc, NetworkMode: next ?? 'none' };
  }
  return withRequest(record, { ...r, HostConfig: hc, NetworkingConfig: { EndpointsConfig: eps } });
}
