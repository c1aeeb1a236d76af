import fs from 'node:fs';
import type { Context } from '../context.js';
import { resolveCapabilities } from '../ocispec/security.js';
import { resolveUser } from '../ocispec/process.js';
import { seccompPlanFor } from '../ocispec/seccomp/index.js';
import type { Spec } from '../ocispec/types.js';
import { planProcess } from '../runtime/plan.js';
import { joinPlan, namespacesOf } from '../runtime/exec-join.js';
import { CLONE, type ExecPlan } from '../runtime/plan-types.js';
import { cgroupOf } from './cgroup.js';
import { seccompChoice, seccompCacheDir } from './exec-plan.js';
import { ownBoundingSet } from './prepare.js';
import type { ContainerRecord } from './record.js';
import { readRootFile } from './root-file.js';
import { containerFile } from './state.js';

/** What `exec` asks of the process it adds to a running container. */
export interface ExecRequest {
  command: string[];
  /** docker's ExecConfig.Env: `K=V`, or a bare `K` that removes K (the client read --env-file and resolved `-e K`) */
  env: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  privileged?: boolean;
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
 * The executor plan of `exec`: the container's own process settings (config.json) with the request's command,
 * env, user (resolved as the container sees its /etc/passwd), workdir and terminal; its capabilities (all with
 * --privileged), no_new_privs and seccomp; joining every namespace of the init `pid` and the container's cgroup
 * (limits, stats, pause and kill cover the exec'd process).
 */
export function execJoinPlan(id: string, pid: number, record: ContainerRecord | undefined, req: ExecRequest, ctx: Context): ExecPlan {
  const spec = JSON.parse(fs.readFileSync(containerFile(ctx.root, id, 'spec'), 'utf8')) as Spec;
  const proc = structuredClone(spec.process!);
  proc.env = overrideEnv(proc.env ?? [], req.env);
  if (req.user) {
    // as the container sees them: a symlink resolves inside it, a fifo or device fails fast (root-file.ts)
    const u = resolveUser(req.user, { passwd: readRootFile(pid, 'etc/passwd'), group: readRootFile(pid, 'etc/group') });
    proc.user = { ...proc.user, uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
  }
  if (req.workdir) proc.cwd = req.workdir;
  proc.args = req.command;
  proc.terminal = Boolean(req.tty);
  if (req.privileged) {
    const all = resolveCapabilities({ privileged: true, bounding: ownBoundingSet() });
    proc.capabilities = { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] };
  }
  const execProcess = planProcess({ ...spec, process: proc });
  // as run decides (seccompPlanFor): an architecture with no syscall table is refused, not run unfiltered
  Object.assign(execProcess, seccompPlanFor(req.privileged ? 'unconfined' : seccompChoice(spec, containerFile(ctx.root, id, 'seccompProfile')), proc.capabilities?.bounding ?? [], { cacheDir: seccompCacheDir(ctx) }));
  const flags = (spec.linux?.namespaces ?? []).filter((n) => !n.path).reduce((f, n) => f | (NS[n.type] ?? 0), 0);
  const plan = joinPlan(execProcess, pid, namespacesOf(flags));
  const cg = cgroupOf(record);
  if (cg?.exists()) Object.assign(plan, cg.placement());
  return plan;
}
