import type { Context } from '../context.js';
import { logTarget } from './start.js';
import { closeTerminal, openTerminal } from '../runtime/tty.js';
import { NotFoundError, TsdockError, withCleanup } from '../errors.js';
import { withContainerLock } from '../container/state.js';
import { removeContainerDirs } from '../container/store.js';
import { removeAnonymousVolumes } from '../container/prepare.js';
import { launch } from '../runtime/launch.js';
import { recordExited, recordStarted } from '../container/lifecycle-files.js';
import { createContainer, type CreateOptions, type Created } from './create.js';
import { tracer } from '../trace.js';
import { runHooks, type HookContainer } from '../container/hooks.js';
import { containerEvent } from '../container/events.js';
import { networkForStart, networkStarted } from '../container/network.js';
import { cgroupPlanFields, prepareCgroup } from '../container/cgroup.js';
import type { Cgroup } from '../cgroups/index.js';

export type AttachStream = 'stdin' | 'stdout' | 'stderr';

/** `run` takes what `create` takes; the container then runs in the foreground. */
export interface RunOptions extends CreateOptions {
  /** `-a`: only these streams are attached (the others: stdin closed, output discarded); default all */
  attach?: AttachStream[];
  /**
   * The container is killed (its executor SIGKILLed, the init with it) when this aborts, instead of being sent the
   * signals the CLI gets: build's RUN steps, whose init (a shell as PID 1) ignores SIGINT, stop with the build.
   */
  killOn?: AbortSignal;
}

export interface RunResult {
  containerId: string;
  name: string;
  /** docker's: the container's code, 128+n on signal n, 125 engine error, 126 cannot execute, 127 not found */
  exitCode: number;
}

/**
 * `tsdock run`: `create` (image → container directory → OCI spec → executor plan), then the C executor runs it
 * in the foreground with the caller's stdio (or a pty with -t) → exit code. With --rm everything is removed after;
 * without it the stopped container stays for ps -a / start / rm.
 */
export async function runContainer(opts: RunOptions, ctx: Context): Promise<RunResult> {
  const trace = tracer(ctx.env, () => ctx.stderr);
  trace.mark('node + cli loaded');
  // -t: the pty exists before the plan, whose /dev/console is a bind of its slave
  const pty = opts.request.Tty ? openTerminal() : undefined;
  let created: Created;
  try {
    created = await createContainer(opts, ctx, { consolePath: pty?.slavePath });
  } catch (err) {
    if (pty) closeTerminal(pty);
    throw err;
  }
  const { paths, prepared, record } = created;
  trace.mark('created: spec + plan + seccomp');
  const hooked: HookContainer = { id: paths.id, record, spec: prepared.spec };
  const cleanup = async () => {
    if (!opts.request.HostConfig.AutoRemove) return;
    // under the container's lock: an `rm -f` from another CLI may be removing it (or have removed it) already
    await withContainerLock(ctx.root, paths.id, async () => {
      await runHooks('onRemove', hooked, ctx);
      await removeContainerDirs(ctx.root, paths);
      containerEvent(ctx.root, 'destroy', record);
    }).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
    await removeAnonymousVolumes(ctx.root, prepared.anonymousVolumes);
  };
  let cgroup: Cgroup | undefined;
  return withCleanup(async () => {
    await runHooks('beforeStart', hooked, ctx);
    await networkForStart(paths.id, record, paths, prepared.plan, ctx);
    trace.mark('network');
    if (record.Cgroup) {
      cgroup = await prepareCgroup(record.Cgroup, prepared.spec);
      Object.assign(prepared.plan, cgroupPlanFields(cgroup, prepared.spec));
      trace.mark('cgroup');
    }
    const exit = await launch(prepared.plan, {
      pty,
      interactive: Boolean(opts.request.OpenStdin),
      ctx,
      trace,
      ...(opts.attach ? { attach: opts.attach } : {}),
      ...(opts.killOn ? { killOn: opts.killOn } : {}),
      // logged like a detached container (docker and podman log attached runs too)
      log: logTarget(paths.dir, record),
      onStarted: async (pid) => {
        await networkStarted(paths.id, record, pid, ctx);
        await runHooks('afterStart', { ...hooked, pid }, ctx);
        await recordStarted(paths, record, pid, process.pid);
      },
    });
    trace.mark('container exited');
    const ooms = cgroup?.oomKills();
    await runHooks('afterStop', hooked, ctx);
    // also before --rm's removal: a concurrent `rm -f` waits for exit.json (this CLI is the container's monitor)
    await recordExited(paths, record, { ...exit, ooms });
    return { containerId: paths.id, name: paths.name, exitCode: exit.exitCode };
  }, async () => {
    await cleanup();
    trace.mark('cleanup');
  }).catch((err: unknown) => {
    if (err instanceof TsdockError) throw err;
    throw new TsdockError(`run ${opts.request.Image}: ${(err as Error).message}`, { cause: err });
  });
}
