import { writeJsonAtomic } from '../state/atomic.js';
import type { ContainerPaths } from './store.js';
import type { ContainerRecord, ContainerState, ExitFile } from './record.js';
import { procStat } from './status.js';
import { containerEvent } from './events.js';
import fs from 'node:fs';
import path from 'node:path';

/** The files a container's life leaves behind (docs/lifecycle-design.md), written atomically; each an event too. */
export async function recordCreated(paths: ContainerPaths, record: ContainerRecord): Promise<void> {
  await writeJsonAtomic(paths.meta, record, { fsync: false });
  const state: ContainerState = { Status: 'created', Pid: 0, RestartCount: 0 };
  await writeJsonAtomic(path.join(paths.dir, 'state.json'), state, { fsync: false });
  containerEvent(paths.root, 'create', record);
}

/**
 * The container runs. `monitorPid` is whoever will write exit.json: the detached monitor, or, for a foreground
 * run, the CLI itself (so status derivation does not call it "monitor died" in the moment between the init's
 * exit and the CLI writing exit.json).
 */
/** `monitored`: the monitor wrote the start event itself (MonitorPlan.events), ordered before its die */
export async function recordStarted(paths: ContainerPaths, record: ContainerRecord, pid: number, monitorPid: number, opts: { restartCount?: number; health?: ContainerState['Health']; monitored?: boolean } = {}): Promise<void> {
  const { restartCount = 0, health } = opts;
  const state: ContainerState = {
    Status: 'running',
    Pid: pid,
    PidStartTime: procStat(pid)?.startTime,
    MonitorPid: monitorPid,
    MonitorStartTime: procStat(monitorPid)?.startTime,
    StartedAt: new Date().toISOString(),
    RestartCount: restartCount,
    ...(health ? { Health: health } : {}),
  };
  await writeJsonAtomic(path.join(paths.dir, 'state.json'), state, { fsync: false });
  if (!opts.monitored) containerEvent(paths.root, 'start', record);
}

/** A foreground run knows how its container ended: it writes exit.json itself (a detached one's monitor does). */
export async function recordExited(paths: ContainerPaths, record: ContainerRecord, exit: { exitCode: number; signal: number; ooms?: number }): Promise<void> {
  const file: ExitFile = { ExitCode: exit.exitCode, Signal: exit.signal, FinishedAt: new Date().toISOString(), ...(exit.ooms !== undefined ? { OOMKills: exit.ooms } : {}) };
  try {
    await writeJsonAtomic(path.join(paths.dir, 'exit.json'), file, { fsync: false });
  } catch (err) {
    // removed meanwhile (`rm -f` from another CLI): nothing is left to record the exit in
    if (!((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(paths.dir))) throw err;
  }
  // what the monitor of a detached container writes (plan.monitor.events), in the same order
  if (exit.ooms) containerEvent(paths.root, 'oom', record);
  containerEvent(paths.root, 'die', record, { exitCode: String(exit.exitCode) });
}
