/**
 * A whole build: the Dockerfile's stages (stages.ts), only those the target needs, each started as soon as the
 * stages it depends on are done (independent stages run in parallel); the first failure aborts the others and
 * is what the build reports, once every stage has stopped (no step is left running). `--label`s go on the final
 * config. The result is the target's state; recording and tagging it is the caller's.
 */
import type { Context } from '../../context.js';
import { cleanupFailed } from '../../errors.js';
import { findOrPullImage } from '../../image/find-or-pull.js';
import { formatPlatform, hostPlatform, type ImageConfig } from '../../image/manifest.js';
import type { ImageStore } from '../../image/store/images.js';
import type { ContextMatcher } from '../context/ignore.js';
import type { PlatformArgs } from '../dockerfile/scope.js';
import { resolveTarget, splitStages, stagesFor } from '../dockerfile/stages.js';
import type { Dockerfile, Instruction } from '../dockerfile/types.js';
import { BuildCache } from './cache.js';
import { contextFs } from './source-fs.js';
import { buildStage } from './stage.js';
import type { BuildSettings } from './state.js';
import type { BuildState, StepRunner } from './types.js';

export interface BuildRequest {
  readonly store: ImageStore;
  readonly dockerfile: Dockerfile;
  /** the Dockerfile's text, for the steps' display */
  readonly source: string;
  readonly contextDir: string;
  readonly matcher: ContextMatcher;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly pull: boolean;
  readonly network: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly epoch?: number;
  readonly runner: StepRunner;
  readonly secrets: Readonly<Record<string, string>>;
  /** `--ssh`: id → an SSH agent's socket */
  readonly ssh?: Readonly<Record<string, string>>;
  readonly tlsVerify?: boolean;
}

export function platformArgs(): PlatformArgs {
  const p = hostPlatform();
  const v = { PLATFORM: formatPlatform(p), OS: p.os, ARCH: p.architecture, VARIANT: p.variant ?? '' };
  return { TARGETPLATFORM: v.PLATFORM, TARGETOS: v.OS, TARGETARCH: v.ARCH, TARGETVARIANT: v.VARIANT, BUILDPLATFORM: v.PLATFORM, BUILDOS: v.OS, BUILDARCH: v.ARCH, BUILDVARIANT: v.VARIANT };
}

/** An instruction's text as `STEP` shows it: its lines, continuations joined, heredoc bodies left out. */
export function stepText(source: string, inst: Instruction): string {
  const lines = source.split(/\r?\n/).slice(inst.startLine - 1, inst.endLine);
  const out: string[] = [];
  for (const l of lines) {
    const cont = /\\\s*$/.test(l);
    out.push(l.replace(/\\\s*$/, '').trim());
    if (!cont) break;
  }
  return out.filter(Boolean).join(' ');
}

export async function runBuild(req: BuildRequest, ctx: Context): Promise<BuildState> {
  const input = { buildArgs: req.buildArgs, platform: platformArgs() };
  const plan = splitStages(req.dockerfile, input);
  const target = resolveTarget(plan, req.target);
  const order = stagesFor(plan, target);
  const abort = new AbortController();
  const onAbort = () => abort.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const results = new Map<number, Promise<BuildState>>();
  const images = new Map<string, Promise<BuildState>>();
  const byName = new Map(plan.stages.filter((s) => s.name !== undefined).map((s) => [s.name!, s.index]));
  const settings: BuildSettings = {
    store: req.store,
    cache: new BuildCache(req.store),
    ctx,
    context: contextFs(req.contextDir, req.matcher),
    runner: req.runner,
    noCache: req.noCache,
    network: req.network,
    escape: req.dockerfile.directives.escape,
    secrets: req.secrets,
    ssh: req.ssh ?? {},
    signal: abort.signal,
    ...(req.epoch !== undefined ? { epoch: req.epoch } : {}),
    stageState(ref) {
      const index = /^\d+$/.test(ref) ? Number(ref) : byName.get(ref.toLowerCase());
      return index === undefined ? undefined : results.get(index);
    },
    imageState(ref) {
      let p = images.get(ref);
      if (!p) {
        p = (async () => {
          const img = await findOrPullImage(req.store, { reference: ref, policy: req.pull ? 'always' : 'missing', tlsVerify: req.tlsVerify }, ctx);
          const config = JSON.parse((await req.store.blobs.get(img.configDigest)).toString('utf8')) as ImageConfig;
          return { config, layers: img.layers };
        })();
        images.set(ref, p);
      }
      return p;
    },
  };
  const graph = new Map(order.map((i) => [i, plan.stages[i]!]));
  for (const i of order) {
    const stage = graph.get(i)!;
    const started = (async () => {
      // a stage waits for its base stage; COPY --from waits for its stage when it gets there
      await Promise.resolve();
      const state = await buildStage(settings, { stage, position: order.indexOf(i) + 1, stages: order.length, globals: plan.globalArgs, args: input, text: (inst) => stepText(req.source, inst) });
      return state;
    })();
    started.catch((err: unknown) => abort.abort(err));
    results.set(i, started);
  }
  try {
    const settled = await Promise.allSettled(order.map((i) => results.get(i)!));
    // a stage stopped by another's failure throws that failure: the first rejection is the build's error
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed?.status === 'rejected') {
      // the steps made before the failure stay cached: the rebuild after a fix starts from them
      await settings.cache.flush().catch(cleanupFailed(ctx, 'record the build cache'));
      throw failed.reason;
    }
    await settings.cache.flush();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  const final = await results.get(target.index)!;
  return withLabels(final, req.labels);
}


function withLabels(state: BuildState, labels: Readonly<Record<string, string>>): BuildState {
  if (Object.keys(labels).length === 0) return state;
  const cfg = state.config.config ?? {};
  return { ...state, config: { ...state.config, config: { ...cfg, Labels: { ...(cfg.Labels ?? {}), ...labels } } } };
}

/** docker's warning for build args no ARG consumed. */
export function unusedBuildArgs(df: Dockerfile, buildArgs: Readonly<Record<string, string>>): string[] {
  const declared = new Set<string>();
  const visit = (i: Instruction) => {
    if (i.kind === 'arg') for (const a of i.args) declared.add(a.name);
    if (i.kind === 'onbuild') visit(i.trigger);
  };
  df.instructions.forEach(visit);
  return Object.keys(buildArgs).filter((k) => !declared.has(k) && !/^(HTTPS?|FTP|NO|ALL)_PROXY$/i.test(k)).sort();
}

