/**
 * The one parser for each kind of option value that docker and podman read the same way (their Go libraries):
 * booleans (strconv.ParseBool), sizes (go-units RAMInBytes) and CSV records (encoding/csv, the `--mount` syntax).
 * Pure; the callers word their own errors.
 */

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; undefined for anything else. */
export function parseGoBool(v: string): boolean | undefined {
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * go-units RAMInBytes (docker's `--memory*`, `--mount tmpfs-size=`, `--log-opt
 * max-size`): a non-negative number, an optional space, an optional binary prefix (k m g t p,
 * any case), an optional `i` and `b` ("64m", "1.5g", "64MiB", "512kb", "100b", "100"). Undefined when malformed.
 */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(i?b)?$/i.exec(v.trim());
  if (!m) return undefined;
  // "100ib" has an `i` without a prefix
  if (m[2] === undefined && m[3] !== undefined && m[3].length === 2) return undefined;
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
}

/** One CSV record (Go encoding/csv rules: fields may be double-quoted, "" is a literal quote); undefined when a quote is misplaced. */
export function csvFields(value: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return undefined;
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ',') return undefined;
    } else {
      const j = value.indexOf(',', i);
      field = j < 0 ? value.slice(i) : value.slice(i, j);
      i = j < 0 ? value.length : j;
    }
    fields.push(field);
    if (i >= value.length) break;
    i++; // the comma
  }
  return fields;
}
