import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { runningPid } from '../container/running.js';
import { loadRecord, loadState } from '../container/state.js';
import { cgroupOf } from '../container/cgroup.js';
import { readRootFile } from '../container/root-file.js';
import { seccompChoice } from '../container/exec-plan.js';
import { resolveCapabilities } from '../spec/security.js';
import { ownBoundingSet } from '../container/prepare.js';
import { resolveUser, userEnvironment } from '../spec/process.js';
import { seccompPlanFor } from '../spec/seccomp/index.js';
import type { Spec } from '../spec/types.js';
import { planProcess } from '../runtime/plan.js';
import { joinPlan, namespacesOf, startDetachedExec } from '../runtime/exec-join.js';
import { CLONE } from '../runtime/plan-types.js';
import { launch } from '../runtime/launch.js';
import { openPty, setWinsize } from '../sys/pty.js';

export interface ExecOptions {
  container: string;
  command: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  privileged?: boolean;
  /** kill the command after this long (healthcheck probes) */
  timeoutMs?: number;
}

const NS: Record<string, number> = { pid: CLONE.NEWPID, mount: CLONE.NEWNS, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, network: CLONE.NEWNET, cgroup: CLONE.NEWCGROUP, user: CLONE.NEWUSER };

function overrideEnv(base: string[], extra: string[]): string[] {
  const out = [...base];
  for (const kv of extra) {
    const key = kv.split('=')[0]!;
    const i = out.findIndex((e) => e.split('=')[0] === key);
    if (!kv.includes('=')) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/**
 * docker exec: run a command in a running container, joining every namespace of its init (through the C
 * executor: a threaded Node process cannot setns into a mount namespace) with the container's own security
 * settings: capabilities (all with --privileged), no_new_privs, seccomp. Resolves with the command's exit code.
 */
export async function execInContainer(opts: ExecOptions, ctx: Context): Promise<number> {
  if (opts.command.length === 0) throw new UsageError('exec requires at least 2 arguments: a container and a command');
  const id = resolveContainer(ctx.root, opts.container);
  const pid = runningPid(ctx.root, id);
  if (pid === undefined) throw new TsdockError(`container ${id} is not running`, { exitCode: 125 });
  if (loadState(ctx.root, id)?.Status === 'paused') throw new TsdockError(`container ${id} is paused, unpause the container before exec`, { exitCode: 125 });
  const record = loadRecord(ctx.root, id);
  const spec = JSON.parse(fs.readFileSync(path.join(ctx.root, 'containers', id, 'config.json'), 'utf8')) as Spec;
  const proc = structuredClone(spec.process!);
  const envFiles = opts.envFile.map((f) => ({ path: f, content: fs.readFileSync(path.resolve(ctx.cwd, f), 'utf8') }));
  proc.env = overrideEnv(proc.env ?? [], userEnvironment({ env: opts.env, envFiles, hostEnv: ctx.env }));
  if (opts.user) {
    // as the container sees them: a symlink resolves inside it, a fifo or device fails fast (root-file.ts)
    const u = resolveUser(opts.user, { passwd: readRootFile(pid, 'etc/passwd'), group: readRootFile(pid, 'etc/group') });
    proc.user = { ...proc.user, uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
  }
  if (opts.workdir) proc.cwd = opts.workdir;
  proc.args = opts.command;
  proc.terminal = Boolean(opts.tty);
  if (opts.privileged) {
    const all = resolveCapabilities({ privileged: true, bounding: ownBoundingSet() });
    proc.capabilities = { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] };
  }
  const execProcess = planProcess({ ...spec, process: proc });
  // as run decides (seccompPlanFor): an architecture with no syscall table is refused, not run unfiltered
  Object.assign(execProcess, seccompPlanFor(opts.privileged ? 'unconfined' : seccompChoice(spec), proc.capabilities?.bounding ?? []));
  const flags = (spec.linux?.namespaces ?? []).filter((n) => !n.path).reduce((f, n) => f | (NS[n.type] ?? 0), 0);
  const plan = joinPlan(execProcess, pid, namespacesOf(flags));
  // the exec'd process belongs to the container's cgroup (limits, stats, pause and kill cover it)
  const cg = cgroupOf(record);
  if (cg?.exists()) {
    Object.assign(plan, cg.placement());
  }
  if (opts.detach) {
    await startDetachedExec(plan);
    return 0;
  }
  const pty = opts.tty ? openPty() : undefined;
  if (pty) {
    const out = ctx.stdout as { columns?: number; rows?: number };
    setWinsize(pty.master, out.rows ?? 24, out.columns ?? 80);
  }
  const exit = await launch(plan, { pty, interactive: Boolean(opts.interactive), ctx, timeoutMs: opts.timeoutMs });
  return exit.exitCode;
}
