import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CgroupV1 } from '../../../src/cgroups/v1.js';
import { fakeTree } from './fake.js';

function v1Tree() {
  const t = fakeTree({
    'memory/memory.limit_in_bytes': '9223372036854771712\n',
    'cpu/cpu.shares': '1024\n',
    'cpuset/cpuset.cpus': '0-3\n',
    'cpuset/cpuset.mems': '0\n',
    'pids/cgroup.procs': '',
    'freezer/freezer.state': 'THAWED\n',
    'blkio/blkio.weight': '500\n',
  });
  const h = new Map([
    ['memory', path.join(t.dir, 'memory')],
    ['cpu', path.join(t.dir, 'cpu')],
    ['cpuacct', path.join(t.dir, 'cpu')], // co-mounted: one directory
    ['cpuset', path.join(t.dir, 'cpuset')],
    ['pids', path.join(t.dir, 'pids')],
    ['freezer', path.join(t.dir, 'freezer')],
    ['blkio', path.join(t.dir, 'blkio')],
  ]);
  return { t, cg: new CgroupV1(h, '/tsdock/abc') };
}

test('v1 create: the same path in every hierarchy (co-mounted ones once); cpuset cpus/mems inherited', () => {
  const { t, cg } = v1Tree();
  try {
    cg.create();
    for (const h of ['memory', 'cpu', 'cpuset', 'pids', 'freezer', 'blkio']) assert.ok(fs.statSync(path.join(t.dir, h, 'tsdock/abc')).isDirectory(), h);
    assert.equal(t.read('cpuset/tsdock/cpuset.cpus'), '0-3');
    assert.equal(t.read('cpuset/tsdock/abc/cpuset.mems'), '0');
    assert.deepEqual(cg.procsFiles().map((f) => path.relative(t.dir, f)).sort(), ['blkio', 'cpu', 'cpuset', 'freezer', 'memory', 'pids'].map((h) => `${h}/tsdock/abc/cgroup.procs`));
    // the child moves itself through each hierarchy's tasks file
    assert.deepEqual(cg.placement().cgroupTasks!.map((f) => path.relative(t.dir, f)).sort(), ['blkio', 'cpu', 'cpuset', 'freezer', 'memory', 'pids'].map((h) => `${h}/tsdock/abc/tasks`));
    cg.create(); // idempotent
  } finally {
    t.cleanup();
  }
});

test('v1 apply: memory (memsw first when raising), cpu period before quota, cpuset, pids, blkio', () => {
  const { t, cg } = v1Tree();
  try {
    cg.create();
    t.write('memory/tsdock/abc/memory.limit_in_bytes', '9223372036854771712');
    t.write('memory/tsdock/abc/memory.memsw.limit_in_bytes', '9223372036854771712');
    t.write('blkio/tsdock/abc/blkio.weight', '500');
    cg.apply({ memory: { limit: 33554432, swap: 67108864, reservation: 16777216 }, cpu: { shares: 512, period: 100000, quota: 50000, cpus: '0', mems: '0' }, pids: { limit: 10 }, blockIO: { weight: 300 } });
    assert.equal(t.read('memory/tsdock/abc/memory.limit_in_bytes'), '33554432');
    assert.equal(t.read('memory/tsdock/abc/memory.memsw.limit_in_bytes'), '67108864');
    assert.equal(t.read('memory/tsdock/abc/memory.soft_limit_in_bytes'), '16777216');
    assert.equal(t.read('cpu/tsdock/abc/cpu.shares'), '512');
    assert.equal(t.read('cpu/tsdock/abc/cpu.cfs_period_us'), '100000');
    assert.equal(t.read('cpu/tsdock/abc/cpu.cfs_quota_us'), '50000');
    assert.equal(t.read('cpuset/tsdock/abc/cpuset.cpus'), '0');
    assert.equal(t.read('pids/tsdock/abc/pids.max'), '10');
    assert.equal(t.read('blkio/tsdock/abc/blkio.weight'), '300');
    cg.apply({ pids: { limit: -1 }, memory: { limit: -1, swap: -1 } });
    assert.equal(t.read('pids/tsdock/abc/pids.max'), 'max');
    assert.equal(t.read('memory/tsdock/abc/memory.limit_in_bytes'), '-1');
  } finally {
    t.cleanup();
  }
});

test('v1 apply without the controller: a clear error naming it', () => {
  const t = fakeTree({ 'memory/x': '' });
  try {
    const cg = new CgroupV1(new Map([['memory', path.join(t.dir, 'memory')]]), '/tsdock/abc');
    cg.create();
    assert.throws(() => cg.apply({ pids: { limit: 5 } }), /the pids controller is not mounted \(needed for --pids-limit\)/);
  } finally {
    t.cleanup();
  }
});

test('v1 stats: usage minus inactive file cache, limit (unlimited → 0), cpuacct, pids, blkio bytes; oom_kill count', () => {
  const { t, cg } = v1Tree();
  try {
    cg.create();
    t.write('memory/tsdock/abc/memory.usage_in_bytes', '50000000');
    t.write('memory/tsdock/abc/memory.stat', 'cache 1000\ntotal_inactive_file 8000000\n');
    t.write('memory/tsdock/abc/memory.limit_in_bytes', '9223372036854771712');
    t.write('memory/tsdock/abc/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    t.write('cpu/tsdock/abc/cpuacct.usage', '123456789');
    t.write('pids/tsdock/abc/pids.current', '7');
    t.write('blkio/tsdock/abc/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 8192\n8:16 Read 1\nTotal 12289\n');
    assert.deepEqual(cg.stats(), { cpuUsageNs: 123456789, memoryUsage: 42000000, memoryLimit: 0, pids: 7, blkioRead: 4097, blkioWrite: 8192 });
    assert.equal(cg.oomKills(), 2);
    assert.equal(path.relative(t.dir, cg.oomFile()!), 'memory/tsdock/abc/memory.oom_control');
  } finally {
    t.cleanup();
  }
});

test('v1 freeze/thaw write freezer.state and wait for it; remove rmdirs every hierarchy', async () => {
  const { t, cg } = v1Tree();
  try {
    cg.create();
    t.write('freezer/tsdock/abc/freezer.state', 'THAWED');
    await cg.freeze();
    assert.equal(cg.frozen(), true);
    await cg.thaw();
    assert.equal(t.read('freezer/tsdock/abc/freezer.state'), 'THAWED');
    // a fake directory holds files, so rmdir fails: the error names it
    await assert.rejects(cg.remove(), /cgroup: rmdir .*ENOTEMPTY/);
  } finally {
    t.cleanup();
  }
});
