import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { runningPid } from '../container/running.js';
import { loadRecord } from '../container/state.js';
import { cgroupOf } from '../container/cgroup.js';
import { containerPids } from '../container/pid-namespace.js';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/**
 * docker top: run `ps` on the host with the given options (default -ef) and keep the rows whose PID
 * column is one of the container's processes. As docker does, the last column takes the rest of a line.
 */
export async function containerTop(ref: string, psArgs: string[], ctx: Context): Promise<TopResult> {
  const id = resolveContainer(ctx.root, ref);
  const pid = runningPid(ctx.root, id);
  if (pid === undefined) throw new TsdockError(`container ${id} is not running`);
  // the container's cgroup holds its processes (exec'd ones too); without one, its pid namespace
  const cg = cgroupOf(loadRecord(ctx.root, id));
  const pids = new Set(cg?.exists() ? cg.pids() : containerPids(pid));
  const args = psArgs.length ? psArgs : ['-ef'];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ps', args, { maxBuffer: 64 << 20, env: { ...ctx.env, LC_ALL: 'C' } }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new TsdockError(`ps: ${(e.stderr || e.message).trim()}`);
  }
  return parsePs(stdout, pids);
}

export function parsePs(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new TsdockError(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < titles.length) continue;
    const p = Number(fields[pidIndex]);
    if (!pids.has(p)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { titles, processes };
}
