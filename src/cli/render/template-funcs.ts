import { UsageError } from '../../errors.js';

/** Go's fmt %v rendering of a value, as docker's templates print it. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (v instanceof Map) return `map[${[...v.entries()].map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => k !== '__map').sort();
    const isMap = (v as { __map?: boolean }).__map === true;
    const body = keys.map((k) => (isMap ? `${k}:${goString((v as Record<string, unknown>)[k])}` : goString((v as Record<string, unknown>)[k]))).join(' ');
    return isMap ? `map[${body}]` : `{${body}}`;
  }
  return String(v);
}

export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object') return Object.keys(v).filter((k) => k !== '__map').length > 0;
  return true;
}

function printf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([svdqfx%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'q':
        s = JSON.stringify(goString(a));
        break;
      case 'd':
        s = String(Math.trunc(Number(a)));
        break;
      case 'f': {
        const p = /\.(\d+)/.exec(flags);
        s = Number(a).toFixed(p ? Number(p[1]) : 6);
        break;
      }
      case 'x':
        s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex');
        break;
      default:
        s = goString(a);
    }
    const w = /^-?(\d+)/.exec(flags.replace(/^[+ 0#]+/, ''));
    if (w) s = flags.includes('-') ? s.padEnd(Number(w[1])) : s.padStart(Number(w[1]));
    return s;
  });
}

function index(coll: unknown, ...keys: unknown[]): unknown {
  let v = coll;
  for (const k of keys) {
    if (v === null || v === undefined) throw new UsageError(`template: index of untyped nil`);
    if (Array.isArray(v)) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 0 || n >= v.length) throw new UsageError(`template: error calling index: index out of range: ${goString(k)}`);
      v = v[n];
    } else if (v instanceof Map) v = v.get(k);
    else if (typeof v === 'object') v = (v as Record<string, unknown>)[String(k)];
    else throw new UsageError(`template: can't index item of type ${typeof v}`);
  }
  return v;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** docker's template functions plus Go's builtins that formats commonly use. */
export const templateFuncs: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v === undefined ? null : v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep ?? '')) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${goString(s)}${' '.repeat(Number(r))}`,
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v instanceof Map ? v.size : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index,
  print: (...a) => a.map(goString).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => printf(String(f), ...a),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !isTruthy(a),
  and: (...a) => a.find((x) => !isTruthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => isTruthy(x)) ?? a[a.length - 1],
};
