import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, humanSize } from '../../../src/cli/render/units.js';
import { tabwrite } from '../../../src/cli/render/table.js';

test('humanSize matches docker (3 significant digits, decimal units)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(4261000), '4.26MB');
  assert.equal(humanSize(127_000_000), '127MB');
  assert.equal(humanSize(1_500_000_000), '1.5GB');
});

test('humanDuration matches docker', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(30_000), '30 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3600_000), '5 hours');
  assert.equal(humanDuration(3 * 86400_000), '3 days');
  assert.equal(humanDuration(20 * 86400_000), '2 weeks');
  assert.equal(humanDuration(90 * 86400_000), '3 months');
  assert.equal(humanDuration(800 * 86400_000), '2 years');
});

test('tabwrite pads all but the last column (minwidth 10, padding 3)', () => {
  assert.equal(tabwrite([['REPOSITORY', 'TAG'], ['a', 'latest']]), 'REPOSITORY   TAG\na            latest\n');
});
