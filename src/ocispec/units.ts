/**
 * The one parser for each kind of option value that docker and podman read the same way (their Go libraries):
 * booleans (strconv.ParseBool) and sizes (go-units RAMInBytes). Pure; the callers word their own errors.
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
