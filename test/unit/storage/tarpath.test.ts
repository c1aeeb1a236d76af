import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { normalizeEntryPath } from '../../../src/storage/tarpath.js';

/** the rule normalizeEntryPath implements, spelled out with path.normalize for every input */
function reference(raw: string): string {
  if (raw.length === 0) return 'ERR';
  const rel = path.posix.normalize(raw.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) return 'ERR';
  return rel === '.' ? '' : rel;
}

test('entry paths: the fast path for clean names agrees with path.normalize on every combination of awkward parts', () => {
  const parts = ['a', 'b', '.', '..', '', '.x', '..y', 'z.', '...'];
  let checked = 0;
  const walk = (depth: number, prefix: string): void => {
    if (depth === 0) return;
    for (const part of parts) {
      for (const sep of ['/', '']) {
        const raw = prefix + part + sep;
        let got: string;
        try {
          got = normalizeEntryPath(raw);
        } catch {
          got = 'ERR';
        }
        assert.equal(got, reference(raw), JSON.stringify(raw));
        checked++;
        walk(depth - 1, raw);
      }
    }
  };
  for (const lead of ['', './', '/', '//', './/', '././']) walk(3, lead);
  assert.ok(checked > 30_000, `${checked} paths`);
  assert.equal(normalizeEntryPath('./bin/busybox'), 'bin/busybox');
  assert.equal(normalizeEntryPath('usr/bin/'), 'usr/bin');
  assert.throws(() => normalizeEntryPath('a/../../etc'), /escapes the layer directory/);
});
