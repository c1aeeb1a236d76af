import type { ProgressEvent } from '../../context.js';
import type { CliContext } from '../context.js';

/** how many of a running RUN's last output lines show under its spinner line (BuildKit's tty mode shows a few) */
const TAIL_LINES = 6;
/** a step's output kept for the failure report */
const KEEP_BYTES = 1 << 20;
const REFRESH_MS = 100;

interface Step {
  readonly label: string;
  readonly started: number;
  /** the output's complete lines (capped at KEEP_BYTES, the oldest dropped) and the line still being written */
  readonly lines: string[];
  kept: number;
  dropped: boolean;
  partial: string;
  /** a pull's layers while FROM fetches its image: id → phase */
  readonly layers: Map<string, string>;
}

export interface BuildView {
  onEvent(e: ProgressEvent): void;
  /** the build ended: the running steps end too (with a failure, each with its whole output) */
  finish(failed: boolean): void;
}

const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/** A line of output as the view shows it: what a `\r` redraw left, without escape sequences or control bytes. */
export function displayLine(raw: string): string {
  const cr = raw.replace(/\r+$/, '').lastIndexOf('\r');
  return (cr >= 0 ? raw.slice(cr + 1) : raw).replace(ESCAPES, '').replace(/\t/g, '  ');
}

export function elapsed(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function fit(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 1)).join('')}…`;
}

/**
 * build's live step view on a terminal (`--progress=tty`, or `auto` on one), drawn on stderr with ora: a spinner
 * line per running step (`[2/7] RUN ... 3.1s`) with the last lines of its output under it, and each finished step
 * left above as `✔ [2/7] RUN ... 1.2s` (`CACHED` when the cache had it). A failed build prints the running steps'
 * whole output. Colour only when the CLI's colour is on (a terminal, no NO_COLOR, not TERM=dumb). ora is loaded
 * here only: a piped build never pays for it.
 */
export async function buildTtyView(cli: CliContext): Promise<BuildView> {
  const { default: ora } = await import('ora');
  const stream = cli.stderr as NodeJS.WriteStream;
  // a terminal that tells no size (script(1)'s pty, a serial console) has 0 columns, which ora divides by
  if (!stream.columns) stream.columns = 80;
  const color = cli.color;
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const spinner = ora({ stream, discardStdin: false, hideCursor: true, isEnabled: true, color: color ? 'cyan' : false });
  const frames = spinner.spinner.frames;
  const interval = spinner.spinner.interval ?? 80;
  const running = new Map<number, Step>();
  let latest: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  const columns = () => Math.max(20, (stream.columns ?? 80) - 1);
  const compose = () => {
    const w = columns();
    const frame = frames[Math.floor(Date.now() / interval) % frames.length]!;
    const out: string[] = [];
    for (const step of running.values()) {
      const time = elapsed(Date.now() - step.started);
      // ora draws the first line's spinner; the other running steps get the same frame
      const head = `${fit(step.label, w - time.length - 3)} ${paint('2', time)}`;
      out.push(out.length ? `${color ? paint('36', frame) : frame} ${head}` : head);
      const tail = [...[...step.layers].map(([id, phase]) => `${id}: ${phase}`), ...step.lines.slice(-TAIL_LINES), ...(step.partial ? [step.partial] : [])].slice(-TAIL_LINES);
      for (const line of tail) out.push(paint('2', fit(`  │ ${displayLine(line)}`, w)));
    }
    return out.join('\n');
  };
  const redraw = () => {
    if (running.size === 0) {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (spinner.isSpinning) spinner.stop();
      return;
    }
    spinner.text = compose();
    if (!spinner.isSpinning) spinner.start();
    timer ??= setInterval(() => (spinner.text = compose()), REFRESH_MS);
  };
  // a line above the spinner: ora's hook clears it, lets the line through and draws it again below
  const persist = (line: string) => stream.write(`${line}\n`);
  const end = (stage: number, how: 'done' | 'cached' | 'failed') => {
    const step = running.get(stage);
    if (!step) return;
    running.delete(stage);
    // the spinner first drops the ended step, so ora redraws (below the persisted lines) only what still runs
    if (running.size) spinner.text = compose();
    else if (spinner.isSpinning) spinner.stop();
    const label = fit(step.label, columns() - 10);
    if (how === 'failed') {
      persist(`${paint('31', '✖')} ${label} ${paint('2', elapsed(Date.now() - step.started))}`);
      const lines = [...step.lines, ...(step.partial ? [step.partial] : [])];
      if (!lines.length) return;
      persist(`------\n > ${step.label}:${step.dropped ? '\n(earlier output dropped)' : ''}`);
      for (const line of lines) persist(displayLine(line));
      persist('------');
    } else persist(`${paint('32', '✔')} ${label} ${paint('2', how === 'cached' ? 'CACHED' : elapsed(Date.now() - step.started))}`);
  };
  const output = (step: Step, data: string) => {
    const parts = (step.partial + data).split('\n');
    step.partial = parts.pop()!;
    for (const line of parts) {
      step.lines.push(line);
      step.kept += line.length + 1;
    }
    // a line never ended (a progress bar redrawn with \r): only its end can be shown
    if (step.partial.length > KEEP_BYTES) {
      step.partial = step.partial.slice(-KEEP_BYTES);
      step.dropped = true;
    }
    while (step.kept > KEEP_BYTES && step.lines.length > 1) {
      step.kept -= step.lines.shift()!.length + 1;
      step.dropped = true;
    }
  };

  return {
    onEvent(e) {
      const prefix = (x: { stage: number; stages: number }) => (x.stages > 1 ? `[${x.stage}/${x.stages}] ` : '');
      if (e.kind === 'build-step') {
        end(e.stage, 'done');
        running.set(e.stage, { label: `${prefix(e)}[${e.step}/${e.total}] ${e.text}`, started: Date.now(), lines: [], kept: 0, dropped: false, partial: '', layers: new Map() });
        latest = e.stage;
      } else if (e.kind === 'build-result') end(e.stage, e.cached ? 'cached' : 'done');
      else if (e.kind === 'build-output') {
        const step = running.get(e.stage);
        if (step) output(step, e.data);
      } else {
        // a pull's messages and layers (FROM, COPY --from=image): under the step that started last
        const step = latest === undefined ? undefined : running.get(latest);
        if (e.kind === 'status') step ? output(step, `${e.message}\n`) : persist(e.message);
        else if ((e.kind === 'layer' || e.kind === 'push') && step) step.layers.set(e.id, e.phase);
      }
      redraw();
    },
    finish(failed) {
      for (const stage of [...running.keys()]) end(stage, failed ? 'failed' : 'done');
      redraw();
    },
  };
}
