/**
 * HEALTHCHECK NONE | [--interval= --timeout= --start-period= --start-interval= --retries=] CMD command, as
 * buildkit parses it: durations in Go's syntax (`1m30s`, `500ms`), at least 1ms when not 0, retries >= 0.
 */
import { Flags } from './flags.js';
import type { Healthcheck } from './types.js';
import { parseJsonArray } from './words.js';

const HEALTH_FLAGS = { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' } as const;

export function parseHealthcheck(rest: string, flagArgs: readonly string[]): Healthcheck {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m) throw new Error('HEALTHCHECK requires at least one argument');
  const type = m[1]!.toUpperCase();
  const cmdText = m[2]!;
  const json = parseJsonArray(cmdText);
  if (type === 'NONE') {
    if (cmdText !== '') throw new Error('HEALTHCHECK NONE takes no arguments');
    return { type: 'none' };
  }
  const flags = new Flags(flagArgs, HEALTH_FLAGS);
  if (type !== 'CMD') throw new Error(`unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const args = json ?? (cmdText === '' ? [] : [cmdText]);
  if (args.length === 0) throw new Error('missing command after HEALTHCHECK CMD');
  const retriesText = flags.string('retries') ?? '';
  let retries = 0;
  if (retriesText !== '') {
    if (!/^[+-]?\d+$/.test(retriesText) || Math.abs(Number(retriesText)) > 2 ** 31 - 1) throw new Error(`invalid value for --retries: ${JSON.stringify(retriesText)}`);
    retries = Number(retriesText);
    if (retries < 0) throw new Error(`--retries cannot be negative (${retries})`);
  }
  return {
    type: 'cmd',
    test: [json ? 'CMD' : 'CMD-SHELL', ...args],
    interval: interval(flags, 'interval'),
    timeout: interval(flags, 'timeout'),
    startPeriod: interval(flags, 'start-period'),
    startInterval: interval(flags, 'start-interval'),
    retries,
  };
}

function interval(flags: Flags, name: string): number {
  const text = flags.string(name) ?? '';
  if (text === '') return 0;
  const ns = parseGoDuration(text);
  if (ns === 0) return 0;
  if (ns < 1e6) throw new Error(`interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds: `[-+]` then number+unit pairs (`1h2m3.5s`), or a bare `0`. */
export function parseGoDuration(text: string): number {
  const bad = (): Error => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(s)!;
    if (m[1] === '' && (m[2] ?? '') === '') throw bad();
    const unit = UNIT_NS[m[3]!];
    if (unit === undefined) throw new Error(m[3] === '' ? `time: missing unit in duration ${JSON.stringify(text)}` : `time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(text)}`);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * unit;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}
