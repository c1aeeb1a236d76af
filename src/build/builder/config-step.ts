/**
 * The steps that change only the config (ENV LABEL EXPOSE VOLUME USER CMD ENTRYPOINT STOPSIGNAL HEALTHCHECK
 * SHELL ONBUILD MAINTAINER: `empty_layer` history), ARG (the stage's scope only, no step result) and WORKDIR
 * (the config, and a layer holding the directory when the image lacks it, as BuildKit makes it).
 */
import path from 'node:path';
import { imageFs } from './source-fs.js';
import { layerDirs } from '../../image/layer-dirs.js';
import { expandInstruction } from '../dockerfile/expand-instruction.js';
import { atLine } from '../dockerfile/errors.js';
import type { ArgInstruction, Instruction, WorkdirInstruction } from '../dockerfile/types.js';
import { cacheKey } from './cache-key.js';
import { applyConfig, workdirPath } from './config.js';
import { parentItems, orderItems, type CopyItem } from './copy-items.js';
import { itemsLayer } from './layer-write.js';
import { cachedStep, stepConfig, type StageRun } from './state.js';

/** The values of the variables an expansion used, for the cache key. */
export function usedValues(run: StageRun, used: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of [...used].sort()) out[n] = run.scope.lookup(n) ?? '';
  return out;
}

export function argStep(run: StageRun, inst: ArgInstruction): void {
  // declare() expands a default with the scope so far
  for (const decl of inst.args) atLine(inst.startLine, () => run.scope.declare(decl));
}

export async function configStep(run: StageRun, raw: Instruction, text: string): Promise<void> {
  const { instruction: inst, used } = expandInstruction(raw, run.scope.lookup, run.settings.escape);
  if (inst.kind === 'env') for (const p of inst.pairs) run.scope.setEnv(p.key, p.value);
  const key = cacheKey({ parent: run.id, instruction: inst, args: usedValues(run, used) });
  await cachedStep(run, key, async () => {
    const next = atLine(raw.startLine, () => applyConfig(run.state.config, inst, run.flags));
    if (!next) throw new Error(`not a config instruction: ${inst.kind}`);
    return { config: stepConfig(next, text, undefined, run.settings.epoch), layers: run.state.layers };
  });
}

export async function workdirStep(run: StageRun, raw: WorkdirInstruction, text: string): Promise<void> {
  const { instruction: inst, used } = expandInstruction(raw, run.scope.lookup, run.settings.escape);
  const key = cacheKey({ parent: run.id, instruction: inst, args: usedValues(run, used) });
  await cachedStep(run, key, async () => {
    const { store, ctx, epoch } = run.settings;
    const config = applyConfig(run.state.config, inst, run.flags)!;
    const dir = workdirPath(run.state.config.config?.WorkingDir, inst.path);
    const image = imageFs(await layerDirs(store, run.state.layers));
    if (dir === '/' || image.lookup(dir.slice(1), true)?.stat.isDirectory()) return { config: stepConfig(config, text, undefined, epoch), layers: run.state.layers };
    const mtime = epoch ?? Math.floor(Date.now() / 1000);
    const item: CopyItem = { dest: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime, size: 0 };
    const items = orderItems([...parentItems([item], (p) => image.lookup(path.posix.relative('/', p), true)?.stat, mtime), item]);
    const layer = await itemsLayer(store, items, run.state.layers, ctx);
    return { config: stepConfig(config, text, layer, epoch), layers: [...run.state.layers, layer] };
  });
}
