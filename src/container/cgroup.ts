/**
 * A container's cgroup through its life: placed at create (recorded in container.json as `Cgroup`), created and
 * limited before each start (the executor moves the init in before releasing it), emptied and removed when the
 * init has stopped and when the container is removed (lifecycle hooks, registered on import).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError, UsageError, suppressInto } from '../errors.js';
import { CGROUP_PARENT, CgroupError, detectCgroups, deviceControlMissing, neededControllers, openCgroup, placeCgroup, v2MountFor, type Cgroup, type CgroupLocation } from '../cgroups/index.js';
import type { LinuxResources, Spec } from '../ocispec/types.js';
import { registerHooks } from './hooks.js';
import { compileDeviceFilter } from '../cgroups/devicefilter.js';
import type { ContainerRecord } from './record.js';
import type { ExecPlan } from '../runtime/plan-types.js';

/** Host facts the resource flags are checked against. */
export function hostFacts(): { ncpu: number; cpusOnline: string; memsOnline: string } {
  const read = (f: string, d: string) => {
    try {
      return fs.readFileSync(f, 'utf8').trim();
    } catch {
      return d;
    }
  };
  const cpusOnline = read('/sys/devices/system/cpu/online', '0');
  const ncpu = (cpusOnline.match(/\d+(-\d+)?/g) ?? []).reduce((n, r) => n + (r.includes('-') ? Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1 : 1), 0) || 1;
  return { ncpu, cpusOnline, memsOnline: read('/sys/devices/system/node/online', '0') };
}

/**
 * Where the new container's cgroup goes. Limits that cannot be honoured are refused here, with the reason
 * (rootless on v1 or without delegation; a v2 controller the tree does not offer): never a silent no-op.
 * So is a rootful container whose devices could not be confined (requireDeviceControl), unless privileged.
 */
export function placeContainerCgroup(id: string, resources: LinuxResources | undefined, limitFlags: string[], ctx: Context, parent?: string, privileged = false): CgroupLocation | undefined {
  const placement = placeCgroup({ host: detectCgroups(), id, rootless: !ctx.rootful, env: ctx.env, parent });
  if (!placement.location) {
    if (limitFlags.length) throw new UsageError(`${limitFlags.join(', ')}: resource limits are not available: ${placement.reason}`);
    requireDeviceControl(undefined, privileged, ctx, placement.reason);
    return undefined;
  }
  checkLimits(placement.location, resources, limitFlags, ctx);
  requireDeviceControl(placement.location, privileged, ctx);
  return placement.location;
}

/**
 * A rootful container keeps CAP_MKNOD: only the device cgroup (v1 devices.allow/deny, v2 the eBPF filter) stops
 * its root from creating and opening the host's disks in /dev. Without one, its start is refused (exit 125), unless
 * --privileged (which grants every device anyway). Rootless needs none: in a user namespace the kernel refuses
 * mknod and forces nodev on every mount, and the device nodes are binds of the host's.
 */
export function requireDeviceControl(loc: CgroupLocation | undefined, privileged: boolean, ctx: Context, noneReason?: string): void {
  if (!ctx.rootful || privileged) return;
  const missing = deviceControlMissing(detectCgroups(), loc, noneReason ?? 'the container has no cgroup');
  if (missing) throw new TsdockError(`no device control for a rootful container: ${missing}; refusing to start it without a devices cgroup (--privileged would grant every host device)`, { exitCode: 125 });
}

/** Limits a container's cgroup location can honour; the rest refused with the missing controllers named. */
export function checkLimits(loc: CgroupLocation, resources: LinuxResources | undefined, limitFlags: string[], ctx: Context): void {
  // docker's behaviour on v2, which has no swappiness knob: said, not silently dropped
  if (loc.version === 2 && resources?.memory?.swappiness !== undefined) ctx.warn?.('--memory-swappiness: cgroup v2 has no memory swappiness; discarded');
  const need = neededControllers(resources);
  if (!need.length) return;
  const missing = loc.version === 2 ? missingV2(loc, need) : need.filter((c) => !detectCgroups().v1.has(c === 'io' ? 'blkio' : c));
  if (missing.length) {
    const where = loc.version === 2 ? `cgroup v2 at ${loc.mount}` : 'cgroup v1';
    throw new UsageError(`${limitFlags.join(', ')}: the ${missing.join(', ')} controller${missing.length > 1 ? 's are' : ' is'} not available (${where}${loc.version === 2 ? ': not enabled or not delegated' : ': not mounted'})`);
  }
}

