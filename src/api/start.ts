import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { ImageStore } from '../image/store/images.js';
import { resolveContainer } from '../container/lookup.js';
import type { ContainerRecord } from '../container/record.js';
import { CONTAINER_FILES, loadRecord, loadState, withContainerLock } from '../container/state.js';
import { containerPaths } from '../container/store.js';
import { containerPlan, seccompCacheDir } from '../container/exec-plan.js';
import { recordStarted } from '../container/lifecycle-files.js';
import { actionablePid } from '../container/status.js';
import { waitMonitorGone } from '../container/running.js';
import { startMonitor } from '../runtime/monitor.js';
import { closeTerminal, openTerminal, type Pty } from '../runtime/tty.js';
import type { Spec } from '../ocispec/types.js';
import { ramInBytes } from '../ocispec/units.js';
import { healthTiming } from '../container/health.js';
import { runHooks } from '../container/hooks.js';
import { monitorEventTemplates } from '../container/events.js';
import { eventLogFile } from '../events/log.js';
import { networkForStart, networkStarted, releaseNetwork } from '../container/network.js';
import { cgroupPlanFields, prepareCgroup, releaseCgroup, requireDeviceControl } from '../container/cgroup.js';

export interface StartResult {
  id: string;
  name: string;
  pid: number;
  /** false when it was already running (docker's start is then a no-op) */
  started: boolean;
}

/** docker's --log-opt max-size: 10k, 20m, 1g (0 = unlimited) */
export function parseLogSize(v: string | undefined): number {
  if (!v) return 0;
  const n = ramInBytes(v);
  if (n === undefined) throw new TsdockError(`invalid log-opt max-size: ${v}`, { exitCode: 125 });
  return n;
}

/** where a container's output is logged and when the log rotates: its monitor's (start) or its relay's (run) */
export function logTarget(dir: string, record: Pick<ContainerRecord, 'HostConfig'>): { path: string; maxSize: number } {
  return { path: path.join(dir, CONTAINER_FILES.log), maxSize: parseLogSize(record.HostConfig.LogConfig?.Config?.['max-size']) };
}

/** The attach socket lives under the run root with a short name: unix socket paths stop at 108 bytes. */
export function attachSocketPath(runRoot: string, id: string): string {
  return path.join(runRoot, 'attach', `${id.slice(0, 12)}.sock`);
}

/**
 * Start a created or exited container detached: its executor becomes the monitor (docs/lifecycle-design.md),
 * which keeps the log and the attach socket, writes exit.json and then runs `tsdock container cleanup`
 * (the --rm and restart decisions stay in TypeScript).
 */
export async function startContainer(ref: string, ctx: Context, opts: { restarting?: boolean } = {}): Promise<StartResult> {
  const id = resolveContainer(ctx.root, ref);
  return withContainerLock(ctx.root, id, async () => {
    const record = loadRecord(ctx.root, id);
    if (!record) throw new TsdockError(`container ${ref} is incomplete (no container.json): remove it with rm -f`);
    const state = loadState(ctx.root, id);
    const exitPath = path.join(ctx.root, 'containers', id, 'exit.json');
    const pid = state?.Status === 'running' ? actionablePid(state, fs.existsSync(exitPath)) : undefined;
    if (pid !== undefined) {
      return { id, name: record.Name, pid, started: false };
    }
    const paths = containerPaths(ctx.root, id, record.Name);
    const spec = JSON.parse(fs.readFileSync(paths.spec, 'utf8')) as Spec;
    const store = new ImageStore(ctx.root);
    const image = (await store.read()).images[record.Image];
    if (!image) throw new TsdockError(`cannot start ${record.Name}: its image ${record.Image.slice(7, 19)} was removed`);
    // an earlier run's monitor may still be draining: let it write its exit.json and end before this run
    await waitMonitorGone(ctx.root, id, 5000);
    fs.rmSync(exitPath, { force: true });
    requireDeviceControl(record.Cgroup, record.HostConfig.Privileged, ctx);
    await runHooks('beforeStart', { id, record, spec }, ctx);
    const cgroup = record.Cgroup ? await prepareCgroup(record.Cgroup, spec) : undefined;
    let pty: Pty | undefined;
    let started = false;
    try {
      if (record.Config.Tty) pty = openTerminal({ rows: 24, cols: 80 });
      const plan = containerPlan({ seccompCache: seccompCacheDir(ctx), spec, store, image, paths, rootless: !ctx.rootful, driver: record.Driver ?? 'overlay', consolePath: pty?.slavePath, cgroup: record.Cgroup, privileged: record.HostConfig.Privileged, volatile: Boolean(record.Volatile) });
      await networkForStart(id, record, paths, plan, ctx);
      const socket = attachSocketPath(ctx.runRoot, id);
      fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
      const log = logTarget(paths.dir, record);
      plan.monitor = {
        logPath: log.path,
        logMaxSize: log.maxSize,
        attachSocket: socket,
        exitFile: exitPath,
        exitCommand: tsdockCommand(ctx, 'cleanup', id),
        keepStdin: record.Config.OpenStdin,
        ...(cgroup?.oomFile() ? { oomFile: cgroup.oomFile() } : {}),
        events: { logPath: eventLogFile(ctx.root), ...monitorEventTemplates(record) },
      };
      if (cgroup) Object.assign(plan, cgroupPlanFields(cgroup, spec));
      const health = record.Config.Healthcheck;
      // the monitor only keeps time; each probe is `tsdock container healthcheck ID`, decided in TypeScript
      if (health) plan.monitor.healthCommand = { intervalMs: healthTiming(health).interval, argv: tsdockCommand(ctx, 'healthcheck', id) };
      const { pid, monitorPid } = await startMonitor(plan, pty ? { ptyMaster: pty.master } : {});
      started = true;
      await recordStarted(paths, record, pid, monitorPid, { restartCount: restartCount(ctx.root, id, opts.restarting), ...(health ? { health: { Status: 'starting', FailingStreak: 0, Log: [] } } : {}), monitored: true });
      await networkStarted(id, record, pid, ctx);
      await runHooks('afterStart', { id, record, spec, pid }, ctx);
      return { id, name: record.Name, pid, started: true };
    } finally {
      if (pty) closeTerminal(pty);
      if (!started) await releaseNetwork(id, record, ctx);
      if (!started) await releaseCgroup(record.Cgroup, ctx);
    }
  });
}

function restartCount(root: string, id: string, restarting: boolean | undefined): number {
  const prev = loadState(root, id)?.RestartCount ?? 0;
  return restarting ? prev + 1 : prev;
}

/** `tsdock --root R --runroot RR container <verb> ID`: what the monitor runs (cleanup after exit, healthchecks). */
function tsdockCommand(ctx: Context, verb: 'cleanup' | 'healthcheck', id: string): string[] {
  const bin = process.argv[1] ?? 'tsdock';
  return [process.execPath, bin, '--root', ctx.root, '--runroot', ctx.runRoot, 'container', verb, id];
}

