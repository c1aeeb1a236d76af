import type { ProgressEvent } from '../../context.js';
import type { CliContext } from '../context.js';
import { humanSize } from './units.js';

const PHASES: Record<string, string> = {
  waiting: 'Waiting',
  exists: 'Already exists',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  extracting: 'Extracting',
  complete: 'Pull complete',
  preparing: 'Preparing',
  pushing: 'Pushing',
  pushed: 'Pushed',
  present: 'Layer already exists',
  mounted: 'Mounted from',
};
/** the phases that end a layer's line: the only ones printed when not on a TTY */
const FINAL = new Set(['exists', 'complete', 'pushed', 'present', 'mounted']);

/**
 * docker pull's and push's per-layer display: live bars redrawn in place on a TTY; when piped, one plain line per
 * status message and per finished layer, nothing else (parseable).
 */
export function layerProgress(cli: CliContext, to: 'stdout' | 'stderr' = 'stdout'): { onEvent: (e: ProgressEvent) => void; done: () => void } {
  // the stream is made at the first event: a run of an image already here writes nothing
  let stream: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
  let isTty: boolean | undefined;
  const out = { write: (s: string) => (stream ??= cli[to]).write(s) };
  const ttyOut = () => (isTty ??= Boolean((stream ??= cli[to]).isTTY) && cli.env.TERM !== 'dumb');
  const order: string[] = [];
  const lines = new Map<string, string>();
  let drawn = 0;
  let lastDraw = 0;
  const redraw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 80) return;
    lastDraw = now;
    let frame = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const id of order) frame += `\x1b[2K${id}: ${lines.get(id)}\n`;
    drawn = order.length;
    out.write(frame);
  };
  const onEvent = (e: ProgressEvent) => {
    if (e.kind === 'status') {
      if (ttyOut() && drawn) redraw(true);
      out.write(`${e.message}\n`);
      drawn = 0;
      order.length = 0;
      return;
    }
    if (e.kind !== 'layer' && e.kind !== 'push') return;
    if (!lines.has(e.id)) order.push(e.id);
    let text = PHASES[e.phase] ?? e.phase;
    const moving = e.phase === 'downloading' || e.phase === 'pushing';
    if (moving && e.total) text += ` ${bar(e.current ?? 0, e.total)} ${humanSize(e.current ?? 0)}/${humanSize(e.total)}`;
    if (e.kind === 'push' && e.from) text += ` ${e.from}`;
    lines.set(e.id, text);
    if (ttyOut()) redraw(!moving);
    else if (FINAL.has(e.phase)) out.write(`${e.id}: ${text}\n`);
  };
  return { onEvent, done: () => stream !== undefined && ttyOut() && order.length > 0 && redraw(true) };
}

function bar(current: number, total: number, width = 50): string {
  const filled = Math.min(width, Math.floor((current / total) * width));
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}
