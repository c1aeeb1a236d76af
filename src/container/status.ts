import { procStat, type ProcStat } from '../sys/proc.js';
import type { ContainerState, ExitFile } from './record.js';
import { ORPHAN_ERROR, loadExit, loadState, saveState, tryContainerLock } from './state.js';

// the one /proc/<pid>/stat reader lives in sys; re-exported for the callers that know it from here
export { procStat, type ProcStat } from '../sys/proc.js';

function aliveStat(s: ProcStat | undefined, startTime: number | undefined): s is ProcStat {
  if (!s || s.state === 'Z' || s.state === 'X' || s.state === 'x') return false;
  return startTime === undefined || s.startTime === startTime;
}

/** Liveness per the lifecycle contract: the process exists, is no zombie, and started when we recorded. */
export function isAlive(pid: number | undefined, startTime?: number, stat: (pid: number) => ProcStat | undefined = procStat): boolean {
  return Boolean(pid) && aliveStat(stat(pid!), startTime);
}

/** The monitor is the C executor (comm `tsdock-exec`); its start time is checked when it was recorded. One read. */
export function monitorAlive(state: ContainerState, stat: (pid: number) => ProcStat | undefined = procStat): boolean {
  if (!state.MonitorPid) return false;
  const s = stat(state.MonitorPid);
  if (!aliveStat(s, state.MonitorStartTime)) return false;
  return state.MonitorStartTime !== undefined || s.comm === 'tsdock-exec';
}

/**
 * The one "is it running" decision for a running or paused record without exit.json (deriveState, so ps/inspect/
 * wait/rm, and runningPid, so stop/kill/exec/top/stats/pause/attach, both ask it):
 * - `running`: the init lives (its pid, not a zombie, with the recorded start time);
 * - `exiting`: the init is gone but its monitor lives: the drain window, where the monitor takes the last output
 *   and then writes exit.json. The state stays as recorded (the exit code is not known yet; docker too shows the
 *   container running until it has processed the exit), but there is no init to signal or join;
 * - `gone`: neither lives: the monitor died without recording the exit (deriveState: exited 137).
 * One /proc read while running, two in the drain window.
 */
export type Liveness = 'running' | 'exiting' | 'gone';

export function liveness(state: ContainerState, stat: (pid: number) => ProcStat | undefined = procStat): Liveness {
  if (isAlive(state.Pid, state.PidStartTime, stat)) return 'running';
  return monitorAlive(state, stat) ? 'exiting' : 'gone';
}

/** The init's pid when it can be acted on (liveness `running`), from the recorded state and exit.json's presence. */
export function actionablePid(state: ContainerState | undefined, exited: boolean, stat: (pid: number) => ProcStat | undefined = procStat): number | undefined {
  if (exited || !state || !ACTIVE.has(state.Status) || !state.Pid) return undefined;
  return liveness(state, stat) === 'running' ? state.Pid : undefined;
}

export const MONITOR_DIED = 'container monitor died';

const ACTIVE = new Set(['running', 'paused']);

/** A container whose init may be alive (running or paused) or between runs (restarting). */
export function isActive(state: ContainerState): boolean {
  return ACTIVE.has(state.Status) || state.Status === 'restarting';
}

/**
 * The truth for ps/inspect from the files (docs/lifecycle-design.md), as a pure function:
 * 1. exit.json present → exited with its code;
 * 2. else state.json says running (or paused) and the init pid is alive with its recorded start time → as recorded;
 *    the same while the init is gone but the monitor still lives (it is about to write exit.json);
 * 3. else, for a running/paused record, → exited 137, Error "container monitor died".
 * Any other recorded state (created, exited, removing, restarting, dead) stands. `removing` wins over 1.
 */
