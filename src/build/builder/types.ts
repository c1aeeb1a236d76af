/**
 * The builder's typed seams. A stage's state is an image config and its layers; the RUN step is carried out by
 * a `StepRunner` the api gives (containers live behind api functions: docs/architecture.md, "Building").
 */
import type { ImageConfig } from '../../image/manifest.js';
import type { LayerRef } from '../../image/store/types.js';

/** Where a stage stands after an instruction: what the next one builds on. */
export interface BuildState {
  readonly config: ImageConfig;
  readonly layers: readonly LayerRef[];
}

/** One RUN: the command as the container's argv, in a container of `image` (an image id in the store). */
export interface RunStep {
  readonly image: string;
  readonly parentLayers: readonly LayerRef[];
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  /** the container's network mode (host, none, bridge, a network's name) */
  readonly network: string;
  /** tmpfs mounts (`RUN --mount=type=tmpfs`): target → options */
  readonly tmpfs: Readonly<Record<string, string>>;
  /** bind mounts (`RUN --mount=type=bind|cache|secret`), docker's `-v` form */
  readonly binds: readonly string[];
  /** the stage it belongs to (1-based) and how many the build runs: what its reported output is tagged with */
  readonly stage: number;
  readonly stages: number;
}

export type RunOutcome = { readonly exitCode: 0; readonly layer: LayerRef } | { readonly exitCode: number };

export interface StepRunner {
  run(step: RunStep): Promise<RunOutcome>;
}

/** What the build reports (the CLI renders it: `STEP 2/7: RUN ...`, `--> Using cache <id>`, `--> <id>`). */
export type BuildEvent =
  | { readonly kind: 'step'; readonly stage: number; readonly step: number; readonly total: number; readonly text: string }
  | { readonly kind: 'cached'; readonly id: string }
  | { readonly kind: 'committed'; readonly id: string }
  | { readonly kind: 'notice'; readonly message: string };
