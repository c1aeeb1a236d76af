import type { Context } from '../context.js';
import { containerEvent } from '../container/events.js';
import { resolveContainer } from '../container/lookup.js';
import { loadRecord } from '../container/state.js';
import { startContainer } from './start.js';
import { stopContainer } from './stop.js';

/** `restart`: stop (a stopped container as it is), start, and docker's `restart` event after the start's. */
export async function restartContainer(ref: string, opts: { timeout?: number; signal?: string }, ctx: Context): Promise<void> {
  const id = resolveContainer(ctx.root, ref);
  await stopContainer(id, opts, ctx);
  await startContainer(id, ctx);
  const record = loadRecord(ctx.root, id);
  if (record) containerEvent(ctx.root, 'restart', record);
}
