import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropCollected, liveLeases, readLease, selfOwner, writeLease } from '../../../src/network/leases.js';
import { eventLogPaths } from '../../../src/events/log.js';
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

test('whoever collects a dead container\'s lease writes its disconnect events into the lease\'s own store', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-leases-'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-leases-root-'));
  const gone = path.join(root, 'removed-store');
  try {
    const endpoint = { network: 'n1', networkId: 'f'.repeat(64), bridge: 'br1', ifname: 'eth0', hostIf: 'veth1', ip: '10.1.0.2', prefix: 24, gateway: '10.1.0.1', mac: '02:42:0a:01:00:02', aliases: [], names: [] };
    const dead = { pid: 2 ** 22 + 1, startTime: 1 };
    await writeLease(dir, { ...lease('c1', dead), root, endpoints: [endpoint] });
    await writeLease(dir, { ...lease('c2', dead), root: gone, endpoints: [endpoint] });
    dropCollected(dir, liveLeases(dir).collected);
    const lines = fs.readFileSync(eventLogPaths(root).current, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes.name, e.Actor.Attributes.container]), [['network', 'disconnect', 'f'.repeat(64), 'n1', 'c1']]);
    assert.equal(fs.existsSync(gone), false, 'a removed store is not made again');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
