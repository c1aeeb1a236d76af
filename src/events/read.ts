import fs from 'node:fs';
import { eventLogPaths, type EventLogPaths } from './log.js';
import type { EngineEvent } from './types.js';

/** An event as read back, with its time in nanoseconds exactly as written (a JSON number would round it). */
export interface LoggedEvent {
  event: EngineEvent;
  timeNano: bigint;
}

/**
 * Where a line of ours begins: `{"status":` (container and image events) or `{"Type":`. Neither can occur inside
 * a value (JSON escapes its quotes), only as an attribute's key, so in a line that does not parse, the last of them
 * that parses to its end is where a whole line begins after the fragment a killed writer left (see line.ts).
 */
const LINE_START = /\{"(?:status|Type)":"/g;

/** One line of the log, or undefined when it holds no event (a foreign line, or only a killed writer's fragment). */
export function parseEventLine(line: string): LoggedEvent | undefined {
  const whole = parseWhole(line);
  if (whole) return whole;
  const starts = [...line.matchAll(LINE_START)].map((m) => m.index).filter((i) => i > 0);
  for (const i of starts.reverse()) {
    const ev = parseWhole(line.slice(i));
    if (ev) return ev;
  }
  return undefined;
}

function parseWhole(line: string): LoggedEvent | undefined {
  let event: EngineEvent;
  try {
    event = JSON.parse(line) as EngineEvent;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || typeof event.Action !== 'string' || typeof event.Actor?.ID !== 'string') return undefined;
  const m = /"timeNano":(\d+)\}\s*$/.exec(line);
  return { event, timeNano: m ? BigInt(m[1]!) : BigInt(Math.round(event.timeNano ?? 0)) };
}

/** A log file read from where the last read stopped, in whole lines (a line is never torn, but may be arriving). */
class Tail {
  private pos = 0;
  private rest = '';

  constructor(
    readonly fd: number,
    readonly ino: number,
  ) {}

  static open(file: string): Tail | undefined {
    try {
      const fd = fs.openSync(file, 'r');
      return new Tail(fd, fs.fstatSync(fd).ino);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  lines(): string[] {
    const out: string[] = [];
    const buf = Buffer.allocUnsafe(256 * 1024);
    for (;;) {
      const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
      if (n === 0) return out;
      this.pos += n;
      const parts = (this.rest + buf.toString('utf8', 0, n)).split('\n');
      this.rest = parts.pop()!;
      out.push(...parts);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface ReadEventsOptions {
  /** nanoseconds; events before it are skipped (undefined: no history, only what comes from now on) */
  sinceNano?: bigint;
  /** nanoseconds; reading stops at the first event after it, or when the clock passes it while following */
  untilNano?: bigint;
  /** keep reading what is appended until untilNano or the signal */
  follow: boolean;
  signal?: AbortSignal;
  /** how often the file is looked at besides fs.watch's notifications (a watch can miss a rename) */
  pollMs?: number;
}

/**
 * The events of a store in order: with a `sinceNano`, first the rotated file then the current one from the
 * start; without, only the events appended from now on. Following handles rotation: the file it has open is
 * read to its end before it moves to the new one, so no event is skipped or seen twice.
 */
export async function readEvents(root: string, opts: ReadEventsOptions, emit: (ev: LoggedEvent) => void): Promise<void> {
  const p = eventLogPaths(root);
  const until = opts.untilNano;
  let done = false;
  const take = (lines: string[], history: boolean): void => {
    for (const line of lines) {
      if (done) return;
      const ev = parseEventLine(line);
      if (!ev) continue;
      if (until !== undefined && ev.timeNano > until) {
        done = true;
        return;
      }
      if (history && opts.sinceNano !== undefined && ev.timeNano < opts.sinceNano) continue;
      emit(ev);
    }
  };
  const history = opts.sinceNano !== undefined;
  // the current file first, so a rotation meanwhile shows as .1 being the file already open
  let tail = Tail.open(p.current);
  if (history) {
    const old = Tail.open(p.rotated);
    if (old) {
      if (old.ino !== tail?.ino) take(old.lines(), true);
      old.close();
    }
    if (tail) take(tail.lines(), true);
  } else if (tail) {
    tail.lines(); // skip what is there
  }
  try {
    if (!opts.follow || done || (until !== undefined && nowNanoApprox() > until)) return;
    tail = await follow(p, tail, opts, (lines) => {
      take(lines, false);
      return done;
    });
  } finally {
    tail?.close();
  }
}

function nowNanoApprox(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Reads what is appended until `onLines` says done, the clock passes `untilNano`, or the signal aborts. */
async function follow(p: EventLogPaths, start: Tail | undefined, opts: ReadEventsOptions, onLines: (lines: string[]) => boolean): Promise<Tail | undefined> {
  let tail = start;
  let watcher: fs.FSWatcher | undefined;
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return new Promise<Tail | undefined>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let untilTimer: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      clearInterval(timer);
      clearTimeout(untilTimer);
      watcher?.close();
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(tail);
    };
    const check = () => {
      try {
        if (tail && onLines(tail.lines())) return finish();
        const ino = fs.statSync(p.current, { throwIfNoEntry: false })?.ino;
        if (ino !== undefined && ino !== tail?.ino) {
          // rotated (or created): the old file is complete once renamed away, the next one is read from its start
          if (tail && onLines(tail.lines())) return finish();
          tail?.close();
          tail = Tail.open(p.current);
          if (tail && onLines(tail.lines())) return finish();
        }
      } catch (err) {
        finish(err);
      }
    };
    const onAbort = () => finish();
    if (opts.signal?.aborted) return finish();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = fs.watch(p.dir, { persistent: false }, check);
    } catch {
      // no inotify: the poll alone
    }
    timer = setInterval(check, opts.pollMs ?? 250);
    if (opts.untilNano !== undefined) {
      const ms = Number((opts.untilNano - nowNanoApprox()) / 1_000_000n);
      untilTimer = setTimeout(() => {
        check();
        finish();
      }, Math.max(0, ms) + 1);
    }
    check();
  });
}
