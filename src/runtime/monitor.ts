/**
 * Detached containers (`run -d`, `start`): the executor becomes the container's monitor (docs/lifecycle-design.md,
 * "The executor as a monitor"). startMonitor spawns it in its own session with its stdio on /dev/null, waits for
 * `pid` (the monitor then closes the status pipe), and lets go of it: the Node process may exit while the monitor
 * keeps the log, the attach socket and, at the end, `exit.json` and the exit command.
 */
import { startExecutor, type ExecutorOptions } from './executor.js';
import type { ExecPlan, MonitorTiming } from './plan-types.js';

export interface MonitorOptions {
  /**
   * `-t`: a pty master (the caller opened the pty and set its window size). The executor gets it as fd 5 and
   * `plan.monitor.ptyMasterFd` is set to 5; the caller closes its own copies of the master and slave afterwards.
   */
  ptyMaster?: number;
  /** the executor's environment (PATH for the exit command and newuidmap); default process.env */
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  executable?: string;
}

export interface MonitorStarted {
  /** host pid of the container's init */
  pid: number;
  /** pid of the monitor (the executor), in its own session */
  monitorPid: number;
}

/**
 * The monitor's time bounds: the output is drained for at most 2 s after the init ends, ending sooner once it is
 * quiet for 100 ms; an attach client that takes no output for 1 s is dropped (the log and other clients go on).
 */
export const MONITOR_TIMING: MonitorTiming = { drainMs: 2000, drainIdleMs: 100, clientStallMs: 1000 };

/**
 * Starts `plan` (which must have a `monitor` section) detached. Resolves once the container runs; rejects with
 * ContainerStartError (the executor has then exited, and no exit file or exit command is written or run).
 */
export async function startMonitor(plan: ExecPlan, opts: MonitorOptions = {}): Promise<MonitorStarted> {
  if (!plan.monitor) throw new RangeError('startMonitor: the plan has no monitor section');
  const withPty = opts.ptyMaster !== undefined;
  const p: ExecPlan = { ...plan, monitor: { ...plan.monitor, timing: plan.monitor.timing ?? MONITOR_TIMING, ...(withPty ? { ptyMasterFd: 5 } : {}) } };
  const eo: ExecutorOptions = { stdio: ['ignore', 'ignore', 'ignore'], detached: true };
  if (withPty) eo.extraFds = [opts.ptyMaster!];
  if (opts.env) eo.env = opts.env;
  if (opts.uid !== undefined) eo.uid = opts.uid;
  if (opts.gid !== undefined) eo.gid = opts.gid;
  if (opts.executable) eo.executable = opts.executable;
  const h = startExecutor(p, eo);
  try {
    const pid = await h.started;
    return { pid, monitorPid: h.pid };
  } catch (err) {
    await h.exited; // a start failure ends the executor at once
    throw err;
  } finally {
    h.unref();
  }
}
