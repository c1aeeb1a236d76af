/**
 * A parsed Dockerfile → its build stages: the global ARGs before the first FROM, each stage's FROM (image and
 * --platform expanded with the global scope, and the args that used), unique case-insensitive names, `--target`
 * resolution, and the stage dependency graph (FROM an earlier stage, COPY --from, RUN --mount from=), so
 * independent stages can be built in parallel.
 */
import { DockerfileError } from './errors.js';
import { expand } from './expand.js';
import { expandInstruction } from './expand-instruction.js';
import { globalArgs, type ArgInput, type ArgValues } from './scope.js';
import type { ArgDecl, Dockerfile, FromInstruction, Instruction } from './types.js';

export interface Stage {
  readonly index: number;
  /** lowercased; undefined for an unnamed stage */
  readonly name?: string;
  /** FROM as written */
  readonly from: FromInstruction;
  /** FROM's image and --platform after expansion with the global args */
  readonly base: string;
  readonly platform?: string;
  /** the earlier stage `base` names, if it names one */
  readonly baseStage?: number;
  /** the global args FROM's expansion used */
  readonly usedArgs: ReadonlySet<string>;
  readonly instructions: readonly Instruction[];
}

export interface StagePlan {
  readonly globalArgs: ArgValues;
  readonly globalDecls: readonly ArgDecl[];
  readonly stages: readonly Stage[];
}

export function splitStages(df: Dockerfile, input: ArgInput = {}): StagePlan {
  const decls: ArgDecl[] = [];
  const groups: { from: FromInstruction; body: Instruction[] }[] = [];
  for (const inst of df.instructions) {
    if (inst.kind === 'from') groups.push({ from: inst, body: [] });
    else if (groups.length) groups[groups.length - 1]!.body.push(inst);
    else if (inst.kind === 'arg') decls.push(...inst.args);
    else throw new DockerfileError(inst.startLine, `no build stage in current context: ${inst.kind.toUpperCase()} before the first FROM`);
  }
  if (groups.length === 0) throw new DockerfileError(df.instructions[0]?.startLine ?? 1, 'no FROM instruction: a Dockerfile needs at least one build stage');
  const globals = globalArgs(decls, input);
  const byName = new Map<string, number>();
  const stages = groups.map(({ from, body }, index): Stage => {
    const { instruction, used } = expandInstruction(from, (n) => globals.get(n), df.directives.escape);
    if (instruction.image === '') throw new DockerfileError(from.startLine, `base name (${from.image}) should not be blank`);
    if (instruction.platform === '') throw new DockerfileError(from.startLine, `empty platform value from expression ${from.platform}`);
    const baseStage = byName.get(instruction.image.toLowerCase());
    if (from.stageName !== undefined) {
      if (byName.has(from.stageName)) throw new DockerfileError(from.startLine, `duplicate stage name ${JSON.stringify(from.stageName)}`);
      byName.set(from.stageName, index);
    }
    return { index, name: from.stageName, from, base: instruction.image, platform: instruction.platform, baseStage, usedArgs: used, instructions: body };
  });
  return { globalArgs: globals, globalDecls: decls, stages };
}

/** The stage `--target` names (case-insensitive), or the last stage when none is given. */
export function resolveTarget(plan: StagePlan, target?: string): Stage {
  if (target === undefined || target === '') return plan.stages[plan.stages.length - 1]!;
  const found = plan.stages.find((s) => s.name === target.toLowerCase());
  if (!found) throw new DockerfileError(1, `target stage ${JSON.stringify(target)} could not be found`);
  return found;
}

/** A stage a stage needs first, and the instruction that needs it. */
export interface StageDependency {
  readonly stage: number;
  readonly via: 'from' | 'copy' | 'mount';
  readonly line: number;
}

export interface StageNode {
  readonly index: number;
  readonly dependsOn: readonly StageDependency[];
  /** images (not stages) named by COPY --from or RUN --mount from= */
  readonly images: readonly string[];
}

/** Every stage's direct dependencies. A reference must name an earlier stage (by name or index), else it is an image. */
export function stageGraph(plan: StagePlan): StageNode[] {
  const byName = new Map(plan.stages.filter((s) => s.name !== undefined).map((s) => [s.name!, s.index]));
  return plan.stages.map((stage): StageNode => {
    const deps: StageDependency[] = [];
    const images: string[] = [];
    if (stage.baseStage !== undefined) deps.push({ stage: stage.baseStage, via: 'from', line: stage.from.startLine });
    const ref = (from: string, via: 'copy' | 'mount', line: number): void => {
      const target = /^\d+$/.test(from) ? Number(from) : byName.get(from.toLowerCase());
      if (target === undefined) {
        if (!images.includes(from)) images.push(from);
        return;
      }
      if (target >= plan.stages.length) throw new DockerfileError(line, `invalid stage index ${target}`);
      if (target >= stage.index) throw new DockerfileError(line, `${via === 'copy' ? 'COPY --from' : 'RUN --mount from'}=${from}: the stage must be defined before the current one`);
      if (!deps.some((d) => d.stage === target && d.via === via)) deps.push({ stage: target, via, line });
    };
    // ONBUILD triggers run in the builds that use this image, not in this one
    for (const i of stage.instructions) {
      if (i.kind === 'copy' && i.from !== undefined) {
        if (expand(i.from, () => undefined).value !== i.from) throw new DockerfileError(i.startLine, 'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
        ref(i.from, 'copy', i.startLine);
      }
      if (i.kind === 'run') for (const m of i.mounts) if (m.from) ref(m.from, 'mount', i.startLine);
    }
    return { index: stage.index, dependsOn: deps, images };
  });
}

/** The stages `target` needs, itself included, in build order (dependencies first, indices ascending). */
export function stagesFor(plan: StagePlan, target: Stage): number[] {
  const graph = stageGraph(plan);
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of graph[i]!.dependsOn) visit(d.stage);
  };
  visit(target.index);
  return [...needed].sort((a, b) => a - b);
}
