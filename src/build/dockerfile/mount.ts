/**
 * `RUN --mount=<csv>` (buildkit's parseMount): type=bind|cache|tmpfs|secret|ssh (bind by default),
 * target/dst/destination, source/src, from, id, sharing, ro/readonly, rw/readwrite, required, size, mode, uid,
 * gid, env. At parse time (no expander) a value holding `$` is left for later, as docker does, except `from`,
 * which may hold no variable; `expand-instruction.ts` parses the spec again with the stage's variables.
 */
import { csvFields, parseGoBool as goBool, ramInBytes } from '../../ocispec/units.js';
import type { MountSharing, MountType, RunMount } from './types.js';

const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly MountSharing[] = ['shared', 'private', 'locked'];

export function parseMount(spec: string, expand?: (value: string) => string): RunMount {
  const m: { -readonly [K in keyof RunMount]: RunMount[K] } = { spec, type: 'bind', readonly: true, required: false };
  let roAuto = true;
  const fields = csvFields(spec);
  if (!fields) throw new Error('failed to parse csv mounts: extraneous or missing " in quoted-field');
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    let value: string;
    if (eq < 0) {
      // a bare ro, rw or required means `=true`; every other key needs a value
      if (!['readonly', 'ro', 'readwrite', 'rw', 'required'].includes(key)) throw new Error(`invalid field '${field}' must be a key=value pair`);
      value = 'true';
    } else {
      value = field.slice(eq + 1);
      if (key === 'from' && !expand) {
        const i = value.indexOf('$');
        if (i >= 0 && i !== value.length - 1) throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      } else if (expand) value = expand(value);
      else if (value.includes('$')) continue;
    }
    switch (key) {
      case 'type':
        m.type = oneOf(value, TYPES, 'mount type');
        break;
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
      case 'readwrite':
      case 'rw': {
        const b = goBool(value);
        if (b === undefined) throw new Error(`invalid value for ${key}: ${value}`);
        m.readonly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const b = goBool(value);
        if (b === undefined) throw new Error(`invalid value for ${key}: ${value}`);
        m.required = b;
        break;
      }
      case 'size': {
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        const n = ramInBytes(value);
        if (n === undefined) throw new Error(`invalid value for ${key}: ${value}`);
        m.size = n;
        break;
      }
      case 'id':
        m.id = value;
        break;
      case 'sharing':
        m.sharing = oneOf(value, SHARING, 'sharing value');
        break;
      case 'mode':
        m.mode = unsigned(value, 8, key);
        break;
      case 'uid':
      case 'gid':
        m[key] = unsigned(value, 10, key);
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  check(m);
  if (roAuto) m.readonly = m.type !== 'cache' && m.type !== 'tmpfs';
  return m;
}

function check(m: RunMount): void {
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) if (m[k] !== undefined) throw new Error(`${k} not allowed for "${m.type}" type mounts`);
  }
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new Error('secret mount should not have a from');
    if (m.sharing !== undefined) throw new Error('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id && !m.spec.includes('$')) throw new Error('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new Error(`invalid cache sharing set for ${m.type} mount`);
}

/** `value` (any case) if it is one of `allowed`. */
function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) throw new Error(`unsupported ${what} ${JSON.stringify(value)}`);
  return v;
}

function unsigned(value: string, radix: 8 | 10, key: string): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(value) : /^\d+$/.test(value);
  const n = ok ? parseInt(value, radix) : NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new Error(`invalid value ${value} for ${key}`);
  return n;
}
