/**
 * One stage: its base (an image found or pulled, an earlier stage, or `scratch`), the base image's ONBUILD
 * triggers (run first, then cleared), then each instruction in order, every step reported as `STEP n/m`.
 */
import { TsdockError } from '../../errors.js';
import { tracer } from '../../trace.js';
import { hostPlatform, type ImageConfig } from '../../image/manifest.js';
import { DockerfileError } from '../dockerfile/errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { StageScope, type ArgInput, type ArgValues } from '../dockerfile/scope.js';
import type { Stage } from '../dockerfile/stages.js';
import type { Instruction } from '../dockerfile/types.js';
import { stateId } from './cache.js';
import { argStep, configStep, workdirStep } from './config-step.js';
import { copyStep } from './copy-step.js';
import { runStep } from './run-step.js';
import type { BuildSettings, StageRun } from './state.js';
import type { BuildState } from './types.js';

export interface StageInput {
  readonly stage: Stage;
  /** 1-based among the stages this build runs, and how many those are */
  readonly position: number;
  readonly stages: number;
  readonly globals: ArgValues;
  readonly args: ArgInput;
  /** each instruction's text as `STEP` shows it, by its first line */
  readonly text: (inst: Instruction) => string;
}

export function scratchState(): BuildState {
  const p = hostPlatform();
  const config: ImageConfig = { architecture: p.architecture, os: 'linux', ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] } };
  return { config, layers: [] };
}

async function baseOf(settings: BuildSettings, stage: Stage): Promise<{ state: BuildState; id: string }> {
  if (stage.baseStage !== undefined) {
    const state = await settings.stageState(String(stage.baseStage))!;
    return { state, id: stateId(state) };
  }
  if (stage.base.toLowerCase() === 'scratch') return { state: scratchState(), id: 'scratch' };
  const state = await settings.imageState(stage.base);
  return { state, id: stateId(state) };
}

/** The base image's ONBUILD triggers as instructions (each parsed as its own one-line Dockerfile). */
function triggersOf(config: ImageConfig, line: number): { inst: Instruction; text: string }[] {
  return (config.config?.OnBuild ?? []).flatMap((expr) => {
    try {
      return parseDockerfile(expr).instructions.map((i) => ({ inst: { ...i, startLine: line, endLine: line }, text: expr.split('\n')[0]! }));
    } catch (err) {
      throw new DockerfileError(line, `ONBUILD trigger of the base image ${JSON.stringify(expr)}: ${(err as Error).message}`);
    }
  });
}

async function dispatch(run: StageRun, inst: Instruction, text: string): Promise<void> {
  switch (inst.kind) {
    case 'arg':
      return argStep(run, inst);
    case 'run':
      return runStep(run, inst);
    case 'copy':
    case 'add':
      return copyStep(run, inst, text);
    case 'workdir':
      return workdirStep(run, inst, text);
    case 'from':
      throw new DockerfileError(inst.startLine, 'FROM inside a stage');
    default:
      return configStep(run, inst, text);
  }
}

export async function buildStage(settings: BuildSettings, input: StageInput): Promise<BuildState> {
  const { stage } = input;
  const report = (step: number, total: number, text: string) =>
    settings.ctx.progress?.({ kind: 'build-step', stage: input.position, stages: input.stages, step, total, text });
  report(1, stage.instructions.length + 1, input.text(stage.from));
  const base = await baseOf(settings, stage);
  const triggers = triggersOf(base.state.config, stage.from.startLine);
  let state = base.state;
  if (triggers.length) state = { ...state, config: { ...state.config, config: { ...(state.config.config ?? {}), OnBuild: null } } };
  const run: StageRun = { settings, stage: input.position, stages: input.stages, scope: new StageScope(input.globals, input.args, state.config.config?.Env ?? []), flags: { cmdSet: false }, state, id: base.id };
  const steps = [...triggers, ...stage.instructions.map((i) => ({ inst: i, text: input.text(i) }))];
  const total = steps.length + 1;
  const trace = tracer(settings.ctx.env, () => settings.ctx.stderr);
  trace.mark(`stage ${input.position}: FROM`);
  for (const [n, { inst, text }] of steps.entries()) {
    if (settings.signal.aborted) throw settings.signal.reason instanceof TsdockError ? settings.signal.reason : new TsdockError('build: interrupted', { exitCode: 130 });
    report(n + 2, total, text);
    try {
      await dispatch(run, inst, text);
    } catch (err) {
      if (err instanceof TsdockError || (err as Error).name === 'AbortError') throw err;
      throw new DockerfileError(inst.startLine, `${inst.kind.toUpperCase()}: ${(err as Error).message}`, { cause: err });
    }
    trace.mark(`stage ${input.position}: ${n + 2} ${inst.kind.toUpperCase()}`);
  }
  return run.state;
}
