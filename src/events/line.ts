import type { NewEvent } from './types.js';

/**
 * A line stays under 3 KiB and is appended by one write(2) on an O_APPEND fd: writers appending at once never
 * interleave (the inode's lock is held for the whole write). A writer killed by SIGKILL in the middle of its write
 * can leave the line's first part, though (the kernel looks for a fatal signal between the pages it copies); the
 * next line is then glued to that fragment, and the reader (read.ts) finds it again by where it begins.
 */
export const MAX_LINE = 3072;
/** how long an attribute's value may stay when a line would be too long (labels can be large) */
const TRUNCATED_VALUE = 200;

/** Raw bytes a rendered line can never hold (JSON escapes control characters): the monitor's placeholders. */
export const PLACEHOLDER = { exitCode: '\x01', time: '\x02', timeNano: '\x03' } as const;

/** The current time in nanoseconds (microsecond precision: what Node's clock gives). */
export function nowNano(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/**
 * One event as its log line in docker's shape, newline included. `time`/`timeNano` are written as given (digits,
 * or the monitor's placeholders): the line is built by hand so that timeNano keeps every digit.
 */
function render(ev: NewEvent, attributes: Record<string, string>, time: string, timeNano: string): string {
  const legacy = ev.type === 'container' || ev.type === 'image';
  const head = legacy ? `"status":${JSON.stringify(ev.action)},"id":${JSON.stringify(ev.id)},${ev.from !== undefined ? `"from":${JSON.stringify(ev.from)},` : ''}` : '';
  return `{${head}"Type":${JSON.stringify(ev.type)},"Action":${JSON.stringify(ev.action)},"Actor":${JSON.stringify({ ID: ev.id, Attributes: attributes })},"scope":"local","time":${time},"timeNano":${timeNano}}\n`;
}

/** Attributes cut down until the line fits MAX_LINE: the longest values shortened first, then dropped. */
function fitted(ev: NewEvent, time: string, timeNano: string): string {
  const attributes = { ...(ev.attributes ?? {}) };
  let line = render(ev, attributes, time, timeNano);
  const byLength = Object.keys(attributes).sort((a, b) => attributes[b]!.length - attributes[a]!.length);
  for (const key of byLength) {
    if (Buffer.byteLength(line) <= MAX_LINE) return line;
    if (attributes[key]!.length > TRUNCATED_VALUE) attributes[key] = `${attributes[key]!.slice(0, TRUNCATED_VALUE)}...`;
    line = render(ev, attributes, time, timeNano);
  }
  for (const key of byLength) {
    if (Buffer.byteLength(line) <= MAX_LINE) return line;
    if (key === 'name' || key === 'image' || key === 'exitCode') continue;
    delete attributes[key];
    line = render(ev, attributes, time, timeNano);
  }
  return line;
}

export function eventLine(ev: NewEvent, timeNano: bigint = nowNano()): string {
  return fitted(ev, String(timeNano / 1_000_000_000n), String(timeNano));
}

/**
 * The line the monitor writes when a detached container ends, with raw placeholder bytes where the C puts the
 * exit code (as a JSON string, docker's attribute type: `"exitCode":"\x01"`), the seconds and the nanoseconds.
 */
export function eventTemplate(ev: NewEvent): string {
  const line = fitted(ev, PLACEHOLDER.time, PLACEHOLDER.timeNano);
  // JSON.stringify wrote the placeholder escaped; only a key of the structure (after `{` or `,`, not inside an
  // escaped string) becomes the raw byte again
  const escaped = JSON.stringify(PLACEHOLDER.exitCode);
  return line.replace(new RegExp(`([{,])"exitCode":${escaped.replace(/\\/g, '\\\\')}`), `$1"exitCode":"${PLACEHOLDER.exitCode}"`);
}
