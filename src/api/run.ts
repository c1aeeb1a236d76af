import fs from 'node:fs';
import type { Context } from './context.js';
import { openPty } from '../sys/pty.js';
import { TsdockError, withCleanup } from '../errors.js';
import { ImageStore } from '../image/store/images.js';
import { loadConfig } from './image-inspect.js';
import { findOrPullImage, type PullPolicy } from '../image/find-or-pull.js';
import { createContainerDirs, removeContainerDirs } from '../container/store.js';
import { imageDisplayName, prepareContainer, removeAnonymousVolumes, type ContainerRequest } from '../container/prepare.js';
import { launch } from '../runtime/launch.js';
import { buildRecord } from '../container/record-build.js';
import { recordCreated, recordExited, recordStarted } from '../container/lifecycle-files.js';
import { tracer } from '../trace.js';
import { runHooks, type HookContainer } from '../container/hooks.js';

export interface RunOptions extends ContainerRequest {
  image: string;
  command: string[];
  name?: string;
  rm?: boolean;
  platform?: string;
  pull: PullPolicy;
  tlsVerify?: boolean;
  interactive?: boolean;
  tty?: boolean;
}

export interface RunResult {
  containerId: string;
  name: string;
  /** docker's: the container's code, 128+n on signal n, 125 engine error, 126 cannot execute, 127 not found */
  exitCode: number;
}

/**
 * `tsdock run`: image → container directory → OCI spec → executor plan → the C executor runs it in the
 * foreground with the caller's stdio (or a pty with -t) → exit code. With --rm everything is removed after.
 */
export async function runContainer(opts: RunOptions, ctx: Context): Promise<RunResult> {
  const trace = tracer(ctx.env, ctx.stderr);
  trace.mark('node + cli loaded');
  const store = new ImageStore(ctx.root);
  const image = await findOrPullImage(store, { reference: opts.image, policy: opts.pull, platform: opts.platform, tlsVerify: opts.tlsVerify }, ctx);
  const config = await loadConfig(store, image);
  trace.mark('image resolved');
  const paths = await createContainerDirs(ctx.root, opts.name);
  trace.mark('container dir created');
  let anonymousVolumes: string[] = [];
  // Without --rm the stopped container stays on disk (the lifecycle issue adds ps -a / rm for it).
  let hooked: HookContainer | undefined;
  const cleanup = async () => {
    if (!opts.rm) return;
    if (hooked) await runHooks('onRemove', hooked, ctx);
    await removeContainerDirs(ctx.root, paths);
    await removeAnonymousVolumes(ctx.root, anonymousVolumes);
  };
  return withCleanup(async () => {
    // -t: the pty exists before the plan, whose /dev/console is a bind of its slave
    const pty = opts.tty ? openPty() : undefined;
    let prepared;
    try {
      prepared = await prepareContainer({ store, image, config, paths, request: opts, ctx, imageName: imageDisplayName(image, opts.image), consolePath: pty?.slavePath });
    } catch (err) {
      if (pty) for (const fd of [pty.master, pty.slave]) fs.closeSync(fd);
      throw err;
    }
    anonymousVolumes = prepared.anonymousVolumes;
    const record = buildRecord({ paths, imageId: image.id, imageName: opts.image, config, spec: prepared.spec, prepared, request: opts });
    await recordCreated(paths, record);
    hooked = { id: paths.id, record, spec: prepared.spec };
    await runHooks('beforeStart', hooked, ctx);
    trace.mark('spec + plan + seccomp');
    const exit = await launch(prepared.plan, {
      pty,
      interactive: Boolean(opts.interactive),
      ctx,
      trace,
      onStarted: async (pid) => {
        await runHooks('afterStart', { ...hooked!, pid }, ctx);
        await recordStarted(paths, pid, process.pid);
      },
    });
    trace.mark('container exited');
    await runHooks('afterStop', hooked, ctx);
    if (!opts.rm) await recordExited(paths, exit);
    return { containerId: paths.id, name: paths.name, exitCode: exit.exitCode };
  }, async () => {
    await cleanup();
    trace.mark('cleanup');
  }).catch((err: unknown) => {
    if (err instanceof TsdockError) throw err;
    throw new TsdockError(`run ${opts.image}: ${(err as Error).message}`, { cause: err });
  });
}
