/**
 * A stage's running state and the one rule every step follows: look the step's key up in the cache (unless
 * --no-cache), else make the result and store it; either way the stage moves on to it and the build reports it.
 */
import type { Context } from '../../context.js';
import type { ImageConfig, HistoryEntry } from '../../image/manifest.js';
import type { ImageStore } from '../../image/store/images.js';
import type { LayerRef } from '../../image/store/types.js';
import type { StageScope } from '../dockerfile/scope.js';
import type { BuildCache } from './cache.js';
import type { StageFlags } from './config.js';
import type { SourceFs } from './source-fs.js';
import type { BuildState, StepRunner } from './types.js';

/** What every stage of one build shares. */
export interface BuildSettings {
  readonly store: ImageStore;
  /** the build's view of the store's cache */
  readonly cache: BuildCache;
  readonly ctx: Context;
  readonly context: SourceFs;
  readonly runner: StepRunner;
  readonly noCache: boolean;
  readonly network: string;
  /** SOURCE_DATE_EPOCH: clamps copied mtimes, fixes `created` */
  readonly epoch?: number;
  readonly escape: '\\' | '`';
  /** `--secret id=…,src=…`: id → host file */
  readonly secrets: Readonly<Record<string, string>>;
  /** `--ssh`: id → an SSH agent's socket (RUN --mount=type=ssh) */
  readonly ssh: Readonly<Record<string, string>>;
  /** a finished stage's state (COPY --from=stage, RUN --mount from=) */
  stageState(ref: string): Promise<BuildState> | undefined;
  /** an image named by COPY --from: its state (found or pulled) */
  imageState(ref: string): Promise<BuildState>;
  readonly signal: AbortSignal;
}

export interface StageRun {
  readonly settings: BuildSettings;
  /** 1-based, and how many stages the build has (the report's `[stage/stages]`) */
  readonly stage: number;
  readonly stages: number;
  readonly scope: StageScope;
  readonly flags: StageFlags;
  state: BuildState;
  /** the parent of the next step in the cache key: the base image's id, then each step's config digest */
  id: string;
}

export function createdTime(epoch: number | undefined): string {
  return (epoch === undefined ? new Date() : new Date(epoch * 1000)).toISOString().replace(/\.000Z$/, 'Z');
}

/** The config after a step: `created`, one history entry, and a new layer's diff id when there is one. */
export function stepConfig(config: ImageConfig, createdBy: string, layer: LayerRef | undefined, epoch: number | undefined): ImageConfig {
  const created = createdTime(epoch);
  const entry: HistoryEntry = { created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) };
  return {
    ...config,
    created,
    rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])] },
    history: [...(config.history ?? []), entry],
  };
}

export async function cachedStep(run: StageRun, key: string, make: () => Promise<BuildState>): Promise<void> {
  const { cache, ctx } = run.settings;
  if (!run.settings.noCache) {
    const hit = await cache.lookup(key);
    if (hit) {
      run.state = { config: hit.config, layers: hit.layers };
      run.id = hit.id;
      ctx.progress?.({ kind: 'build-result', stage: run.stage, stages: run.stages, id: hit.id, cached: true });
      return;
    }
  }
  const state = await make();
  run.id = await cache.save(key, state);
  run.state = state;
  ctx.progress?.({ kind: 'build-result', stage: run.stage, stages: run.stages, id: run.id, cached: false });
}
