import os from 'node:os';
import path from 'node:path';
import type { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { ANNOTATIONS } from '../spec/build.js';
import { seccompPlanFor, type SeccompOption } from '../spec/seccomp/index.js';
import type { Spec } from '../spec/types.js';
import { buildPlan, type CgroupFsPlan } from '../runtime/plan.js';
import { detectCgroups, type CgroupLocation } from '../cgroups/index.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import type { StorageDriver } from '../storage/driver.js';
import type { ContainerPaths } from './store.js';

/** The seccomp choice recorded in the spec's annotations by buildSpec ("default", "unconfined", "profile:<path>"). */
export function seccompChoice(spec: Spec): SeccompOption {
  const v = spec.annotations?.[ANNOTATIONS.seccomp] ?? 'default';
  if (v === 'unconfined') return 'unconfined';
  if (v.startsWith('profile:')) return { path: v.slice('profile:'.length) };
  return 'default';
}

/** the running kernel is at least major.minor (mount_setattr: 5.12) */
export function kernelAtLeast(major: number, minor: number, release = os.release()): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map((x) => Number.parseInt(x, 10));
  return a > major || (a === major && b >= minor);
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
}): ExecPlan {
  const { spec, store, paths } = args;
  const chains = args.image.layers.map((l) => l.chainId).reverse(); // top first
  const plan = buildPlan(spec, {
    copiedRootfs: args.driver === 'vfs' ? paths.upper : undefined,
    layers: chains.map((c) => path.join(store.layers.dir, store.layers.shortLink(c))),
    layersBase: store.layers.dir,
    upper: paths.upper,
    work: paths.work,
    rootless: args.rootless,
    consolePath: args.consolePath,
    cgroupFs: cgroupFsPlan(args.cgroup),
    recursiveReadOnly: kernelAtLeast(5, 12),
    // rootless: the kernel forces nodev in a user namespace already
    rootfsNodev: !args.rootless && !args.privileged,
  });
  Object.assign(plan.process, seccompPlanFor(seccompChoice(spec), spec.process?.capabilities?.bounding ?? []));
  return plan;
}
