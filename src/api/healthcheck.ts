import { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { resolveContainer } from '../container/lookup.js';
import { loadRecord, loadState, saveState, withContainerLock } from '../container/state.js';
import { runningPid } from '../container/running.js';
import { healthTiming, nextHealth, probeCommand, type ProbeResult } from '../container/health.js';
import { execInContainer } from './exec.js';
import { containerEvent } from '../container/events.js';

const MAX_OUTPUT = 4096;

/**
 * One healthcheck probe (`tsdock container healthcheck ID`, run by the monitor every interval): the test runs
 * like `exec` inside the container, its output (first 4 KiB) and exit code go to State.Health under the
 * container's lock. A probe that outlives its timeout is killed and counts as a failure (exit code -1).
 */
export async function runHealthcheck(ref: string, ctx: Context): Promise<ProbeResult | undefined> {
  const id = resolveContainer(ctx.root, ref);
  const health = loadRecord(ctx.root, id)?.Config.Healthcheck;
  // no probes while paused (docker's monitor skips them too)
  if (!health || runningPid(ctx.root, id) === undefined || loadState(ctx.root, id)?.Status === 'paused') return undefined;
  const timing = healthTiming(health);
  let output = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
      cb();
    },
  });
  const start = new Date();
  let exitCode: number;
  try {
    const t0 = Date.now();
    exitCode = await execInContainer({ container: id, command: probeCommand(health), env: [], timeoutMs: timing.timeout }, { ...ctx, stdin: undefined, stdout: sink, stderr: sink });
    if (Date.now() - t0 >= timing.timeout) {
      exitCode = -1;
      output = `Health check exceeded timeout (${timing.timeout / 1000}s)`;
    }
  } catch (err) {
    exitCode = -1;
    output = (err as Error).message;
  }
  const probe: ProbeResult = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output };
  await withContainerLock(ctx.root, id, async () => {
    const state = loadState(ctx.root, id);
    if (!state || state.Status !== 'running') return;
    const health = nextHealth(state.Health, probe, timing, state.StartedAt);
    await saveState(ctx.root, id, { ...state, Health: health });
    const record = loadRecord(ctx.root, id);
    if (record && health.Status !== state.Health?.Status) containerEvent(ctx.root, `health_status: ${health.Status}`, record);
  });
  return probe;
}
