import type { Context } from '../context.js';
import type { ContainerRecord } from './record.js';
import type { Spec } from '../ocispec/types.js';

/**
 * The one seam for per-container resources that live outside the container's own namespaces — the networking
 * issue's veths, bridge ports and DNS entries, later cgroups — so the lifecycle calls them at fixed points:
 *
 * - `beforeStart`: before the executor runs; may adjust the spec (e.g. a netns path) and must be idempotent
 *   (a restart calls it again);
 * - `afterStart`: the init runs (its host pid is known: move it somewhere, wire a veth into its netns);
 * - `afterStop`: the init has exited (from `container cleanup`, `stop`, or a foreground run's end);
 * - `onRemove`: the container is being removed (rm, --rm, prune): release everything;
 * - `collectGarbage`: given the ids that still exist, remove what belongs to containers that are gone (a
 *   crash skipped onRemove); run by `container prune` and `system`-level clean-ups.
 *
 * Hooks receive plain data and must not throw for resources that are already gone.
 */
export interface ContainerHooks {
  name: string;
  beforeStart?(c: HookContainer, ctx: Context): Promise<void>;
  afterStart?(c: HookContainer & { pid: number }, ctx: Context): Promise<void>;
  afterStop?(c: HookContainer, ctx: Context): Promise<void>;
  onRemove?(c: HookContainer, ctx: Context): Promise<void>;
  collectGarbage?(liveIds: Set<string>, ctx: Context): Promise<void>;
}

export interface HookContainer {
  id: string;
  record: ContainerRecord;
  spec?: Spec;
}

const registered: ContainerHooks[] = [];

/** Subsystems register at import time (none yet: networking and cgroups will). */
export function registerHooks(h: ContainerHooks): void {
  if (!registered.some((x) => x.name === h.name)) registered.push(h);
}

type Phase = Exclude<keyof ContainerHooks, 'name' | 'collectGarbage'>;

/** Run one phase of every registered hook, in registration order (teardown phases in reverse). */
export async function runHooks(phase: Phase, c: HookContainer & { pid?: number }, ctx: Context): Promise<void> {
  const list = phase === 'afterStop' || phase === 'onRemove' ? [...registered].reverse() : registered;
  for (const h of list) await (h[phase] as ((c: HookContainer, ctx: Context) => Promise<void>) | undefined)?.call(h, c, ctx);
}

export async function collectHookGarbage(liveIds: Set<string>, ctx: Context): Promise<void> {
  for (const h of registered) await h.collectGarbage?.(liveIds, ctx);
}
