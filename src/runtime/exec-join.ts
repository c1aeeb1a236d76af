/**
 * `exec`: run a process inside a running container by joining the namespaces of its init (docs/lifecycle-design.md,
 * "exec"). The executor opens /proc/<pid>/ns/* first, setns()es (user first, mount last), forks into the pid
 * namespace, and sets the process up as `run` does; the foreground case is an ordinary executor run (`launch` or
 * startExecutor: `pid`, `error`, `exit`/`signal`, signal forwarding), `exec -d` is startDetachedExec.
 */
import { startExecutor, type ExecutorOptions } from './executor.js';
import { JOIN_ORDER } from './plan-encode.js';
import { CLONE, type ExecPlan, type JoinNamespace, type PlanProcess } from './plan-types.js';

const FLAG_OF: Record<JoinNamespace, number> = {
  user: CLONE.NEWUSER,
  mnt: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  net: CLONE.NEWNET,
  cgroup: CLONE.NEWCGROUP,
};

/**
 * The namespaces a container created (its plan's cloneFlags), in the order they are entered. Namespaces it shares
 * with the host (e.g. `--net=host`) are not listed: the process gets the executor's own, which are the same.
 */
export function namespacesOf(cloneFlags: number): JoinNamespace[] {
  return JOIN_ORDER.filter((n) => (cloneFlags & FLAG_OF[n]) !== 0);
}

/** A plan running `process` in the namespaces of `pid` (the container's init). */
export function joinPlan(process: PlanProcess, pid: number, namespaces: JoinNamespace[], opts: { pidFile?: string } = {}): ExecPlan {
  const plan: ExecPlan = { cloneFlags: 0, init: false, steps: [], process, join: { pid, namespaces } };
  if (opts.pidFile !== undefined) plan.pidFile = opts.pidFile;
  return plan;
}

/**
 * `exec -d`: starts a join plan with stdio on /dev/null in its own session and lets go of it once the process
 * runs (Node may exit; the executor waits for the process and exits with it). Rejects with ContainerStartError.
 */
export async function startDetachedExec(plan: ExecPlan, opts: Omit<ExecutorOptions, 'stdio' | 'detached'> = {}): Promise<{ pid: number; executorPid: number }> {
  const h = startExecutor(plan, { ...opts, stdio: ['ignore', 'ignore', 'ignore'], detached: true, outlives: true });
  try {
    const pid = await h.started;
    return { pid, executorPid: h.pid };
  } catch (err) {
    await h.exited;
    throw err;
  } finally {
    h.unref();
  }
}
