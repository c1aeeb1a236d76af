import fs from 'node:fs';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { containerFile, loadRecord, withContainerLock } from '../container/state.js';
import { runningPid } from '../container/running.js';
import { cgroupOf, checkLimits, hostFacts, placeContainerCgroup } from '../container/cgroup.js';
import { EMPTY_RESOURCES, limitsGiven, resolveResources, toLinuxResources } from '../ocispec/resources.js';
import type { UpdateConfig } from '../container/request.js';
import { writeJsonAtomic } from '../state/atomic.js';
import type { Spec } from '../ocispec/types.js';

export type { UpdateConfig };

/**
 * docker update: new limits for one container, kept in container.json and config.json (a later start uses them)
 * and written to its cgroup at once when it runs. Returns the container's name.
 */
export async function updateContainer(ref: string, update: UpdateConfig, ctx: Context): Promise<string> {
  const given = limitsGiven(update, { update: true });
  if (!given.length) throw new UsageError('you must provide one or more flags when using this command');
  const id = resolveContainer(ctx.root, ref);
  return withContainerLock(ctx.root, id, async () => {
    const record = loadRecord(ctx.root, id);
    if (!record) throw new TsdockError(`container ${ref} is incomplete (no container.json)`);
    // containers recorded before the resource fields existed take docker's zero values
    const next = resolveResources(update, hostFacts(), { ...EMPTY_RESOURCES, ...record.HostConfig }, { update: true });
    const linux = toLinuxResources(next);
    // the same checks as at create: no cgroup (rootless without delegation, refused with the reason), a
    // controller its cgroup cannot have
    if (record.Cgroup) checkLimits(record.Cgroup, linux, given, ctx);
    else placeContainerCgroup(id, linux, given, ctx);
    const cg = cgroupOf(record);
    if (cg && runningPid(ctx.root, id) !== undefined && cg.exists()) cg.apply(linux);
    const specPath = containerFile(ctx.root, id, 'spec');
    const spec = JSON.parse(await fs.promises.readFile(specPath, 'utf8')) as Spec;
    spec.linux = { ...spec.linux };
    const devices = spec.linux.resources?.devices;
    const merged = { ...linux, ...(devices ? { devices } : {}) };
    if (Object.keys(merged).length) spec.linux.resources = merged;
    else delete spec.linux.resources;
    // not a hot path: the new limits must survive a crash (writeJsonAtomic fsyncs the file and the directory)
    await writeJsonAtomic(specPath, spec);
    await writeJsonAtomic(containerFile(ctx.root, id, 'record'), { ...record, HostConfig: { ...record.HostConfig, ...next } });
    return record.Name;
  });
}
