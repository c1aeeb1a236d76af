import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import type { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { TsdockError } from '../errors.js';
import { writeFileAtomic } from '../state/atomic.js';
import { ANNOTATIONS } from '../ocispec/build.js';
import { seccompPlanFor, type SeccompOption } from '../ocispec/seccomp/index.js';
import type { Spec } from '../ocispec/types.js';
import type { SeccompChoice } from '../ocispec/security.js';
import { buildPlan, type CgroupFsPlan } from '../runtime/plan.js';
import { detectCgroups, type CgroupLocation } from '../cgroups/index.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import { kernelAtLeast, type StorageDriver } from '../storage/driver.js';
import type { ContainerPaths } from './store.js';

/**
 * The seccomp choice recorded in the spec's annotations by buildSpec ("default", "unconfined", "profile:<path>").
 * A profile file is used as it was when the container was created: its copy in the container's directory
 * (`storedProfile`, written by prepareContainer), so editing the host file later cannot give an exec'd process a
 * different filter from its init. A container created before the copy existed falls back to the host path.
 */
export function seccompChoice(spec: Spec, storedProfile?: string): SeccompOption {
  const v = spec.annotations?.[ANNOTATIONS.seccomp] ?? 'default';
  if (v === 'unconfined') return 'unconfined';
  if (v.startsWith('profile:')) {
    const file = v.slice('profile:'.length);
    const content = storedProfile ? readIfExists(storedProfile) : undefined;
    return content === undefined ? { path: file } : { path: file, content };
  }
  return 'default';
}

/**
 * At create: keep the content of a `seccomp=` profile (the request carries it) with the container (0600, beside
 * config.json), so every later start and exec compiles the same profile.
 */
export async function storeSeccompProfile(choice: SeccompChoice, file: string): Promise<void> {
  if (typeof choice !== 'object') return;
  await writeFileAtomic(file, choice.content, { mode: 0o600 });
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TsdockError(`reading the container's seccomp profile ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** the compiled seccomp programs' cache: in the private runtime dir */
export function seccompCacheDir(ctx: Pick<Context, 'runRoot'>): string {
  return path.join(ctx.runRoot, 'seccomp');
}

/** v2: one cgroup2 mount; v1: the host's hierarchies (controllers as mounted together), named ones left out */
export function cgroupFsPlan(loc: CgroupLocation | undefined): CgroupFsPlan | undefined {
  if (!loc) return undefined;
  if (loc.version === 2) return { version: 2 };
  const byMount = new Map<string, string[]>();
  for (const [controller, mount] of detectCgroups().v1) byMount.set(mount, [...(byMount.get(mount) ?? []), controller]);
  return { version: 1, hierarchies: [...byMount].map(([mount, cs]) => ({ name: path.basename(mount), options: cs.join(',') })) };
}

/**
 * The executor plan for a container's spec (config.json): its rootfs (overlay of the image's layers, or the
 * vfs copy), steps and process, with the seccomp program compiled for its capabilities.
 */
export function containerPlan(args: {
  spec: Spec;
  /** where compiled seccomp programs are kept (seccompCacheDir) */
  seccompCache?: string;
  store: ImageStore;
  image: ImageRecord;
  paths: ContainerPaths;
  rootless: boolean;
  driver: StorageDriver;
  consolePath?: string;
  /** the container's cgroup: what its /sys/fs/cgroup mount shows */
  cgroup?: CgroupLocation;
  /** --privileged: the rootfs keeps device nodes openable (else rootful mounts it nodev) */
  privileged: boolean;
  /** ContainerRecord.Volatile: the overlay is mounted `volatile` (Linux >= 5.10) */
  volatile?: boolean;
}): ExecPlan {
  const { spec, store, paths } = args;
  const overlay = args.driver !== 'vfs';
  // a volatile mount leaves work/work/incompat/volatile behind, and the kernel refuses to mount over a work
  // directory holding it: the container's earlier run ended (it is being started or opened again), so it goes
  if (overlay) fs.rmSync(path.join(paths.work, 'work', 'incompat'), { recursive: true, force: true });
  const chains = args.image.layers.map((l) => l.chainId).reverse(); // top first
  const plan = buildPlan(spec, {
    copiedRootfs: overlay ? undefined : paths.upper,
    layers: chains.map((c) => path.join(store.layers.dir, store.layers.shortLink(c))),
    layersBase: store.layers.dir,
    upper: paths.upper,
    work: paths.work,
    rootless: args.rootless,
    ...(overlay && args.volatile && kernelAtLeast(5, 10) ? { overlayOptions: ['volatile'] } : {}),
    consolePath: args.consolePath,
    cgroupFs: cgroupFsPlan(args.cgroup),
    recursiveReadOnly: kernelAtLeast(5, 12),
    // rootless: the kernel forces nodev in a user namespace already
    rootfsNodev: !args.rootless && !args.privileged,
  });
  Object.assign(plan.process, seccompPlanFor(seccompChoice(spec, args.paths.seccompProfile), spec.process?.capabilities?.bounding ?? [], { cacheDir: args.seccompCache }));
  return plan;
}
