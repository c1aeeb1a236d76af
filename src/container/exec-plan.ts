import path from 'node:path';
import { TsdockError } from '../errors.js';
import type { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { ANNOTATIONS } from '../spec/build.js';
import { nativeSeccompArch, seccompFilterFlags, seccompFor, seccompProfileFor, type SeccompOption } from '../spec/seccomp/index.js';
import type { Spec } from '../spec/types.js';
import { buildPlan } from '../runtime/plan.js';
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
  });
  const choice = seccompChoice(spec);
  const profile = seccompProfileFor(choice);
  if (profile) {
    const arch = nativeSeccompArch();
    if (!arch) throw new TsdockError(`seccomp: unsupported architecture ${process.arch} (use --security-opt seccomp=unconfined)`);
    plan.process.seccomp = seccompFor(choice, spec.process?.capabilities?.bounding ?? [], arch);
    plan.process.seccompFlags = seccompFilterFlags(profile);
  }
  return plan;
}
