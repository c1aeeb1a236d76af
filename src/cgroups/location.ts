/**
 * Where a new container's cgroup goes (recorded in container.json), and why there is none:
 * - rootful: /tsdock/<id> under every v1 hierarchy (v1 and hybrid hosts) or under the cgroup2 root (v2);
 * - rootless on v2: below the user's delegated subtree (the topmost ancestor of our own cgroup that the user owns,
 *   as systemd's user@.service delegation leaves it), in <delegated>/tsdock/<id>;
 * - rootless on v1, or on v2 without delegation: no cgroup; limits are refused with the reason.
 * TSDOCK_CGROUP_V2_MOUNT forces the v2 backend on a given cgroup2 mount (tests use the hybrid host's unified/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { CgroupHost } from './detect.js';
import { ownV2Path } from './detect.js';
import type { CgroupLocation } from './types.js';

export const CGROUP_PARENT = 'tsdock';

export type Placement = { location: CgroupLocation } | { location?: undefined; reason: string };

export interface PlacementInput {
  host: CgroupHost;
  id: string;
  rootless: boolean;
  env: NodeJS.ProcessEnv;
  /** docker's --cgroup-parent (a path below the hierarchy root), default "tsdock" */
  parent?: string;
  /** for tests */
  procSelfCgroup?: string;
  euid?: number;
}

/** The topmost directory from our own cgroup upwards that we own (a delegated subtree), relative to the mount. */
export function delegatedRoot(mount: string, own: string, euid: number): string | undefined {
  let found: string | undefined;
  let rel = own;
  for (;;) {
    const st = fs.statSync(path.join(mount, rel), { throwIfNoEntry: false });
    if (!st || st.uid !== euid) break;
    // systemd delegates by chowning the directory and its cgroup.procs/subtree_control/threads files
    const procs = fs.statSync(path.join(mount, rel, 'cgroup.procs'), { throwIfNoEntry: false });
    if (!procs || procs.uid !== euid) break;
    found = rel;
    if (rel === '/') break;
    rel = path.dirname(rel);
  }
  return found;
}

/** The cgroup2 mount tsdock's containers use: the host's on pure v2, or the one TSDOCK_CGROUP_V2_MOUNT names. */
export function v2MountFor(host: CgroupHost, env: NodeJS.ProcessEnv): string | undefined {
  return env.TSDOCK_CGROUP_V2_MOUNT || (host.mode === 'v2' ? host.v2Mount : undefined);
}

/**
 * docker's --cgroup-parent, absolute or relative, as a path below the hierarchy root (or below the delegated
 * subtree, rootless): `.` and empty segments dropped, `..` resolved, and refused when it would climb above
 * the root (`../../x` would put the container's cgroup outside the cgroup mount, or outside the delegation).
 */
export function normalizeParent(parent: string): string {
  const out: string[] = [];
  for (const seg of parent.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!out.length) throw new UsageError(`invalid --cgroup-parent "${parent}": ".." leaves the cgroup root`);
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

export function placeCgroup(input: PlacementInput): Placement {
  const { host, id, rootless, env } = input;
  const parent = normalizeParent(input.parent ?? CGROUP_PARENT);
  const v2Mount = v2MountFor(host, env);
  if (v2Mount) {
    if (!rootless) return { location: { version: 2, mount: v2Mount, path: `/${path.posix.join(parent, id)}` } };
    let own: string | undefined;
    try {
      own = ownV2Path(input.procSelfCgroup ?? fs.readFileSync('/proc/self/cgroup', 'utf8'));
    } catch {
      own = undefined;
    }
    const deleg = own ? delegatedRoot(v2Mount, own, input.euid ?? process.geteuid?.() ?? 0) : undefined;
    if (!deleg) return { reason: `rootless containers need a delegated cgroup v2 subtree (none owned by this user above ${own ?? 'its cgroup'}; start tsdock from a systemd user session with Delegate=yes)` };
    return { location: { version: 2, mount: v2Mount, path: path.posix.join(deleg, parent, id) } };
  }
  if (host.mode === 'none') return { reason: 'no cgroup filesystem is mounted' };
  if (rootless) return { reason: 'rootless containers cannot use cgroup v1: it has no delegation to unprivileged users (cgroup v2 has)' };
  return { location: { version: 1, path: `/${path.posix.join(parent, id)}` } };
}

/**
 * Why a rootful container placed at `loc` (undefined: no cgroup, `noneReason` says why) could not have its device
 * access confined, or undefined when it can: v1 needs the devices hierarchy; v2 always can here, since the
 * executor attaches the eBPF device filter before the clone and the start fails if the kernel refuses it.
 */
export function deviceControlMissing(host: CgroupHost, loc: CgroupLocation | undefined, noneReason = 'no cgroup'): string | undefined {
  if (!loc) return noneReason;
  if (loc.version === 1 && !host.v1.has('devices')) return 'cgroup v1 has no devices controller mounted';
  return undefined;
}
