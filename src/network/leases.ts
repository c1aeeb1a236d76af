/**
 * The host-wide network state of running containers: `<netrun>/leases/<container id>.json`, one file per running
 * container holding its addresses (the IPAM lease), endpoints and published ports, and `<netrun>/bridges/<name>.json`
 * for each bridge tsdock set up. Host-wide, not per store: the bridges, addresses and nft table are the host's,
 * whatever `--root` says. Everything is changed under `<netrun>/.lock`.
 *
 * A lease lives as long as its owner process (pid + start time): the allocating tsdock until the container runs,
 * then the container's init. A lease whose owner is gone (kill -9 of the container, its monitor or tsdock) is
 * collected by the next allocation or render, so nothing a dead container held stays taken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJsonSync, writeJsonAtomic } from '../state/atomic.js';
import { hostUid, tmpRuntimeDir } from '../config/paths.js';
import { withLock } from '../state/lock.js';
import { procStat } from '../sys/proc.js';
import { endpointEvents } from './events.js';
import type { NetworkLease } from './types.js';

/** Where a bridge's nft needs are recorded (subnet, internal) once tsdock created it. */
export interface BridgeRecord {
  bridge: string;
  network: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** an IPv6 network's subnet and gateway */
  subnet6?: string;
  gateway6?: string;
  /** rootless: the network-namespace holder the bridge was made in (rootless-netns.ts) */
  holder?: { pid: number; startTime: number };
}

/** Rootful: the host's (`/run/tsdock/net`); rootless: the user's own (pasta's published ports), in its runtime dir. */
export function netRunDir(env: NodeJS.ProcessEnv): string {
  if (env.TSDOCK_NET_RUNDIR) return env.TSDOCK_NET_RUNDIR;
  if (env.TSDOCK_USERNS || process.getuid?.() !== 0) return path.join(env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'tsdock') : tmpRuntimeDir(hostUid(env)), 'net');
  return '/run/tsdock/net';
}

export function withNetLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(path.join(dir, '.lock'), 'exclusive', fn);
}

const leaseFile = (dir: string, id: string) => path.join(dir, 'leases', `${id}.json`);

export function ownerAlive(o: NetworkLease['owner']): boolean {
  const st = procStat(o.pid);
  return st !== undefined && st.startTime === o.startTime && st.state !== 'Z' && st.state !== 'X';
}

export function selfOwner(pid = process.pid): NetworkLease['owner'] {
  return { pid, startTime: procStat(pid)?.startTime ?? 0 };
}

function readDir<T>(dir: string): Array<{ file: string; value: T }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((f) => {
    const value = readJsonSync<T>(path.join(dir, f));
    return value ? [{ file: path.join(dir, f), value }] : [];
  });
}

/**
 * Every live lease (call under the lock). Dead ones are removed and returned in `collected`: a caller that sees
 * one with ports re-renders the firewall.
 */
export function liveLeases(dir: string): { live: NetworkLease[]; collected: NetworkLease[] } {
  const live: NetworkLease[] = [];
  const collected: NetworkLease[] = [];
  for (const { file, value } of readDir<NetworkLease>(path.join(dir, 'leases'))) {
    if (ownerAlive(value.owner)) {
      live.push(value);
      continue;
    }
    // the owner may have handed the lease to the container's init (claimLease, lock-free) and exited since we
    // read it: its last write happened before its death, so a read from now on sees it
    const now = readJsonSync<NetworkLease>(file);
    if (now && ownerAlive(now.owner)) live.push(now);
    else collected.push(now ?? value);
  }
  return { live, collected };
}

/**
 * Remove the collected leases' files, after the firewall no longer has their rules (under the lock): a release
 * that finds no lease file returns without the lock, so the file must outlive the rules it stands for. A file that
 * holds another owner's lease by now stays: a start of the same container, whose last run's cleanup has not come
 * yet, wrote its new lease over the dead one after the caller read it.
 *
 * Whoever collects a lease writes its disconnect events, into the lease's own store (not the collector's, which
 * may be another --root): the container's stop finds no lease left and writes none. A store that is gone gets
 * none (the write would make its directory again).
 */
export function dropCollected(dir: string, collected: NetworkLease[]): void {
  for (const l of collected) {
    const now = readLease(dir, l.containerId);
    if (now && (now.owner.pid !== l.owner.pid || now.owner.startTime !== l.owner.startTime)) continue;
    fs.rmSync(leaseFile(dir, l.containerId), { force: true });
    if (l.endpoints.length && fs.existsSync(l.root)) endpointEvents(l.root, 'disconnect', l.containerId, l.endpoints);
  }
}

export function readLease(dir: string, id: string): NetworkLease | undefined {
  return readJsonSync<NetworkLease>(leaseFile(dir, id));
}

export async function writeLease(dir: string, lease: NetworkLease): Promise<void> {
  fs.mkdirSync(path.join(dir, 'leases'), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(leaseFile(dir, lease.containerId), lease, { fsync: false });
}

/** Remove a container's lease; returns what it held (undefined when there was none). */
export function dropLease(dir: string, id: string): NetworkLease | undefined {
  const lease = readLease(dir, id);
  if (lease) fs.rmSync(leaseFile(dir, id), { force: true });
  return lease;
}

export function bridgeRecords(dir: string): BridgeRecord[] {
  return readDir<BridgeRecord>(path.join(dir, 'bridges')).map((x) => x.value);
}

export async function writeBridgeRecord(dir: string, b: BridgeRecord): Promise<void> {
  fs.mkdirSync(path.join(dir, 'bridges'), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(path.join(dir, 'bridges', `${b.bridge}.json`), b, { fsync: false });
}

export function dropBridgeRecord(dir: string, bridge: string): void {
  fs.rmSync(path.join(dir, 'bridges', `${bridge}.json`), { force: true });
}

/** A running container's lease as a reader sees it (a dead owner's lease is left for the next writer). */
export function liveLease(env: NodeJS.ProcessEnv, id: string): NetworkLease | undefined {
  const dir = netRunDir(env);
  if (!fs.existsSync(leaseFile(dir, id))) return undefined;
  const l = readLease(dir, id);
  if (l && ownerAlive(l.owner)) return l;
  const now = readLease(dir, id); // handed over since (see liveLeases)
  return now && ownerAlive(now.owner) ? now : undefined;
}
