import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { ImageConfig } from '../image/manifest.js';
import type { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { writeJsonAtomic } from '../state/atomic.js';
import { readImageFile, registerOpaqueDirs } from '../storage/imagefs.js';
import { buildSpec } from '../ocispec/build.js';
import { imageVolumeRequests, parseMountFlags, type MountRequest, type ResolvedMount } from '../ocispec/mounts.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import type { Spec } from '../ocispec/types.js';
import { VolumeStore } from '../volume/store.js';
import { seedVolume } from '../volume/seed.js';
import { chooseDriver, type StorageDriver } from '../storage/driver.js';
import { containerPlan, storeSeccompProfile } from './exec-plan.js';
import { limitFlagsGiven, resolveResources, toLinuxResources, type HostResources, type ResourceFlags } from '../ocispec/resources.js';
import type { CgroupLocation } from '../cgroups/index.js';
import { hostFacts, placeContainerCgroup } from './cgroup.js';
import type { ContainerPaths } from './store.js';

/** What the user asked for, as `run`/`create` flags (commander's names). */
export interface ContainerRequest extends ResourceFlags {
  command: string[];
  entrypoint?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  interactive?: boolean;
  readOnly?: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  ulimit: string[];
  init?: boolean;
  network: 'none' | 'host';
  /** `--cgroup-parent` */
  cgroupParent?: string;
}

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
  request: ContainerRequest;
  ctx: Context;
  imageName: string;
  /** with -t: the pty slave's host path, bound on /dev/console so the container finds its terminal there */
  consolePath?: string;
}): Promise<PreparedContainer> {
  const { store, image, config, paths, request: r, ctx } = args;
  const chains = image.layers.map((l) => l.chainId).reverse(); // top first
  const layerDirs = chains.map((c) => store.layers.diffDir(c));
  // opaque directories from layer.json: reading the image's files then needs no xattr look-ups
  await Promise.all(chains.map(async (c) => {
    const dirs = (await store.layers.meta(c))?.opaqueDirs;
    if (dirs) registerOpaqueDirs(store.layers.diffDir(c), dirs);
  }));
  const envFiles = r.envFile.map((f) => {
    const file = path.resolve(ctx.cwd, f);
    const content = readText(file);
    if (content === undefined) throw new UsageError(`open ${f}: no such file or directory`);
    return { path: f, content };
  });
  const requests = parseMountFlags({ volumes: r.volume, mounts: r.mount, cwd: ctx.cwd });
  const all = [...requests, ...imageVolumeRequests(config.config?.Volumes, requests)];
  const resources = resolveResources(r, hostFacts());
  const linuxResources = toLinuxResources(resources);
  const cgroup = placeContainerCgroup(paths.id, linuxResources, limitFlagsGiven(r), ctx, r.cgroupParent, Boolean(r.privileged));
  const { mounts, anonymous } = await resolveMounts(all, layerDirs, ctx.root);
  const result = buildSpec({
    image: { config, ref: args.imageName },
    options: {
      command: r.command,
      entrypoint: r.entrypoint,
      env: r.env,
      envFiles,
      workdir: r.workdir,
      user: r.user,
      hostname: r.hostname,
      tty: r.tty,
      interactive: r.interactive,
      readOnly: r.readOnly,
      mounts,
      tmpfs: r.tmpfs,
      capAdd: r.capAdd,
      capDrop: r.capDrop,
      privileged: r.privileged,
      // a relative seccomp profile path means the caller's directory (recorded absolute for later starts)
      securityOpt: r.securityOpt.map((o) => {
        const m = /^seccomp[=:](.+)$/.exec(o);
        return m && m[1] !== 'unconfined' && !path.isAbsolute(m[1]!) ? `seccomp=${path.resolve(ctx.cwd, m[1]!)}` : o;
      }),
      init: r.init,
      network: r.network,
      ulimits: r.ulimit,
      resources: linuxResources,
      cgroupsPath: cgroup?.path,
      oomScoreAdj: resources.OomScoreAdj,
    },
    passwd: readImageFile(layerDirs, '/etc/passwd', 4 << 20)?.toString('utf8'),
    group: readImageFile(layerDirs, '/etc/group', 4 << 20)?.toString('utf8'),
    hostEnv: ctx.env,
    rootfs: paths.rootfs,
    containerId: paths.id,
    name: paths.name,
    files: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
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
    fs.promises.writeFile(paths.hosts, result.etc.hosts),
    fs.promises.writeFile(paths.hostname, result.etc.hostname),
    fs.promises.writeFile(paths.resolvConf, result.etc.resolvConf),
    writeJsonAtomic(paths.spec, result.spec, { fsync: false }),
    storeSeccompProfile(result.spec, paths.seccompProfile),
  ]);
  const driver = chooseDriver(ctx.storageDriver, ctx.rootful).driver;
  if (driver === 'vfs') await seedVolume(paths.upper, layerDirs, '/');
  const plan = containerPlan({ spec: result.spec, store, image, paths, rootless: !ctx.rootful, driver, consolePath: args.consolePath, cgroup, privileged: Boolean(r.privileged) });
  return { spec: result.spec, plan, anonymousVolumes: anonymous, driver, resources, cgroup };
}


export async function removeAnonymousVolumes(root: string, names: string[]): Promise<void> {
  if (!names.length) return;
  const volumes = new VolumeStore(root);
  for (const n of names) await volumes.removeVolume(n, { force: true });
}