export function deriveState(
  recorded: ContainerState | undefined,
  exit: ExitFile | undefined,
  opts: { now?: number; stat?: (pid: number) => ProcStat | undefined } = {},
): ContainerState {
  const base: ContainerState = recorded ?? { Status: 'created', Pid: 0, RestartCount: 0 };
  if (base.Status === 'removing' || base.Status === 'dead') return base;
  if (exit) {
    // an Error recorded with the exit stands (a start failure), a "monitor died" verdict made too early does not
    const error = base.Status === 'exited' && base.Error !== MONITOR_DIED ? base.Error : undefined;
    return { ...base, Status: 'exited', Pid: 0, ExitCode: exit.ExitCode, FinishedAt: exit.FinishedAt, Error: error, MonitorPid: undefined, MonitorStartTime: undefined, OOMKilled: (exit.OOMKills ?? 0) > 0 };
  }
  if (!ACTIVE.has(base.Status)) return base;
  if (liveness(base, opts.stat) !== 'gone') return base;
  return {
    ...base,
    Status: 'exited',
    Pid: 0,
    ExitCode: 137,
    Error: MONITOR_DIED,
    FinishedAt: new Date(opts.now ?? Date.now()).toISOString(),
    MonitorPid: undefined,
    MonitorStartTime: undefined,
  };
}

function sameState(a: ContainerState | undefined, b: ContainerState): boolean {
  return a !== undefined && a.Status === b.Status && a.Pid === b.Pid && a.ExitCode === b.ExitCode && a.FinishedAt === b.FinishedAt;
}

export interface CurrentStateOptions {
  /**
   * Bring state.json up to date when it differs from the derived state (default true). Done only when the
   * container lock is free right now (never waits: whoever holds it is changing the state anyway); pass
   * false when the caller holds the lock itself.
   */
  update?: boolean;
}

/**
 * A container's current state (deriveState over state.json and exit.json), refreshing state.json lazily.
 * A container without any state file is `created`.
 */
export async function currentState(root: string, id: string, opts: CurrentStateOptions = {}): Promise<ContainerState> {
  const recorded = loadState(root, id);
  const derived = deriveState(recorded, loadExit(root, id));
  if (opts.update === false || sameState(recorded, derived) || recorded === undefined) return derived;
  const lock = tryContainerLock(root, id);
  if (!lock) return derived;
  try {
    // re-derive under the lock: a start/stop may have written since we read
    const again = loadState(root, id);
    const fresh = deriveState(again, loadExit(root, id));
    if (!sameState(again, fresh)) await saveState(root, id, fresh, { fsync: false });
    return fresh;
  } finally {
    lock.release();
  }
}

/** currentState, except that an orphan (see state.ts) is always `dead`. */
export async function containerState(root: string, id: string, orphan: boolean, opts: CurrentStateOptions = {}): Promise<ContainerState> {
  if (orphan) return { Status: 'dead', Pid: 0, RestartCount: 0, Error: ORPHAN_ERROR };
  return currentState(root, id, opts);
}

/** Docker's zero time, which inspect shows for a StartedAt/FinishedAt that never happened. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function timeOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) || t <= 0 ? undefined : t;
}

/**
 * Docker's State.String(): `Up 3 seconds`, `Up 3 seconds (Paused)`, `Up 2 hours (healthy)`,
 * `Restarting (1) 5 seconds ago`, `Removal In Progress`, `Dead`, `Created`, `Exited (0) 2 seconds ago`.
 * `humanDuration` is docker's units.HumanDuration (src/cli/render/units.ts, injected: the CLI owns rendering).
 */
export function statusString(state: ContainerState, humanDuration: (ms: number) => string, now = Date.now()): string {
  const since = (iso: string | undefined) => humanDuration(Math.max(0, now - (timeOf(iso) ?? now)));
  switch (state.Status) {
    case 'running':
      if (state.Health) return `Up ${since(state.StartedAt)} (${state.Health.Status === 'starting' ? 'health: starting' : state.Health.Status})`;
      return `Up ${since(state.StartedAt)}`;
    case 'paused':
      return `Up ${since(state.StartedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${state.ExitCode ?? 0}) ${since(state.FinishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      if (timeOf(state.StartedAt) === undefined) return 'Created';
      if (timeOf(state.FinishedAt) === undefined) return '';
      return `Exited (${state.ExitCode ?? 0}) ${since(state.FinishedAt)} ago`;
  }
}
