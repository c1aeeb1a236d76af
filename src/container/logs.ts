import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';

/**
 * The container log (docs/lifecycle-design.md): k8s-file records, one per line,
 * `<RFC3339Nano UTC> <stdout|stderr> <F|P> <text>`; `P` is a partial line continued by the next record of the
 * same stream. Times are handled as fixed-width `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` strings (docker's
 * RFC3339NanoFixed), which compare correctly as strings and are what `logs -t` prints.
 */
export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  time: string;
  stream: LogStream;
  partial: boolean;
  data: Buffer;
}

/** A reassembled line, or (complete false) the pending start of one. */
export interface LogLine {
  time: string;
  stream: LogStream;
  data: Buffer;
  complete: boolean;
}

const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

function fixed(epochSeconds: number, nanos: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}

/** An RFC3339(Nano) timestamp as the fixed-width UTC form, or undefined when it is not one. */
export function normalizeTimestamp(ts: string): string | undefined {
  const m = TIME.exec(ts);
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  if (m[3] === 'Z') return `${m[1]}.${frac}Z`;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(ms) ? undefined : fixed(Math.floor(ms / 1000), Number(frac));
}

const SPACE = 0x20;

/** One k8s-file line (without its newline); undefined for a malformed line. */
export function parseLogLine(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(SPACE);
  if (a < 0) return undefined;
  const b = line.indexOf(SPACE, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString('latin1', a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line.toString('latin1', b + 1, b + 2);
  if (tag !== 'F' && tag !== 'P') return undefined;
  // the text follows one space; an empty full line may lack it
  if (line.length > b + 2 && line[b + 2] !== SPACE) return undefined;
  const time = normalizeTimestamp(line.toString('latin1', 0, a));
  if (!time) return undefined;
  return { time, stream, partial: tag === 'P', data: line.subarray(Math.min(line.length, b + 3)) };
}

/** Joins `P` records with the record that completes them, per stream; a line keeps its first record's time. */
export class LineAssembler {
  private readonly pending = new Map<LogStream, { time: string; parts: Buffer[] }>();

  push(rec: LogRecord): LogLine | undefined {
    const p = this.pending.get(rec.stream);
    if (rec.partial) {
      if (p) p.parts.push(rec.data);
      else this.pending.set(rec.stream, { time: rec.time, parts: [rec.data] });
      return undefined;
    }
    if (!p) return { time: rec.time, stream: rec.stream, data: rec.data, complete: true };
    this.pending.delete(rec.stream);
    return { time: p.time, stream: rec.stream, data: Buffer.concat([...p.parts, rec.data]), complete: true };
  }

  /** The unfinished lines (a container that ended mid-line, or output waiting for its newline), emptied. */
  drain(): LogLine[] {
    const out = [...this.pending].map(([stream, p]) => ({ time: p.time, stream, data: Buffer.concat(p.parts), complete: false }));
    this.pending.clear();
    return out;
  }
}

const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when `value` is not a duration. */
export function parseGoDuration(value: string): number | undefined {
  if (!GO_DURATION.test(value)) return undefined;
  const sign = value.startsWith('-') ? -1 : 1;
  let ms = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) ms += Number(m[1]) * UNITS_MS[m[2]!]!;
  return sign * ms;
}

const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d\d:\d\d)?$/;

/**
 * docker's timetypes.GetTimestamp for `--since`/`--until`: a Go duration before `now` ("10m", "1h30m",
 * truncated to the second as docker does), a Unix time ("1700000000", "1700000000.5"), or an RFC3339-like
 * date/time (date, hours, minutes, seconds, fraction; local time unless a zone is given).
 */
