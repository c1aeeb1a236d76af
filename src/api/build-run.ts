/**
 * build's RUN steps, as the builder's StepRunner (src/build/builder/types.ts): each a real tsdock container of the
 * stage's intermediate image, run in the foreground as `run` runs one (the command's output on the caller's
 * stdout and stderr, or discarded with -q), whose changes then become the step's layer as `commit` makes it.
 * The container is always removed, also after a failure or an interruption; its name is the build's own so a
 * failure before its id is known still finds it, and the next build removes what a killed one left.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parseNameFile } from '../container/names.js';
import { pidAlive } from '../storage/tmp.js';
import type { Context } from '../context.js';
import { NotFoundError, TsdockError, cleanupFailed } from '../errors.js';
import { ImageStore } from '../image/store/images.js';
import type { RunOutcome, RunStep, StepRunner } from '../build/builder/types.js';
import type { CreateRequest } from '../container/request.js';
import { resolveContainer } from '../container/lookup.js';
import { tracer } from '../trace.js';

/**
 * The run path (create, the spec, seccomp, the executor) and commit's layer code, loaded by the first RUN that
 * runs: a build whose steps all come from the cache never loads them (~20 ms of module start-up).
 */
const runPath = async () => {
  const [{ runContainer }, { containerLayer }, { openContainerView }] = await Promise.all([import('./run.js'), import('./commit.js'), import('../container/rootfs-view.js')]);
  return { runContainer, containerLayer, openContainerView };
};
const removal = async () => (await import('./rm.js')).removeContainer;

const BUILD_PREFIX = 'tsdock-build-';
const interrupted = () => new TsdockError('build: interrupted', { exitCode: 130 });

/** Where a RUN's output goes: the caller's stdout and stderr, nowhere (-q), or `build-output` progress events (the tty view). */
export type RunOutput = 'inherit' | 'discard' | 'report';

/** A writable that reports what is written as the step's `build-output` events (UTF-8 split across chunks kept whole). */
function reporter(ctx: Context, step: RunStep): Writable {
  const decoder = new StringDecoder('utf8');
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const data = decoder.write(chunk);
      if (data) ctx.progress?.({ kind: 'build-output', stage: step.stage, stages: step.stages, data });
      done();
    },
  });
}

/** The context a RUN's container runs with: its output where `output` says. */
function stepContext(ctx: Context, step: RunStep, output: RunOutput): Context {
  if (output !== 'report') return ctx;
  // without stdioFds and with fd-less streams, the container's output comes through pipes to these writables
  const { stdioFds: _fds, ...rest } = ctx;
  return { ...rest, stdin: undefined, stdout: reporter(ctx, step), stderr: reporter(ctx, step) };
}

/** `clampMtime`: --rewrite-timestamp's source date epoch, the latest mtime a RUN layer's entries get */
export function containerRunner(ctx: Context, opts: { output: RunOutput; clampMtime?: number }): StepRunner {
  const store = new ImageStore(ctx.root);
  const trace = tracer(ctx.env, () => ctx.stderr);
  return {
    async run(step: RunStep): Promise<RunOutcome> {
      const name = `${BUILD_PREFIX}${crypto.randomBytes(6).toString('hex')}`;
      const request: CreateRequest = {
        Image: step.image,
        Cmd: [...step.argv],
        Entrypoint: [''],
        Env: [...step.env],
        ...(step.user ? { User: step.user } : {}),
        ...(step.workdir ? { WorkingDir: step.workdir } : {}),
        HostConfig: { NetworkMode: step.network, ...(step.binds.length ? { Binds: [...step.binds] } : {}), ...(Object.keys(step.tmpfs).length ? { Tmpfs: { ...step.tmpfs } } : {}) },
      };
      try {
        const { runContainer, containerLayer, openContainerView } = await runPath();
        const r = await runContainer({ request, name, pull: 'never', volatile: true, ...(ctx.signal ? { killOn: ctx.signal } : {}), ...(opts.output === 'discard' ? { attach: [] } : {}) }, stepContext(ctx, step, opts.output)).catch((err: unknown) => {
          // the signal may reach the executor before it reported the start: still an interruption
          if (ctx.signal?.aborted) throw interrupted();
          throw err;
        });
        // an interrupted step is no result, whatever its command made of the signal
        if (ctx.signal?.aborted) throw interrupted();
        if (r.exitCode !== 0) return { exitCode: r.exitCode };
        const view = await openContainerView(ctx.root, r.containerId);
        const layer = await containerLayer(view, store, [...step.parentLayers], ctx, { withoutMountSkeleton: true, ...(opts.clampMtime === undefined ? {} : { clampMtime: opts.clampMtime }) });
        trace.mark('RUN: layer committed');
        return { exitCode: 0, layer };
      } finally {
        await removeBuildContainer(name, ctx);
        trace.mark('RUN: container removed');
      }
    },
  };
}

/** The build containers a killed build left (their creator, named in names/, is gone): removed. */
export async function sweepBuildContainers(ctx: Context): Promise<void> {
  const dir = path.join(ctx.root, 'names');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith(BUILD_PREFIX)) : [];
  for (const name of names) {
    let pid: number | undefined;
    try {
      pid = parseNameFile(fs.readFileSync(path.join(dir, name), 'utf8')).pid;
    } catch {
      continue;
    }
    if (pid !== undefined && !pidAlive(pid)) await removeBuildContainer(name, ctx);
  }
}

async function removeBuildContainer(name: string, ctx: Context): Promise<void> {
  let id: string;
  try {
    id = resolveContainer(ctx.root, name);
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
  await (await removal())(id, { force: true }, ctx).catch(cleanupFailed(ctx, `remove the build container ${name}`));
}
