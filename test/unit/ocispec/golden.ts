/**
 * Golden-file helper for the spec and plan tests: compares a value's JSON with test/golden/<name>.json in the
 * source tree (found from the repository root, not dist/), or rewrites the file when UPDATE_GOLDEN=1.
 * bigints are written as strings: capability masks as 0x-prefixed 16-digit hex, others (rlimits) in decimal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'tsconfig.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('golden: repository root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const CAP_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'];

export function toGoldenJson(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (key, v: unknown) => {
        if (typeof v === 'bigint') return CAP_SETS.includes(key) ? `0x${v.toString(16).padStart(16, '0')}` : v.toString();
        if (v instanceof Uint8Array) return `<${v.length} bytes>`;
        return v;
      },
      2,
    ) + '\n'
  );
}

export function assertGolden(name: string, value: unknown): void {
  const file = path.join(repoRoot(), 'test', 'golden', `${name}.json`);
  const actual = toGoldenJson(value);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) assert.fail(`golden file ${path.relative(repoRoot(), file)} is missing: run the test with UPDATE_GOLDEN=1 to create it`);
  const expected = fs.readFileSync(file, 'utf8');
  if (actual !== expected) {
    assert.deepEqual(JSON.parse(actual), JSON.parse(expected), `${name}: differs from ${path.relative(repoRoot(), file)} (UPDATE_GOLDEN=1 rewrites it)`);
    assert.equal(actual, expected, `${name}: same content, different formatting or key order than ${path.relative(repoRoot(), file)}`);
  }
}
