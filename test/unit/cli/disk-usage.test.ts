import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reclaimable, summaryRows } from '../../../src/cli/render/disk-usage.js';
import { pruneWarning } from '../../../src/cli/commands/system.js';
import type { SystemDf } from '../../../src/api/system-df.js';

const totals = (totalCount: number, active: number, size: number, rec: number) => ({ totalCount, active, size, reclaimable: rec, items: [] });

test("reclaimable: docker's `SIZE (P%)`, percentage rounded down, 4 significant digits", () => {
  assert.equal(reclaimable(totals(1, 0, 3_000_000, 1_234_567)), '1.235MB (41%)');
  assert.equal(reclaimable(totals(1, 1, 999, 0)), '0B (0%)');
  assert.equal(reclaimable(totals(0, 0, 0, 0)), '0B');
  assert.equal(reclaimable(totals(1, 0, 10, 10), false), '10B');
});

test('summaryRows: the four types in docker order, json keys sorted as Go marshals them', () => {
  const df = { images: totals(5, 2, 16_430_000, 11_630_000), containers: totals(2, 0, 212, 212), volumes: totals(2, 1, 36, 0), buildCache: totals(0, 0, 0, 0) } as unknown as SystemDf;
  assert.deepEqual(summaryRows(df), [
    { Active: '2', Reclaimable: '11.63MB (70%)', Size: '16.43MB', TotalCount: '5', Type: 'Images' },
    { Active: '0', Reclaimable: '212B (100%)', Size: '212B', TotalCount: '2', Type: 'Containers' },
    { Active: '1', Reclaimable: '0B (0%)', Size: '36B', TotalCount: '2', Type: 'Local Volumes' },
    { Active: '0', Reclaimable: '0B', Size: '0B', TotalCount: '0', Type: 'Build Cache' },
  ]);
});

test("system prune's confirmation: docker's list, then the filters", () => {
  assert.equal(
    pruneWarning({ filter: [] }),
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n',
  );
  assert.equal(
    pruneWarning({ all: true, volumes: true, filter: ['until=1h', 'label=a'] }),
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label=a\n  - until=1h\n',
  );
});
