import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CgroupV2, blkioToIoWeight, neededControllers, sharesToWeight } from '../../../src/cgroups/v2.js';
import { fakeTree } from './fake.js';

test('v2 create enables the offered controllers down the chain; apply converts docker values', () => {
  const t = fakeTree({ 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma', 'cgroup.subtree_control': '' });
  try {
    const cg = new CgroupV2(t.dir, '/tsdock/abc');
    cg.create();
    assert.equal(t.read('cgroup.subtree_control'), '+cpu +cpuset +io +memory +pids');
    // the fake's tsdock/ has no cgroup.controllers: nothing more to enable below it; give it the kernel's answer
    t.write('tsdock/cgroup.subtree_control', 'cpuset cpu io memory pids');
    t.write('tsdock/abc/cpu.max', 'max 100000');
    t.write('tsdock/abc/memory.swap.max', 'max');
    cg.apply({ memory: { limit: 33554432, swap: 67108864, reservation: 1048576 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0-1' }, pids: { limit: 10 }, blockIO: { weight: 500 } });
    assert.equal(t.read('tsdock/abc/memory.max'), '33554432');
    assert.equal(t.read('tsdock/abc/memory.swap.max'), '33554432', 'swap alone: (memory+swap) - memory');
    assert.equal(t.read('tsdock/abc/memory.low'), '1048576');
    assert.equal(t.read('tsdock/abc/cpu.weight'), String(sharesToWeight(512)));
    assert.equal(t.read('tsdock/abc/cpu.max'), '50000 100000');
    assert.equal(t.read('tsdock/abc/cpuset.cpus'), '0-1');
    assert.equal(t.read('tsdock/abc/pids.max'), '10');
    assert.equal(t.read('tsdock/abc/io.weight'), `default ${blkioToIoWeight(500)}`);
    cg.apply({ memory: { limit: 33554432, swap: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } });
    assert.equal(t.read('tsdock/abc/memory.swap.max'), 'max');
    assert.equal(t.read('tsdock/abc/cpu.max'), 'max 100000');
    assert.equal(t.read('tsdock/abc/pids.max'), 'max');
    assert.deepEqual(cg.placement(), { cgroupDir: path.join(t.dir, 'tsdock/abc'), cgroupProcs: [path.join(t.dir, 'tsdock/abc/cgroup.procs')] });
  } finally {
    t.cleanup();
  }
});

test('v2 apply refuses a limit whose controller the parent does not hand down (no delegation)', () => {
  const t = fakeTree({ 'cgroup.controllers': '', 'cgroup.subtree_control': '' });
  try {
    const cg = new CgroupV2(t.dir, '/tsdock/abc');
    cg.create();
    t.write('tsdock/cgroup.subtree_control', 'pids');
    assert.deepEqual(cg.missing({ memory: { limit: 1 << 25 }, pids: { limit: 5 } }), ['memory']);
    assert.throws(() => cg.apply({ memory: { limit: 1 << 25 } }), /cgroup v2: the memory controller is not available in .*tsdock \(not enabled or not delegated to this user\), needed for --memory/);
  } finally {
    t.cleanup();
  }
});

test('v2 freeze/thaw via cgroup.freeze + cgroup.events; kill via cgroup.kill; stats and oom_kill from memory.events', async () => {
  const t = fakeTree({ 'cgroup.controllers': '', 'cgroup.subtree_control': '' });
  try {
    const cg = new CgroupV2(t.dir, '/tsdock/abc');
    cg.create();
    t.write('tsdock/abc/cgroup.events', 'populated 1\nfrozen 1\n');
    await cg.freeze();
    assert.equal(t.read('tsdock/abc/cgroup.freeze'), '1');
    t.write('tsdock/abc/cgroup.events', 'populated 0\nfrozen 0\n');
    await cg.thaw();
    assert.equal(t.read('tsdock/abc/cgroup.freeze'), '0');
    t.write('tsdock/abc/cgroup.kill', '');
    await cg.kill();
    assert.equal(t.read('tsdock/abc/cgroup.kill'), '1');
    t.write('tsdock/abc/memory.current', '50000000');
    t.write('tsdock/abc/memory.max', 'max');
    t.write('tsdock/abc/memory.stat', 'anon 40000000\ninactive_file 8000000\n');
    t.write('tsdock/abc/cpu.stat', 'usage_usec 1500\nuser_usec 1000\n');
    t.write('tsdock/abc/pids.current', '3');
    t.write('tsdock/abc/io.stat', '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n8:16 rbytes=1 wbytes=0\n');
    t.write('tsdock/abc/memory.events', 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n');
    assert.deepEqual(cg.stats(), { cpuUsageNs: 1500000, memoryUsage: 42000000, memoryLimit: 0, pids: 3, blkioRead: 4097, blkioWrite: 8192 });
    assert.equal(cg.oomKills(), 1);
  } finally {
    t.cleanup();
  }
});

test('controllers a set of limits needs; runc conversions', () => {
  assert.deepEqual(neededControllers({ memory: { limit: 1 }, cpu: { quota: 1, cpus: '0' }, pids: { limit: 1 }, blockIO: { weight: 10 } }), ['memory', 'cpu', 'cpuset', 'pids', 'io']);
  assert.deepEqual(neededControllers({}), []);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioToIoWeight(10), 1);
  assert.equal(blkioToIoWeight(1000), 10000);
});
