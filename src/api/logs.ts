import type { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { containerFile, containerExists, loadRecordOrOrphan } from '../container/state.js';
import { containerState, isActive } from '../container/status.js';
import { noSuchContainer, resolveContainer } from '../container/lookup.js';
import { parseTimeArg, readLogs, type LogLine } from '../container/logs.js';

export interface LogsOptions {
  container: string;
  follow?: boolean;
  /** a number of lines, or 'all' (default) */
  tail?: string;
  /** RFC3339 / Unix time / relative duration ("10m") */
  since?: string;
  until?: string;
  timestamps?: boolean;
}

/**
 * `logs`: the container's log (ctr.log.1 then ctr.log, k8s-file), stdout records to ctx.stdout and stderr
 * records to ctx.stderr. With `follow`, ends once the container has exited and the log is drained.
 */
export async function containerLogs(opts: LogsOptions, ctx: Context): Promise<void> {
  const id = resolveContainer(ctx.root, opts.container);
  const loaded = loadRecordOrOrphan(ctx.root, id);
  if (!loaded) throw noSuchContainer(opts.container);
  if (loaded.record.HostConfig.LogConfig?.Type === 'none') throw new TsdockError('configured logging driver does not support reading', { exitCode: 1 });
  const now = Date.now();
  const tail = parseTail(opts.tail);
  const since = opts.since ? parseTimeArg(opts.since, now, 'since') : undefined;
  const until = opts.until ? parseTimeArg(opts.until, now, 'until') : undefined;
  const running = async () => containerExists(ctx.root, id) && isActive(await containerState(ctx.root, id, loaded.orphan).catch(() => ({ Status: 'exited' as const, Pid: 0, RestartCount: 0 })));
  const atLineStart = { stdout: true, stderr: true };
  // a reader that went away (`logs x | head`): stop reading, quietly
  const closed = new AbortController();
  const onError = () => closed.abort();
  for (const s of [ctx.stdout, ctx.stderr]) s.on('error', onError);
  const write = async (line: LogLine) => {
    const out = line.stream === 'stderr' ? ctx.stderr : ctx.stdout;
    const prefix = opts.timestamps && atLineStart[line.stream] ? `${line.time} ` : '';
    atLineStart[line.stream] = line.complete;
    const parts = [Buffer.from(prefix), line.data];
    if (line.complete) parts.push(NEWLINE);
    await writeTo(out, Buffer.concat(parts), closed.signal);
  };
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, closed.signal]) : closed.signal;
  try {
    await readLogs({ log: containerFile(ctx.root, id, 'log'), rotated: containerFile(ctx.root, id, 'rotatedLog') }, { tail, since, until, follow: opts.follow, running, signal }, write);
  } catch (err) {
    if (closed.signal.aborted) return;
    // Ctrl-C while following ends the command as the signal would
    if (ctx.signal?.aborted) throw new TsdockError('', { exitCode: 130 }).silent();
    throw err;
  } finally {
    for (const s of [ctx.stdout, ctx.stderr]) s.off('error', onError);
  }
}

const NEWLINE = Buffer.from('\n');

/** docker's --tail: a number of lines, or "all"; a negative number also means all. */
function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === 'all' || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid value for "tail": ${JSON.stringify(value)}`);
  const n = Number(value);
  return n < 0 ? undefined : n;
}

/** Respect back-pressure, so a long log piped into a slow reader is not buffered in memory. */
function writeTo(out: Writable, data: Buffer, closed: AbortSignal): Promise<void> | void {
  if (closed.aborted) throw closed.reason;
  if (out.write(data)) return;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      closed.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    closed.addEventListener('abort', done);
  });
}
