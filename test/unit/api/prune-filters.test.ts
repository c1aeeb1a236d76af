import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRUNE_FILTERS, labelsMatch, parseFilters, pruneMatcher } from '../../../src/api/prune-filters.js';

test('parseFilters: key=value, keys lowercased, values kept in order, docker errors', () => {
  const f = parseFilters(['until=24h', 'LABEL=a=b', 'label=c', 'label!=d'], PRUNE_FILTERS);
  assert.deepEqual([...f], [['until', ['24h']], ['label', ['a=b', 'c']], ['label!', ['d']]]);
  assert.throws(() => parseFilters(['until'], PRUNE_FILTERS), /^UsageError: bad format of filter \(expected name=value\)$/);
  assert.throws(() => parseFilters(['dangling=true'], PRUNE_FILTERS), /invalid filter 'dangling'/);
  assert.deepEqual([...parseFilters(['dangling=true'], [...PRUNE_FILTERS, 'dangling'])], [['dangling', ['true']]]);
});

test('labelsMatch: every spec holds, key alone or key=value', () => {
  assert.equal(labelsMatch(undefined, {}), true);
  assert.equal(labelsMatch(['a'], { a: '' }), true);
  assert.equal(labelsMatch(['a=1', 'b'], { a: '1', b: 'x' }), true);
  assert.equal(labelsMatch(['a=2'], { a: '1' }), false);
  assert.equal(labelsMatch(['c'], { a: '1' }), false);
});

test('pruneMatcher: until= (made before every time), label=, label!= (not all of them at once), as moby', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  const m = (args: string[]) => pruneMatcher(parseFilters(args, PRUNE_FILTERS), now);
  const old = { created: '2026-01-01T00:00:00Z', labels: { keep: '1', team: 'a' } };
  const fresh = { created: '2026-01-01T23:30:00Z', labels: {} };
  assert.equal(m([])(old), true);
  assert.equal(m(['until=1h'])(old), true);
  assert.equal(m(['until=1h'])(fresh), false);
  assert.equal(m(['until=2026-01-01T12:00:00Z'])(fresh), false);
  assert.equal(m(['until=1h'])({ labels: {} }), true, 'an unknown creation time is older than any until=');
  assert.equal(m(['label=keep'])(old), true);
  assert.equal(m(['label=keep'])(fresh), false);
  assert.equal(m(['label!=keep'])(old), false);
  assert.equal(m(['label!=keep'])(fresh), true);
  assert.equal(m(['label!=keep', 'label!=other'])(old), true, 'label!= excludes only when all of them hold');
  assert.equal(m(['label!=keep=1', 'label!=team=a'])(old), false);
  assert.throws(() => m(['until=soon']), /invalid value for "until"/);
});
