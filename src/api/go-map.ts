/**
 * A Go map for `--format` templates and JSON output: keys sorted as Go's encoding/json sorts them, a missing
 * key prints `<no value>` instead of failing (the template engine's `__map` marker, hidden from JSON), and
 * templates print it as map[k:v]. null for no map (docker's `null`).
 */
export function goMap<T>(v: Record<string, T> | undefined | null): Record<string, T> | null {
  if (!v) return null;
  const out = Object.create(null) as Record<string, T>;
  for (const k of Object.keys(v).sort()) out[k] = v[k]!;
  Object.defineProperty(out, '__map', { value: true, enumerable: false });
  return out;
}