/** v2 controllers the nearest existing ancestor of the cgroup cannot hand down */
function missingV2(loc: CgroupLocation, need: string[]): string[] {
  const mount = loc.mount!;
  let rel = path.posix.dirname(loc.path);
  while (rel !== '/' && !fs.existsSync(path.join(mount, rel))) rel = path.posix.dirname(rel);
  const dir = path.join(mount, rel);
  // below an existing tsdock parent, what it already enables counts; else what the ancestor could enable
  const file = rel === path.posix.dirname(loc.path) ? 'cgroup.subtree_control' : 'cgroup.controllers';
  let have: Set<string>;
  try {
    have = new Set(fs.readFileSync(path.join(dir, file), 'utf8').trim().split(/\s+/));
  } catch {
    have = new Set();
  }
  if (file === 'cgroup.subtree_control') {
    try {
      for (const c of fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/)) have.add(c);
    } catch {
      // keep what subtree_control said
    }
  }
  return need.filter((c) => !have.has(c));
}

/**
 * Before a start: a fresh cgroup with the spec's limits (what a crash left there is killed and removed first).
 * Returns it; the caller puts its `placement()` into the plan.
 */
export async function prepareCgroup(loc: CgroupLocation, spec: Spec | undefined): Promise<Cgroup> {
  const cg = openCgroup(loc);
  if (cg.exists()) await cg.remove();
  for (let attempt = 0; ; attempt++) {
    try {
      cg.create();
      break;
    } catch (err) {
      // another container's removal may have taken the empty parent away between our mkdirs (ENOENT), or between
      // our mkdir and its cpuset write (ENODEV: the cgroup is dead): once more, from the top
      const code = (err as CgroupError).code;
      if ((code !== 'ENOENT' && code !== 'ENODEV') || attempt >= 10) throw err;
    }
  }
  try {
    cg.apply(spec?.linux?.resources);
  } catch (err) {
    await cg.remove().catch(suppressInto(err));
    throw err;
  }
  return cg;
}

/**
 * What a start puts into the executor plan for its cgroup: how the init gets in (`placement()`), and on v2 the
 * spec's device rules as the eBPF program the executor attaches (v1 wrote devices.allow/deny in apply).
 */
export function cgroupPlanFields(cg: Cgroup, spec: Spec | undefined): Pick<ExecPlan, 'cgroupProcs' | 'cgroupTasks' | 'cgroupDir' | 'deviceFilter'> {
  const rules = spec?.linux?.resources?.devices;
  return { ...cg.placement(), ...(cg.version === 2 && rules?.length ? { deviceFilter: compileDeviceFilter(rules) } : {}) };
}

/** Kill what is left in a container's cgroup and remove it (and its parent once empty). Never throws. */
export async function releaseCgroup(loc: CgroupLocation | undefined, ctx: Context): Promise<void> {
  if (!loc) return;
  try {
    const cg = openCgroup(loc);
    await cg.remove();
    if (path.posix.basename(path.posix.dirname(loc.path)) === CGROUP_PARENT) cg.removeParent();
  } catch (err) {
    ctx.warn?.(`removing cgroup ${loc.path}: ${(err as Error).message}`);
  }
}

/** SIGKILL every process in a running container's cgroup (stop after the grace period, rm -f). */
export async function killCgroup(loc: CgroupLocation | undefined): Promise<void> {
  if (!loc) return;
  const cg = openCgroup(loc);
  if (cg.frozen()) await cg.thaw().catch(() => {});
  await cg.kill();
}

export function cgroupOf(record: ContainerRecord | undefined): Cgroup | undefined {
  return record?.Cgroup ? openCgroup(record.Cgroup) : undefined;
}

registerHooks({
  name: 'cgroups',
  async afterStop(c, ctx) {
    await releaseCgroup(c.record.Cgroup, ctx);
  },
  async onRemove(c, ctx) {
    await releaseCgroup(c.record.Cgroup, ctx);
  },
  /** cgroups of containers that no longer exist (a crash skipped their removal), empty and a minute old */
  async collectGarbage(liveIds, ctx) {
    const host = detectCgroups();
    const v2 = v2MountFor(host, ctx.env);
    const mounts = v2 ? [{ v: 2 as const, m: v2 }] : [...new Set(host.v1.values())].map((m) => ({ v: 1 as const, m }));
    const seen = new Set<string>();
    for (const { v, m } of mounts) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(m, CGROUP_PARENT));
      } catch {
        continue;
      }
      for (const id of names) {
        if (!/^[0-9a-f]{64}$/.test(id) || liveIds.has(id) || seen.has(id)) continue;
        seen.add(id);
        const loc: CgroupLocation = { version: v, path: `/${CGROUP_PARENT}/${id}`, ...(v === 2 ? { mount: m } : {}) };
        const cg = openCgroup(loc);
        const st = fs.statSync(path.join(m, CGROUP_PARENT, id), { throwIfNoEntry: false });
        if (!st || Date.now() - st.mtimeMs < 60_000 || cg.pids().length) continue;
        await releaseCgroup(loc, ctx);
      }
    }
  },
});