export function parseTimeArg(value: string, now = Date.now(), flag = 'since'): string {
  const d = value === '0' ? undefined : parseGoDuration(value);
  if (d !== undefined) return fixed(Math.floor((now - d) / 1000), 0);
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return fixed(Number(unix[1]), Number((unix[2] ?? '').padEnd(9, '0')));
  const m = DATE_TIME.exec(value);
  if (m) {
    const [y, mo, da, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
    let ms: number;
    if (!m[8]) ms = new Date(y, mo - 1, da, h, mi, s).getTime();
    else {
      ms = Date.UTC(y, mo - 1, da, h, mi, s);
      if (m[8] !== 'Z' && m[8] !== 'z') {
        const sign = m[8].startsWith('-') ? -1 : 1;
        ms -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
      }
    }
    if (!Number.isNaN(ms)) return fixed(Math.floor(ms / 1000), Number((m[7] ?? '').padEnd(9, '0')));
  }
  throw new UsageError(`invalid value for "${flag}": failed to parse value as time or duration: ${JSON.stringify(value)}`);
}

/** A log file read incrementally, line by line; follows the file it opened (rotation is the caller's business). */
class LogFile {
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);

  private constructor(
    readonly fd: number,
    readonly ino: number,
  ) {}

  static open(file: string): LogFile | undefined {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return new LogFile(fd, fs.fstatSync(fd).ino);
  }

  /** The complete lines of the next chunk (each read gets its own buffer: lines point into it), undefined at EOF. */
  next(): Buffer[] | undefined {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
    if (n === 0) return undefined;
    this.pos += n;
    const chunk = this.rest.length ? Buffer.concat([this.rest, buf.subarray(0, n)]) : buf.subarray(0, n);
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      lines.push(chunk.subarray(start, nl));
      start = nl + 1;
    }
    this.rest = Buffer.from(chunk.subarray(start));
    return lines;
  }

  /** A last line without its newline (only meaningful once nothing writes the file any more). */
  takeRest(): Buffer[] {
    const rest = this.rest;
    this.rest = Buffer.alloc(0);
    return rest.length ? [rest] : [];
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

export interface ReadLogsOptions {
  /** only the last N lines of the history (undefined: all) */
  tail?: number;
  /** fixed-width times (parseTimeArg): lines before `since` are skipped; at the first line after `until` reading stops */
  since?: string;
  until?: string;
  /** keep reading what is appended while `running()` says the container runs */
  follow?: boolean;
  running?: () => boolean | Promise<boolean>;
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Read a container log: `ctr.log.1` (the rotated part) and then `ctr.log`, reassembled into lines, `tail` applied
 * before `since`/`until` (as docker's json-file reader does). With `follow`, polls `ctr.log` every `pollMs`
 * (switching to the new file when it was rotated), shows a partial line that waits for its end, and ends once
 * the container is no longer running and the file is drained; unfinished lines are then emitted as they are.
 */
export async function readLogs(files: { log: string; rotated: string }, opts: ReadLogsOptions, emit: (line: LogLine) => void | Promise<void>): Promise<void> {
  const assembler = new LineAssembler();
  const running = async () => (opts.running ? await opts.running() : false);
  let stopped = false;
  // with a tail, lines wait in a window of the last `tail`; without one they go out as they are read
  const window: LogLine[] = [];
  const filtered = async (line: LogLine) => {
    if (opts.until !== undefined && line.time > opts.until) stopped = true;
    else if (opts.since === undefined || line.time >= opts.since) await emit(line);
  };
  const deliver = async (line: LogLine, live: boolean) => {
    if (live || opts.tail === undefined) return filtered(line);
    window.push(line);
    if (window.length > 2 * opts.tail + 64) window.splice(0, window.length - opts.tail);
  };
  const consume = async (raws: Buffer[], live: boolean) => {
    for (const raw of raws) {
      if (stopped) return;
      const rec = parseLogLine(raw);
      const line = rec && assembler.push(rec);
      if (line) await deliver(line, live);
    }
  };
  const drainFile = async (file: LogFile | undefined, live: boolean) => {
    let any = false;
    for (let lines = file?.next(); lines && !stopped; lines = file!.next()) {
      any = true;
      await consume(lines, live);
    }
    return any;
  };
  const pending = async (live: boolean) => {
    for (const line of assembler.drain()) if (!stopped) await deliver(line, live);
  };

  const rotated = LogFile.open(files.rotated);
  if (rotated) {
    await drainFile(rotated, false);
    await consume(rotated.takeRest(), false);
    rotated.close();
  }
  let current = LogFile.open(files.log);
  try {
    await drainFile(current, false);
    if (!opts.follow) {
      // a last line without its newline is still being written while the container runs
      if (!(await running())) await consume(current?.takeRest() ?? [], false);
      await pending(false);
    }
    if (opts.tail !== undefined) {
      const last = opts.tail === 0 ? [] : window.slice(-opts.tail);
      window.length = 0;
      for (const line of last) if (!stopped) await filtered(line);
    }
    if (!opts.follow) return;
    while (!stopped) {
      opts.signal?.throwIfAborted();
      let progressed = await drainFile(current, true);
      // rotated (or created): drain the old file, then continue in the new one from its start
      const st = fs.statSync(files.log, { throwIfNoEntry: false });
      if (st && st.ino !== current?.ino) {
        await drainFile(current, true);
        await consume(current?.takeRest() ?? [], true);
        current?.close();
        current = LogFile.open(files.log);
        await drainFile(current, true);
        progressed = true;
      }
      if (progressed) continue;
      if (!(await running())) {
        // the monitor drains the container's output before it writes exit.json: one last read
        await drainFile(current, true);
        await consume(current?.takeRest() ?? [], true);
        await pending(true);
        return;
      }
      // following ends at --until even when nothing more is written
      if (opts.until !== undefined && fixed(Math.floor(Date.now() / 1000), (Date.now() % 1000) * 1e6) > opts.until) return;
      // idle: output waiting for its newline (a prompt) is shown now; its continuation follows without a new line
      await pending(true);
      await sleep(opts.pollMs ?? 100, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  } finally {
    current?.close();
  }
}
