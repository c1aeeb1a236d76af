/**
 * What rootless networking shares between its two helpers (pasta, podman's default, and slirp4netns, its
 * predecessor): which one a rootless container gets, why neither can run (what to install or change), and the
 * published ports as a lease in the user's own net run dir, the same shape rootful containers use, so `port`,
 * `ps` and `inspect` read them alike. The helper itself dies with the executor, so a release only drops the lease.
 */
import fs from 'node:fs';
import path from 'node:path';
import { heldPorts, resolvePorts } from './attach.js';
import { networkConfig } from './config.js';
import { writeDnsRecords } from './dns-records.js';
import { liveNetnsHolder, stopNetnsHolder } from './rootless-netns.js';
import { dropCollected, dropLease, liveLeases, netRunDir, selfOwner, withNetLock, writeLease } from './leases.js';
import type { Endpoint, NetworkLease } from './types.js';

export type RootlessHelper = 'pasta' | 'slirp4netns';

/** what a rootless start asks for */
export interface RootlessRequest {
  id: string;
  root: string;
  portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  publishAll: boolean;
  exposed: string[];
}

export function onPath(file: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      fs.accessSync(path.join(dir || '.', file), fs.constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

const INSTALL: Record<RootlessHelper, string> = { pasta: 'apt-get install passt', slirp4netns: 'apt-get install slirp4netns' };

/** Why this helper cannot run here (what to install or change), or undefined when it can. */
export function helperProblem(helper: RootlessHelper, env: NodeJS.ProcessEnv): string | undefined {
  if (!onPath(helper, env)) return `rootless networking needs ${helper}: install it (${INSTALL[helper]})`;
  try {
    fs.closeSync(fs.openSync('/dev/net/tun', 'r+'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `rootless networking (${helper}) needs /dev/net/tun (${code}): ${code === 'ENOENT' ? 'load the tun module (modprobe tun)' : 'make it mode 0666, the distributions\' default (chmod 0666 /dev/net/tun)'}`;
  }
  return undefined;
}

/** The rootless default (pure): the configured helper, else the other one, else none with the reasons. */
export function chooseRootless(preferred: RootlessHelper, problem: (h: RootlessHelper) => string | undefined): { helper: RootlessHelper | 'none'; problem?: string } {
  const other: RootlessHelper = preferred === 'pasta' ? 'slirp4netns' : 'pasta';
  const first = problem(preferred);
  if (!first) return { helper: preferred };
  if (!problem(other)) return { helper: other };
  return { helper: 'none', problem: `${first} (or ${other})` };
}

/** This user's rootless default: the configured helper (containers.conf), the other one, or none and why. */
export function rootlessDefault(env: NodeJS.ProcessEnv): { helper: RootlessHelper | 'none'; problem?: string } {
  return chooseRootless(networkConfig(env).rootlessCmd, (h) => helperProblem(h, env));
}

/** A rootless start's published ports chosen and recorded under the user's net lock. */
export async function reserveRootlessPorts(r: RootlessRequest, env: NodeJS.ProcessEnv): Promise<NetworkLease> {
  const dir = netRunDir(env);
  return withNetLock(dir, async () => {
    const { live, collected } = liveLeases(dir);
    dropCollected(dir, collected); // no firewall rules here: the helper's sockets died with their executor
    const ports = await resolvePorts(r, heldPorts(live.filter((l) => l.containerId !== r.id)));
    const lease: NetworkLease = { containerId: r.id, root: r.root, owner: selfOwner(), endpoints: [], ports };
    await writeLease(dir, lease);
    return lease;
  });
}

/**
 * A rootless container's network released (stop, rm, a failed start): its lease and names; the helper died with the
 * executor, its veths with its namespace. The user's network namespace goes with the last container that had an
 * endpoint there.
 */
export async function releaseRootless(id: string, env: NodeJS.ProcessEnv): Promise<Endpoint[]> {
  const dir = netRunDir(env);
  if (!fs.existsSync(path.join(dir, 'leases', `${id}.json`))) return [];
  return withNetLock(dir, async () => {
    const gone = dropLease(dir, id);
    const endpoints = gone?.endpoints ?? [];
    if (!endpoints.length && !liveNetnsHolder(dir)) return endpoints;
    const { live, collected } = liveLeases(dir);
    dropCollected(dir, collected);
    writeDnsRecords(dir, live);
    if (!live.some((l) => l.endpoints.length)) stopNetnsHolder(dir);
    return endpoints;
  });
}
