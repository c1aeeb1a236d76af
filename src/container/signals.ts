import os from 'node:os';
import { UsageError } from '../errors.js';

/** docker's signal syntax (`kill -s`, STOPSIGNAL): a number, `SIGTERM`, `TERM`, any case; `SIGRTMIN+3` too. */
export function parseSignal(value: string | number | undefined, fallback = 'SIGTERM'): number {
  const v = String(value ?? fallback).trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n > 0 && n <= 64) return n;
    throw new UsageError(`invalid signal: ${v}`);
  }
  const name = v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
  const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'IN' ? 34 : 64;
    const n = base + Number(rt[2] ?? 0);
    if (n >= 34 && n <= 64) return n;
    throw new UsageError(`invalid signal: ${v}`);
  }
  const n = (os.constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new UsageError(`invalid signal: ${v}`);
  return n;
}
