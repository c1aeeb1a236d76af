import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropCollected, liveLeases, readLease, selfOwner, writeLease } from '../../../src/network/leases.js';
import type { NetworkLease } from '../../../src/network/types.js';

const lease = (containerId: string, owner: NetworkLease['owner']): NetworkLease => ({ containerId, root: '/r', owner, endpoints: [], ports: [] });

test('a dead owner\'s lease is collected, a live one kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-leases-'));
  try {
    await writeLease(dir, lease('dead', { pid: 2 ** 22 + 1, startTime: 1 }));
    await writeLease(dir, lease('live', selfOwner()));
    const { live, collected } = liveLeases(dir);
    assert.deepEqual(live.map((l) => l.containerId), ['live']);
    assert.deepEqual(collected.map((l) => l.containerId), ['dead']);
    dropCollected(dir, collected);
    assert.equal(readLease(dir, 'dead'), undefined);
    assert.ok(readLease(dir, 'live'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a collected lease the same container\'s new start wrote over since is not dropped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-leases-'));
  try {
    await writeLease(dir, lease('c1', { pid: 2 ** 22 + 1, startTime: 1 }));
    const { collected } = liveLeases(dir);
    await writeLease(dir, lease('c1', selfOwner()));
    dropCollected(dir, collected);
    assert.deepEqual(readLease(dir, 'c1')?.owner, selfOwner());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
