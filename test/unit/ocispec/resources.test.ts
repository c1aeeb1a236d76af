import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_RESOURCES, limitsGiven, parseCpuList, resolveResources, toLinuxResources, type ResourceRequest } from '../../../src/ocispec/resources.js';
import { resourceFields } from '../../../src/cli/opts/container.js';
import type { ResourceFlagValues } from '../../../src/cli/opts/flags.js';
import { bytesFlag, intFlag } from '../../../src/cli/opts/values.js';

/** the flags as the CLI turns them into the request's fields */
function req(f: ResourceFlagValues & { memorySwappiness?: string; oomScoreAdj?: string }): ResourceRequest {
  const { memorySwappiness, oomScoreAdj, ...rest } = f;
  return {
    ...resourceFields(rest),
    ...(memorySwappiness !== undefined ? { MemorySwappiness: intFlag(memorySwappiness, '--memory-swappiness') } : {}),
    ...(oomScoreAdj !== undefined ? { OomScoreAdj: intFlag(oomScoreAdj, '--oom-score-adj') } : {}),
  };
}
const ramInBytes = (v: string, flag: string) => bytesFlag(v, `--${flag}`);

const HOST = { ncpu: 2, cpusOnline: '0-1', memsOnline: '0' };
const MiB = 1024 * 1024;

test('sizes as docker reads them', () => {
  assert.equal(ramInBytes('32m', 'memory'), 32 * MiB);
  assert.equal(ramInBytes('1.5g', 'memory'), 1.5 * 1024 * MiB);
  assert.equal(ramInBytes('64MiB', 'memory'), 64 * MiB);
  assert.equal(ramInBytes('100', 'memory'), 100);
  assert.equal(ramInBytes('512kb', 'memory'), 512 * 1024);
  assert.throws(() => ramInBytes('lots', 'memory'), /invalid argument "lots" for "--memory" flag/);
});

test('--memory: docker default swap of 2×; minimum 6MB; swap and reservation rules', () => {
  const r = resolveResources(req({ memory: '32m' }), HOST);
  assert.equal(r.Memory, 32 * MiB);
  assert.equal(r.MemorySwap, 64 * MiB);
  assert.deepEqual(toLinuxResources(r), { memory: { limit: 32 * MiB, swap: 64 * MiB } });
  assert.throws(() => resolveResources(req({ memory: '1k' }), HOST), /^UsageError: minimum memory limit allowed is 6MB$/);
  assert.throws(() => resolveResources(req({ memorySwap: '64m' }), HOST), /always set the memory limit when using memoryswap/);
  assert.throws(() => resolveResources(req({ memory: '64m', memorySwap: '32m' }), HOST), /minimum memoryswap limit should be larger than memory limit/);
  assert.throws(() => resolveResources(req({ memory: '64m', memoryReservation: '128m' }), HOST), /memory limit can not be less than memory reservation limit/);
  assert.equal(resolveResources(req({ memory: '64m', memorySwap: '-1' }), HOST).MemorySwap, -1);
});

test('--cpus becomes a CFS quota over a 100 ms period; conflicts and ranges', () => {
  const r = resolveResources(req({ cpus: '1.5' }), HOST);
  assert.equal(r.NanoCpus, 1.5e9);
  assert.deepEqual(toLinuxResources(r).cpu, { period: 100000, quota: 150000 });
  assert.throws(() => resolveResources(req({ cpus: '3' }), HOST), /range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  assert.throws(() => resolveResources(req({ cpus: '1', cpuQuota: '50000' }), HOST), /Nano CPUs and CPU Quota cannot both be set/);
  assert.throws(() => resolveResources(req({ cpuPeriod: '500' }), HOST), /CPU cfs period can not be less than 1ms/);
  assert.throws(() => resolveResources(req({ cpuQuota: '500' }), HOST), /CPU cfs quota can not be less than 1ms/);
  assert.deepEqual(toLinuxResources(resolveResources(req({ cpuPeriod: '50000', cpuQuota: '25000', cpuShares: '512' }), HOST)).cpu, { shares: 512, period: 50000, quota: 25000 });
});

test('cpusets, pids, blkio, oom-score-adj', () => {
  assert.deepEqual([...parseCpuList('0-2,4')!], [0, 1, 2, 4]);
  assert.equal(parseCpuList('2-1'), undefined);
  assert.equal(resolveResources(req({ cpusetCpus: '1' }), HOST).CpusetCpus, '1');
  assert.throws(() => resolveResources(req({ cpusetCpus: '0-3' }), HOST), /requested CPUs are not available - requested 0-3, available: 0-1/);
  assert.throws(() => resolveResources(req({ cpusetMems: '1' }), HOST), /requested memory nodes are not available/);
  assert.equal(resolveResources(req({ pidsLimit: '10' }), HOST).PidsLimit, 10);
  assert.equal(resolveResources(req({ pidsLimit: '-1' }), HOST).PidsLimit, null);
  assert.equal(resolveResources(req({ pidsLimit: '0' }), HOST, EMPTY_RESOURCES, { update: true }).PidsLimit, -1, 'update: back to unlimited');
  assert.deepEqual(toLinuxResources({ ...EMPTY_RESOURCES, PidsLimit: -1 }).pids, { limit: -1 });
  assert.throws(() => resolveResources(req({ blkioWeight: '5' }), HOST), /range of blkio weight is from 10 to 1000/);
  assert.equal(resolveResources(req({ oomScoreAdj: '-500' }), HOST).OomScoreAdj, -500);
  assert.throws(() => resolveResources(req({ oomScoreAdj: '1001' }), HOST), /range for oom score adj is \[-1000, 1000\]/);
  assert.deepEqual(toLinuxResources(EMPTY_RESOURCES), {});
  assert.deepEqual(limitsGiven(req({ memory: '1g', oomScoreAdj: '5', pidsLimit: '3' })), ['--memory', '--pids-limit']);
});

test('update: on top of the current values; memory above the current memory+swap needs --memory-swap too', () => {
  const cur = resolveResources(req({ memory: '64m' }), HOST);
  const lower = resolveResources(req({ memory: '48m' }), HOST, cur, { update: true });
  assert.equal(lower.Memory, 48 * MiB);
  assert.equal(lower.MemorySwap, 128 * MiB, 'swap left as it was');
  assert.throws(() => resolveResources(req({ memory: '256m' }), HOST, cur, { update: true }), /memory limit should be smaller than already set memoryswap limit/);
  assert.equal(resolveResources(req({ memory: '256m', memorySwap: '512m' }), HOST, cur, { update: true }).MemorySwap, 512 * MiB);
});
