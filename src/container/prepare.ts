import fs from 'node:fs';
import os from 'node:os';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { ImageConfig } from '../image/manifest.js';
import type { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { writeJsonAtomic } from '../state/atomic.js';
import { readImageFile, registerOpaqueDirs } from '../storage/imagefs.js';
import { buildSpec } from '../ocispec/build.js';
import { imageVolumeRequests, requestMounts, type MountRequest, type ResolvedMount } from '../ocispec/mounts.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import type { Spec } from '../ocispec/types.js';
import { VolumeStore } from '../volume/store.js';
import { seedVolume } from '../volume/seed.js';
import { chooseDriver, type StorageDriver } from '../storage/driver.js';
import { containerPlan, seccompCacheDir, storeSeccompProfile } from './exec-plan.js';
import { limitsGiven, resolveResources, toLinuxResources, type HostResources } from '../ocispec/resources.js';
import { networkMode, type CreateRequest } from './request.js';
import type { CgroupLocation } from '../cgroups/index.js';
import { hostFacts, placeContainerCgroup } from './cgroup.js';
import type { ContainerPaths } from './store.js';

export interface PreparedContainer {
  spec: Spec;
  plan: ExecPlan;
  /** anonymous volumes created for this container (removed with it under --rm) */
  anonymousVolumes: string[];
  driver: StorageDriver;
  /** docker's HostConfig resource fields, validated */
  resources: HostResources;
  /** where the container's cgroup goes (none: rootless without delegation, no limits asked) */
  cgroup?: CgroupLocation;
}

/** The current hard limit of an rlimit, from /proc/self/limits (Node has no getrlimit). */
function hardLimit(name: string): number | undefined {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
    const hard = line?.slice(name.length).trim().split(/\s+/)[1];
    return hard === undefined || hard === 'unlimited' ? undefined : Number(hard);
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** CapBnd of this process, from /proc/self/status */
export function ownBoundingSet(): bigint | undefined {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '');
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** Bind sources exist on the host (created for -v as docker does); volumes exist and are seeded once. */
async function resolveMounts(requests: MountRequest[], layers: string[], root: string): Promise<{ mounts: ResolvedMount[]; anonymous: string[] }> {
  const volumes = new VolumeStore(root);
  const mounts: ResolvedMount[] = [];
  const anonymous: string[] = [];
  for (const req of requests) {
    if (req.type === 'tmpfs') {
      mounts.push(req);
    } else if (req.type === 'bind') {
      const source = req.source!;
      let st = fs.statSync(source, { throwIfNoEntry: false });
      if (!st && req.createSource) {
        fs.mkdirSync(source, { recursive: true });
        st = fs.statSync(source);
      }
      if (!st) throw new UsageError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
      mounts.push({ ...req, sourceType: st.isDirectory() ? 'dir' : 'file' });
    } else {
      const { volume, created } = req.source
        ? await volumes.ensureVolume(req.source)
        : { volume: await volumes.createVolume(undefined, { anonymous: true }), created: true };
      if (!req.source) anonymous.push(volume.Name);
      if (created && !req.options.includes('nocopy')) await seedVolume(volumes.dataDir(volume.Name), layers, req.target);
      mounts.push({ ...req, source: volumes.dataDir(volume.Name), sourceType: 'dir', volumeName: volume.Name });
    }
  }
  return { mounts, anonymous };
}

/**
 * Everything before the executor runs: the spec (written as the container's config.json), the generated
 * /etc files, volumes, and the executor plan with its seccomp program.
 */
export async function prepareContainer(args: {
  store: ImageStore;
  image: ImageRecord;
  config: ImageConfig;
  paths: ContainerPaths;
  request: CreateRequest;
  ctx: Context;
  imageName: string;
  /** with -t: the pty slave's host path, bound on /dev/console so the container finds its terminal there */
  consolePath?: string;
  /** ContainerRecord.Volatile */
  volatile: boolean;
}): Promise<PreparedContainer> {
  const { store, image, config, paths, request: r, ctx } = args;
  const chains = image.layers.map((l) => l.chainId).reverse(); // top first
  const layerDirs = chains.map((c) => store.layers.diffDir(c));
  // opaque directories from layer.json: reading the image's files then needs no xattr look-ups
  await Promise.all(chains.map(async (c) => {
    const dirs = (await store.layers.meta(c))?.opaqueDirs;
    if (dirs) registerOpaqueDirs(store.layers.diffDir(c), dirs);
  }));
  const h = r.HostConfig;
  const requests = requestMounts({ mounts: h.Mounts, binds: h.Binds, volumes: r.Volumes, tmpfs: h.Tmpfs });
  const all = [...requests, ...imageVolumeRequests(config.config?.Volumes, requests)];
  const resources = resolveResources(h, hostFacts());
  const linuxResources = toLinuxResources(resources);
  const cgroup = placeContainerCgroup(paths.id, linuxResources, limitsGiven(h), ctx, h.CgroupParent || undefined, Boolean(h.Privileged));
  const { mounts, anonymous } = await resolveMounts(all, layerDirs, ctx.root);
  const result = buildSpec({
    image: { config, ref: args.imageName },
    options: {
      command: r.Cmd ?? [],
      entrypoint: r.Entrypoint,
      env: r.Env,
      workdir: r.WorkingDir || undefined,
      user: r.User,
      hostname: r.Hostname || undefined,
      domainname: r.Domainname || undefined,
      tty: r.Tty,
      interactive: r.OpenStdin,
      readOnly: h.ReadonlyRootfs,
      mounts,
      capAdd: h.CapAdd,
      capDrop: h.CapDrop,
      privileged: h.Privileged,
      securityOpt: h.SecurityOpt,
      init: h.Init,
      network: networkMode(r),
      ulimits: h.Ulimits,
      resources: linuxResources,
      cgroupsPath: cgroup?.path,
      oomScoreAdj: resources.OomScoreAdj,
    },
    passwd: readImageFile(layerDirs, '/etc/passwd', 4 << 20)?.toString('utf8'),
    group: readImageFile(layerDirs, '/etc/group', 4 << 20)?.toString('utf8'),
    rootfs: paths.rootfs,
    containerId: paths.id,
    name: paths.name,
    files: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf, seccompProfile: paths.seccompProfile },
    rootless: !ctx.rootful,
    hardNofile: hardLimit('Max open files'),
    hardNproc: hardLimit('Max processes'),
    lastCap: Number(readText('/proc/sys/kernel/cap_last_cap') ?? 40),
    hostBounding: ownBoundingSet(),
    hostHostname: os.hostname(),
    hostHosts: readText('/etc/hosts'),
    hostResolvConf: readText('/etc/resolv.conf'),
  });
  for (const w of result.warnings) ctx.warn?.(w);
  await Promise.all([
    // small files: synchronous writes skip the thread pool
    fs.writeFileSync(paths.hosts, result.etc.hosts),
    fs.writeFileSync(paths.hostname, result.etc.hostname),
    fs.writeFileSync(paths.resolvConf, result.etc.resolvConf),
    writeJsonAtomic(paths.spec, result.spec, { fsync: false }),
    storeSeccompProfile(result.seccomp, paths.seccompProfile),
  ]);
  const driver = chooseDriver(ctx.storageDriver, ctx.rootful).driver;
  if (driver === 'vfs') await seedVolume(paths.upper, layerDirs, '/');
  const plan = containerPlan({ seccompCache: seccompCacheDir(ctx), spec: result.spec, store, image, paths, rootless: !ctx.rootful, driver, consolePath: args.consolePath, cgroup, privileged: Boolean(h.Privileged), volatile: args.volatile });
  return { spec: result.spec, plan, anonymousVolumes: anonymous, driver, resources, cgroup };
}


export async function removeAnonymousVolumes(root: string, names: string[]): Promise<void> {
  if (!names.length) return;
  const volumes = new VolumeStore(root);
  for (const n of names) await volumes.removeVolume(n, { force: true });
}

