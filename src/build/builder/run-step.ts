/**
 * RUN: the command in a container of the stage's current image and config (its env with the build args in
 * scope, user, working dir, shell form through SHELL, heredocs as the shell reads them), run by the api's
 * StepRunner; its filesystem change is the step's layer. `RUN --mount`: tmpfs, bind (context or stage, read-only,
 * its content in the cache key), cache (a directory of the store kept across builds) and secret (`--secret`'s
 * file, read-only at /run/secrets/<id>) mounts. A non-zero exit fails the build (exit 1, as
 * docker's CLI) naming the line, the command and its code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../../errors.js';
import { recordImage } from '../../image/commit-image.js';
import { layerDirs } from '../../image/layer-dirs.js';
import { expandInstruction } from '../dockerfile/expand-instruction.js';
import type { CommandLine, Heredoc, RunInstruction, RunMount } from '../dockerfile/types.js';
import { cacheKey, sourcesDigest } from './cache-key.js';
import { commandArgv, setEnv, shellOf } from './config.js';
import { cleanSource } from './copy-paths.js';
import { imageFs, type SourceFs } from './source-fs.js';
import { sourceRecords, walkItems, type CopyItem } from './copy-items.js';
import { stateId } from './cache.js';
import { cachedStep, stepConfig, type StageRun } from './state.js';

/** The command's argv: a lone heredoc is the script; other heredocs stay in the text the shell reads. */
export function runArgv(command: CommandLine, heredocs: readonly Heredoc[], shell: readonly string[]): string[] {
  if (command.form === 'exec' || heredocs.length === 0) return commandArgv(command, shell);
  const only = heredocs.length === 1 && /^\d*<<-?(["']?)[^\s"']+\1$/.test(command.command.trim());
  if (only) return [...shell, heredocs[0]!.content];
  const bodies = heredocs.map((h) => `${h.content}${h.content.endsWith('\n') || h.content === '' ? '' : '\n'}${h.name}`).join('\n');
  return [...shell, `${command.command}\n${bodies}`];
}

/** The container's environment: the config's Env, then the build args in scope that ENV does not set. */
export function runEnv(env: readonly string[] | null | undefined, args: ReadonlyMap<string, string>): string[] {
  let out = [...(env ?? [])];
  const has = new Set(out.map((e) => e.split('=')[0]));
  for (const [k, v] of args) if (!has.has(k)) out = setEnv(out, k, v);
  return out;
}

/** The mounts' variables (SSH_AUTH_SOCK) where the environment has none of its own, as BuildKit adds them. */
export function withMountEnv(env: readonly string[], extra: readonly string[]): string[] {
  const has = new Set(env.map((e) => e.split('=')[0]));
  return [...env, ...extra.filter((e) => !has.has(e.split('=')[0]))];
}

interface Mounts {
  tmpfs: Record<string, string>;
  binds: string[];
  /** what the mounts' content adds to the cache key: a context bind's content digest, a stage's state */
  key: Record<string, string>;
  /** what the mounts add to the command's environment (SSH_AUTH_SOCK for an ssh mount) */
  env: string[];
}

/** The digest of a tree's content and metadata (a bind mount's source), as COPY's sources are keyed. */
function treeDigest(src: SourceFs, rel: string): string {
  const entry = src.lookup(rel, true)!;
  const items: CopyItem[] = [];
  walkItems(src, rel, entry, '/', { preserveOwner: true }, items, false);
  return sourcesDigest(sourceRecords(items));
}

async function mountsFor(run: StageRun, mounts: readonly RunMount[], workdir: string | undefined): Promise<Mounts> {
  const out: Mounts = { tmpfs: {}, binds: [], key: {}, env: [] };
  let agents = 0;
  const { store, ctx } = run.settings;
  for (const m of mounts) {
    const target = path.posix.resolve(workdir || '/', m.target ?? '');
    if (m.type === 'tmpfs') out.tmpfs[target] = m.size ? `size=${m.size}` : '';
    else if (m.type === 'cache') {
      const id = (m.id ?? target).replace(/[^A-Za-z0-9_.-]/g, '_');
      const dir = path.join(ctx.root, 'build-mounts', id);
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      out.binds.push(`${dir}:${target}`);
    } else if (m.type === 'bind') {
      const rel = cleanSource(m.source ?? '');
      let src: SourceFs;
      if (m.from) {
        const state = await (run.settings.stageState(m.from) ?? run.settings.imageState(m.from));
        src = imageFs(await layerDirs(store, state.layers));
        out.key[target] = stateId(state);
      } else src = run.settings.context;
      const host = src.lookup(rel, true)?.hostPath;
      if (!host) throw new Error(`RUN --mount: bind source not found: ${m.source ?? '/'}`);
      if (!m.from) out.key[target] = treeDigest(src, rel);
      // always read-only: BuildKit throws a writable bind's writes away, here they would reach the context or a layer
      out.binds.push(`${host}:${target}:ro`);
    } else if (m.type === 'secret') {
      const id = m.id ?? path.posix.basename(m.target ?? '');
      const file = run.settings.secrets[id];
      if (file === undefined) {
        if (m.required) throw new Error(`secret ${id}: not provided (give it with --secret id=${id},src=FILE)`);
        continue;
      }
      out.binds.push(`${file}:${m.target ? target : `/run/secrets/${id}`}:ro`);
    } else if (m.type === 'ssh') {
      // BuildKit's: the agent's socket at the target (default /run/buildkit/ssh_agent.N), the first as SSH_AUTH_SOCK;
      // the agent itself is never in the key
      const id = m.id ?? 'default';
      const sock = run.settings.ssh[id];
      if (sock === undefined) {
        const hint = `give it with --ssh ${id === 'default' ? 'default' : `${id}=SOCKET`} (an ssh-agent's socket; default $SSH_AUTH_SOCK)`;
        if (m.required) throw new Error(`ssh ${id}: no SSH agent forwarded: ${hint}`);
        ctx.warn?.(`RUN --mount=type=ssh: no SSH agent forwarded for id ${JSON.stringify(id)}, the mount is skipped: ${hint}`);
        continue;
      }
      const at = m.target ? target : `/run/buildkit/ssh_agent.${agents}`;
      if (agents++ === 0) out.env.push(`SSH_AUTH_SOCK=${at}`);
      out.binds.push(`${sock}:${at}:ro`);
    } else if (m.required) throw new Error(`RUN --mount=type=${m.type} is not supported`);
  }
  return out;
}

export async function runStep(run: StageRun, raw: RunInstruction): Promise<void> {
  const { instruction: inst } = expandInstruction(raw, run.scope.lookup, run.settings.escape);
  const cfg = run.state.config.config ?? {};
  const argv = runArgv(inst.command, inst.heredocs, shellOf(cfg));
  const args = run.scope.declaredArgs();
  const network = inst.network === 'none' ? 'none' : inst.network === 'host' ? 'host' : run.settings.network;
  const mounts = await mountsFor(run, inst.mounts, cfg.WorkingDir);
  // a secret's content is not in the key (BuildKit's rule): it must not be recoverable from the cache
  const key = cacheKey({ parent: run.id, instruction: inst, args: Object.fromEntries(args), extra: { network, ...Object.fromEntries(Object.entries(mounts.key).map(([t, d]) => [`mount:${t}`, d])) } });
  await cachedStep(run, key, async () => {
    const { store, runner, epoch } = run.settings;
    // the container is made from an image: the stage's state recorded as a hidden intermediate image
    const image = await recordImage(store, run.state.config, [...run.state.layers], undefined, { intermediate: true });
    const outcome = await runner.run({ image, parentLayers: run.state.layers, argv, env: withMountEnv(runEnv(cfg.Env, args), mounts.env), user: cfg.User || undefined, workdir: cfg.WorkingDir || undefined, network, tmpfs: mounts.tmpfs, binds: mounts.binds, stage: run.stage, stages: run.stages });
    if (!('layer' in outcome)) {
      throw new TsdockError(`dockerfile line ${raw.startLine}: RUN: process ${JSON.stringify(argv.join(' '))} did not complete successfully: exit code: ${outcome.exitCode}`, { exitCode: 1 });
    }
    const argText = args.size ? `|${args.size} ${[...args].map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
    const createdBy = `RUN ${argText}${argv.join(' ')} # buildkit`;
    return { config: stepConfig(run.state.config, createdBy, outcome.layer, epoch), layers: [...run.state.layers, outcome.layer] };
  });
}
