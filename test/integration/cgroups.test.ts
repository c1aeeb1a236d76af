import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';
import { detectCgroups } from '../../src/cgroups/detect.js';
import type { CgroupLocation } from '../../src/cgroups/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const host = detectCgroups();
// runs on this hybrid host (limits through v1) and inside the cgroup-v2 VM (scripts/vm, npm run test:cgroup2-vm)
const canLimit = host.mode === 'v2' ? /\bmemory\b/.test(fs.readFileSync(path.join(host.v2Mount!, 'cgroup.controllers'), 'utf8')) : host.v1.has('memory');

/** the directories of a container's cgroup, from its container.json */
function cgroupDirs(root: string, id: string): string[] {
  const rec = JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'container.json'), 'utf8')) as { Cgroup?: CgroupLocation };
  const loc = rec.Cgroup;
  if (!loc) return [];
  if (loc.version === 2) return [path.join(loc.mount!, loc.path)];
  return [...new Set(host.v1.values())].map((m) => path.join(m, loc.path));
}

describe(`cgroups (${host.mode}): limits, OOM, stats, pause, update`, { skip: !isRoot ? 'needs root' : !canLimit ? 'no memory controller here' : false }, () => {
  let root: string;
  let img: string;
  const dirs: string[] = [];
  const t = (args: string[], env?: NodeJS.ProcessEnv) => tsdock(args, { root, env });
  const idOf = async (name: string) => (await t(['inspect', '--format', '{{.Id}}', name])).stdout.trim();
  const remember = async (name: string) => {
    const id = await idOf(name);
    dirs.push(...cgroupDirs(root, id));
    return id;
  };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('cgroups').root;
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
    const left = dirs.filter((d) => fs.existsSync(d));
    assert.deepEqual(left, [], 'no cgroup directory is left behind');
  });

  test('--memory 32m: a process allocating 64 MB is OOM-killed → exit 137, State.OOMKilled true', async () => {
    const r = await t(['run', '--name', 'oom', '--memory', '32m', img, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    assert.equal(r.code, 137, r.stderr);
    const id = await remember('oom');
    assert.equal((await t(['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}', 'oom'])).stdout.trim(), 'true 137 33554432');
    // the cgroup went with the stop
    for (const d of cgroupDirs(root, id)) assert.equal(fs.existsSync(d), false, d);
    // detached: the monitor records it
    const d = await t(['run', '-d', '--name', 'oomd', '--memory', '32m', img, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    assert.equal(d.code, 0, d.stderr);
    await remember('oomd');
    assert.equal((await t(['wait', 'oomd'])).stdout.trim(), '137');
    assert.equal((await t(['inspect', '--format', '{{.State.OOMKilled}}', 'oomd'])).stdout.trim(), 'true');
    // a container that stays under its limit is not OOMKilled
    assert.equal((await t(['run', '--name', 'fine', '--memory', '32m', img, 'true'])).code, 0);
    assert.equal((await t(['inspect', '--format', '{{.State.OOMKilled}}', 'fine'])).stdout.trim(), 'false');
  });

  test('--pids-limit 10: a fork bomb gets EAGAIN; the container stays manageable', async () => {
    // the inner shell dies of its failed fork; the outer one (pid 1) keeps the sleeps it inherits
    const r = await t(['run', '-d', '--name', 'bomb', '--pids-limit', '10', img, 'sh', '-c', 'sh -c "for i in \\$(seq 1 40); do sleep 300 & done"; echo survived; exec sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    await remember('bomb');
    await sleep(1000);
    const logs = await t(['logs', 'bomb']);
    assert.match(logs.stderr, /can't fork|Resource temporarily unavailable/);
    assert.equal(logs.stdout, 'survived\n');
    const pids = Number((await t(['stats', '--no-stream', '--format', '{{.PIDs}}', 'bomb'])).stdout.trim());
    assert.ok(pids >= 9 && pids <= 10, `pids ${pids}`);
    assert.equal((await t(['inspect', '--format', '{{.HostConfig.PidsLimit}}', 'bomb'])).stdout.trim(), '10');
    const t0 = Date.now();
    const rm = await t(['rm', '-f', 'bomb']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(Date.now() - t0 < 8000, 'rm -f is prompt');
  });

  test('--cpus 0.5 holds a busy loop to about half a core; --cpuset-cpus 0 pins', async () => {
    const r = await t(['run', '-d', '--name', 'spin', '--cpus', '0.5', img, 'sh', '-c', 'while :; do :; done']);
    assert.equal(r.code, 0, r.stderr);
    await remember('spin');
    const pid = Number((await t(['inspect', '--format', '{{.State.Pid}}', 'spin'])).stdout.trim());
    const ticks = () => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).reduce((a, b) => a + Number(b), 0);
    const c0 = ticks();
    const w0 = Date.now();
    await sleep(3000);
    const share = (ticks() - c0) / 100 / ((Date.now() - w0) / 1000);
    assert.ok(share > 0.2 && share < 0.7, `busy loop used ${share.toFixed(2)} of a core`);
    assert.equal((await t(['inspect', '--format', '{{.HostConfig.NanoCpus}}', 'spin'])).stdout.trim(), '500000000');
    assert.equal((await t(['rm', '-f', 'spin'])).code, 0);
    const pin = await t(['run', '--rm', '--cpuset-cpus', '0', img, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stdout, /Cpus_allowed_list:\s+0\n/);
  });

  test('update --memory changes a running container; stats shows the new limit and a known usage', async () => {
    // 40 MB in /dev/shm (tmpfs pages are charged to the cgroup and cannot be reclaimed without swap)
    const r = await t(['run', '-d', '--name', 'mem', '--memory', '128m', img, 'sh', '-c', 'head -c 41943040 /dev/zero > /dev/shm/x; echo ready; sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    await remember('mem');
    for (let i = 0; i < 50 && !(await t(['logs', 'mem'])).stdout.includes('ready'); i++) await sleep(100);
    let s = (await t(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}', 'mem'])).stdout.trim();
    const [usage, perc] = s.split('|');
    const mib = Number(/^([\d.]+)MiB \//.exec(usage!)?.[1]);
    assert.ok(mib >= 39 && mib < 60, `usage ${usage}`);
    assert.match(usage!, / \/ 128MiB$/);
    assert.ok(Number(perc!.replace('%', '')) > 29 && Number(perc!.replace('%', '')) < 47, perc);
    const u = await t(['update', '--memory', '96m', 'mem']);
    assert.equal(u.code, 0, u.stderr);
    s = (await t(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'mem'])).stdout.trim();
    assert.match(s, / \/ 96MiB$/);
    assert.equal((await t(['inspect', '--format', '{{.HostConfig.Memory}}', 'mem'])).stdout.trim(), String(96 * 1024 * 1024));
    // below what it uses: the kernel refuses or OOM-kills; a too-small value is refused before that
    const small = await t(['update', '--memory', '1k', 'mem']);
    assert.equal(small.code, 1);
    assert.match(small.stderr, /^Error: minimum memory limit allowed is 6MB\n$/);
    assert.equal((await t(['rm', '-f', 'mem'])).code, 0);
  });

  test('pause/unpause freeze and thaw a counting loop; ps and inspect say paused', async () => {
    const r = await t(['run', '-d', '--name', 'count', img, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; done']);
    assert.equal(r.code, 0, r.stderr);
    await remember('count');
    const pid = Number((await t(['inspect', '--format', '{{.State.Pid}}', 'count'])).stdout.trim());
    // the loop truncates then writes: read until a number is there
    const read = async () => {
      for (let i = 0; i < 100; i++) {
        const v = fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8').trim();
        if (v) return Number(v);
        await sleep(5);
      }
      return 0;
    };
    await sleep(300);
    assert.equal((await t(['pause', 'count'])).code, 0);
    const a = await read();
    await sleep(500);
    assert.equal(await read(), a, 'no progress while paused');
    assert.equal((await t(['inspect', '--format', '{{.State.Status}} {{.State.Paused}}', 'count'])).stdout.trim(), 'paused true');
    assert.match((await t(['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
    const ex = await t(['exec', 'count', 'true']);
    assert.equal(ex.code, 125);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    assert.equal((await t(['pause', 'count'])).code, 1, 'already paused');
    assert.equal((await t(['unpause', 'count'])).code, 0);
    // thawed tasks are woken asynchronously: under emulation (the v2 VM pass) that can take longer than 300 ms
    let after = await read();
    for (const deadline = Date.now() + 5000; after <= a && Date.now() < deadline; after = await read()) await sleep(100);
    assert.ok(after > a, 'counting again');
    assert.equal((await t(['inspect', '--format', '{{.State.Status}}', 'count'])).stdout.trim(), 'running');
    // stop on a paused container works (thawed for the signal)
    assert.equal((await t(['pause', 'count'])).code, 0);
    const stop = await t(['stop', '-t', '1', 'count']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await t(['inspect', '--format', '{{.State.Status}}', 'count'])).stdout.trim(), 'exited');
  });

  test('exec joins the container cgroup; top lists it', async () => {
    const r = await t(['run', '-d', '--name', 'ex', img, 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const id = await remember('ex');
    const e = await t(['exec', '-d', 'ex', 'sleep', '301']);
    assert.equal(e.code, 0, e.stderr);
    await sleep(200);
    const cgDirs = cgroupDirs(root, id);
    const procs = fs.readFileSync(path.join(cgDirs[0]!, 'cgroup.procs'), 'utf8').trim().split('\n');
    assert.equal(procs.length, 2, `cgroup.procs: ${procs.join(',')}`);
    const top = await t(['top', 'ex']);
    assert.match(top.stdout, /sleep 301/);
    assert.equal((await t(['rm', '-f', 'ex'])).code, 0);
    for (const d of cgDirs) assert.equal(fs.existsSync(d), false);
  });

  test('--memory-reservation, --cpu-shares, --blkio-weight, --memory-swappiness, --oom-score-adj reach the kernel', async () => {
    const v1 = host.mode !== 'v2';
    // blkio weights need an I/O scheduler with weights (BFQ); without one, --blkio-weight is refused (checked below)
    const weights = v1 && fs.existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight');
    const flags = ['--memory-reservation', '20m', '--cpu-shares', '512', '--oom-score-adj', '500', '--memory-swappiness', '10', ...(weights ? ['--blkio-weight', '300'] : [])];
    // read through the container's own /sys/fs/cgroup (its cgroup namespace's root)
    const files = v1
      ? ['/sys/fs/cgroup/memory/memory.soft_limit_in_bytes', '/sys/fs/cgroup/cpu/cpu.shares', '/proc/self/oom_score_adj', '/sys/fs/cgroup/memory/memory.swappiness', ...(weights ? ['/sys/fs/cgroup/blkio/blkio.bfq.weight'] : [])]
      : ['/sys/fs/cgroup/memory.low', '/sys/fs/cgroup/cpu.weight', '/proc/self/oom_score_adj'];
    const r = await t(['run', '--rm', ...flags, img, 'cat', ...files]);
    assert.equal(r.code, 0, r.stderr);
    const want = v1 ? ['20971520', '512', '500', '10', ...(weights ? [/^(default )?300$/] : [])] : ['20971520', '20', '500'];
    if (v1 && !weights) {
      const b = await t(['run', '--rm', '--blkio-weight', '300', img, 'true']);
      assert.equal(b.code, 125, 'no BFQ on this host: --blkio-weight is refused, not dropped');
      assert.match(b.stderr, /does not support weights; --blkio-weight/);
    }
    // v2 has no swappiness: docker warns and goes on
    if (!v1) assert.match(r.stderr, /--memory-swappiness: cgroup v2 has no memory swappiness; discarded/);
    const got = r.stdout.trim().split('\n');
    want.forEach((w, i) => (typeof w === 'string' ? assert.equal(got[i], w, files[i]) : assert.match(got[i]!, w, files[i])));
  });

  test('device rules: mknod is allowed, opening a device outside the default list is not; --privileged may', async () => {
    const probe = 'mknod /dev/probe-kmsg c 1 11 && dd if=/dev/probe-kmsg of=/dev/null bs=8192 count=1 2>&1; echo rc=$?; head -c 1 /dev/urandom | wc -c';
    const r = await t(['run', '--rm', img, 'sh', '-c', probe]);
    assert.match(r.stdout, /Operation not permitted[\s\S]*rc=1\n1\n$/);
    const p = await t(['run', '--rm', '--privileged', img, 'sh', '-c', probe]);
    assert.match(p.stdout, /rc=0\n1\n$/);
  });

  test('bad values get docker\'s errors, exit 125, and nothing is created', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--memory', '1k'], /minimum memory limit allowed is 6MB/],
      [['--memory', 'lots'], /invalid argument "lots" for "--memory" flag/],
      [['--memory', '64m', '--memory-swap', '32m'], /minimum memoryswap limit should be larger than memory limit/],
      [['--cpus', '99'], /range of CPUs is from 0.01 to \d+\.00/],
      [['--cpuset-cpus', '99'], /requested CPUs are not available - requested 99/],
      [['--blkio-weight', '5'], /range of blkio weight is from 10 to 1000/],
      [['--oom-score-adj', '2000'], /range for oom score adj is \[-1000, 1000\]/],
      [['--cpus', '1', '--cpu-quota', '50000'], /conflicting options: Nano CPUs and CPU Quota/],
      [['--cgroup-parent', '../../x'], /invalid --cgroup-parent "\.\.\/\.\.\/x": "\.\." leaves the cgroup root/],
    ];
    const count = async () => (await t(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean).length;
    const before = await count();
    for (const [flags, re] of cases) {
      const r = await t(['run', '--rm', ...flags, img, 'true']);
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
    }
    assert.equal(await count(), before);
  });
});

describe('cgroup v2 core on the hybrid host\'s unified hierarchy (create, move, freeze, kill, remove)', {
  skip: !isRoot ? 'needs root' : host.mode !== 'hybrid' ? `host is ${host.mode}: the pure-v2 run covers it` : false,
}, () => {
  let root: string;
  let img: string;
  const env = { TSDOCK_CGROUP_V2_MOUNT: host.v2Mount };
  const t = (args: string[]) => tsdock(args, { root, env });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('cgroups-v2').root;
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
  });

  test('a container lives in <unified>/tsdock/<id>, freezes, is killed with cgroup.kill and removed', async () => {
    const r = await t(['run', '-d', '--name', 'uni', img, 'sh', '-c', 'sleep 300 & sleep 300']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const dir = path.join(host.v2Mount!, 'tsdock', id);
    await sleep(200);
    // sh and its background sleep (busybox execs the last command in place)
    assert.ok(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').length >= 2);
    // the container sees its own cgroup as its root (a cgroup namespace made after the move)
    const cg = await t(['exec', 'uni', 'cat', '/proc/self/cgroup']);
    assert.match(cg.stdout, /^0::\/$/m);
    assert.equal((await t(['pause', 'uni'])).code, 0);
    assert.match(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'), /frozen 1/);
    assert.equal((await t(['unpause', 'uni'])).code, 0);
    assert.match(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'), /frozen 0/);
    const rm = await t(['rm', '-f', 'uni']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(fs.existsSync(dir), false);
  });

  test('device rules through an eBPF filter attached to the cgroup', async () => {
    const probe = 'mknod /dev/probe-kmsg c 1 11 && dd if=/dev/probe-kmsg of=/dev/null bs=8192 count=1 2>&1; echo rc=$?';
    assert.match((await t(['run', '--rm', img, 'sh', '-c', probe])).stdout, /Operation not permitted[\s\S]*rc=1\n$/);
    assert.match((await t(['run', '--rm', '--privileged', img, 'sh', '-c', probe])).stdout, /rc=0\n$/);
  });

  test('a limit the tree cannot give is refused with the reason, not ignored', async () => {
    const r = await t(['run', '--rm', '--memory', '64m', img, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: --memory: the memory controller is not available \(cgroup v2 at .*not enabled or not delegated\)\n$/);
  });
});
