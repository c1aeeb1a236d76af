import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec } from '../../../src/ocispec/build.js';
import { buildPlan, execCandidates, mountSteps, overlayMountData, parseMountOptions, MOUNT_DATA_MAX } from '../../../src/runtime/plan.js';
import { CLONE, MOUNT_ATTR, MS, type PlanStep } from '../../../src/runtime/plan-types.js';
import type { Spec } from '../../../src/ocispec/types.js';
import { assertGolden } from '../ocispec/golden.js';
import { SCENARIOS, planContext, specInput } from '../ocispec/fixtures.js';

for (const [name, { input, ctx }] of Object.entries(SCENARIOS)) {
  test(`plan golden: ${name}`, () => {
    assertGolden(`plan/${name}`, buildPlan(buildSpec(input).spec, ctx));
  });
}

const opIndex = (steps: PlanStep[], pred: (s: PlanStep) => boolean) => steps.findIndex(pred);
const mountAt = (steps: PlanStep[], target: string) => opIndex(steps, (s) => s.op === 'mount' && s.target === target);

test('default plan: clone flags, CapEff, order of the key steps', () => {
  const plan = buildPlan(buildSpec(specInput()).spec, planContext());
  assert.equal(plan.cloneFlags, CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWUTS | CLONE.NEWPID | CLONE.NEWIPC | CLONE.NEWCGROUP);
  assert.equal(plan.idMaps, undefined);
  assert.equal(plan.process.capabilities.effective, 0x00000000a80425fbn);
  assert.equal(plan.process.capabilities.bounding, 0x00000000a80425fbn);
  assert.equal(plan.process.capabilities.inheritable, 0n);
  assert.equal(plan.process.seccomp, undefined);
  assert.equal(plan.init, false);
  assert.deepEqual(plan.process.rlimits, [
    { resource: 7, soft: 20000n, hard: 20000n },
    { resource: 6, soft: 63704n, hard: 63704n },
  ]);
  assert.deepEqual(plan.process.candidates, ['/usr/local/sbin/sh', '/usr/local/bin/sh', '/usr/sbin/sh', '/usr/bin/sh', '/sbin/sh', '/bin/sh']);
  const s = plan.steps;
  assert.deepEqual(s[0], { op: 'propagation', path: '/', flags: MS.REC | MS.SLAVE });
  assert.equal(s[1]!.op === 'mount' && s[1]!.fstype, 'overlay');
  const pivot = opIndex(s, (x) => x.op === 'pivot_root');
  // every mount into the rootfs precedes pivot_root, /proc first, /dev before what lives under it
  assert.ok(mountAt(s, '/proc') === 2);
  assert.ok(mountAt(s, '/dev') < mountAt(s, '/dev/pts'));
  assert.ok(mountAt(s, '/dev') < mountAt(s, '/dev/shm'));
  assert.ok(mountAt(s, '/etc/hosts') < pivot);
  // rootful devices are mknod'ed after pivot_root, before masking (which binds /dev/null)
  const firstMknod = opIndex(s, (x) => x.op === 'mknod');
  const firstMask = opIndex(s, (x) => x.op === 'mask');
  const firstReadonly = opIndex(s, (x) => x.op === 'readonly');
  const sysctl = opIndex(s, (x) => x.op === 'write');
  assert.ok(pivot < firstMknod && firstMknod < firstMask);
  assert.ok(sysctl < firstReadonly && firstReadonly < firstMask);
  assert.equal(s[s.length - 1]!.op, 'sethostname');
  assert.ok(!s.some((x) => x.op === 'mount' && x.target === '/' && x.flags & MS.REMOUNT));
});

test('rootless plan: userxattr, relative lowerdirs, devices bound from the host before pivot_root', () => {
  const { input, ctx } = SCENARIOS.rootless!;
  const plan = buildPlan(buildSpec(input).spec, ctx);
  const s = plan.steps;
  assert.deepEqual(s[1], { op: 'chdir', path: '/home/me/.local/share/tsdock/layers/sha256' });
  const overlay = s[2]!;
  assert.ok(overlay.op === 'mount' && overlay.data === `lowerdir=${'b'.repeat(64)}/diff:${'a'.repeat(64)}/diff,upperdir=${ctx.upper},workdir=${ctx.work},userxattr`);
  assert.ok(!s.some((x) => x.op === 'mknod'));
  const nullBind = opIndex(s, (x) => x.op === 'mount' && x.target === '/dev/null');
  assert.ok(nullBind > mountAt(s, '/dev') && nullBind < opIndex(s, (x) => x.op === 'pivot_root'));
  assert.deepEqual(s[nullBind], { op: 'mount', source: '/dev/null', target: '/dev/null', fstype: '', flags: MS.BIND, data: '', root: input.rootfs, create: 'file', label: 'device /dev/null' });
  assert.equal(plan.cloneFlags & CLONE.NEWUSER, 0);
});

test('--read-only: the rootfs remount is the last step, after every mount and mask; -w is created before it', () => {
  const plan = buildPlan(buildSpec(specInput({ readOnly: true, workdir: '/srv/app' })).spec, planContext());
  const s = plan.steps;
  const last = s[s.length - 1]!;
  // keeps the rootfs's nodev: a bind remount sets exactly the flags it is given
  assert.deepEqual(last, { op: 'mount', source: '', target: '/', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV, data: '', label: 'read-only rootfs' });
  const mkdir = opIndex(s, (x) => x.op === 'mkdir');
  assert.deepEqual(s[mkdir], { op: 'mkdir', path: '/srv/app', mode: 0o755, root: specInput().rootfs });
  assert.ok(mkdir < opIndex(s, (x) => x.op === 'pivot_root'));
  assert.ok(mkdir > mountAt(s, '/etc/hosts'));
});

test('rootfs nodev: the overlay mounted with it, the vfs copy remounted with it; none without rootfsNodev', () => {
  const spec = buildSpec(specInput()).spec;
  const rootfs = spec.root!.path;
  const overlay = (ctx: Parameters<typeof planContext>[0]) => buildPlan(spec, planContext(ctx)).steps.find((x) => x.op === 'mount' && x.label === 'rootfs overlay');
  assert.equal((overlay({}) as { flags: number }).flags, MS.NODEV);
  assert.equal((overlay({ rootfsNodev: false }) as { flags: number }).flags, 0);
  const vfs = buildPlan(spec, planContext({ copiedRootfs: '/c/upper' })).steps;
  const at = mountAt(vfs, rootfs);
  assert.deepEqual(vfs[at + 1], { op: 'mount', source: '', target: rootfs, fstype: '', flags: MS.REMOUNT | MS.BIND | MS.NODEV, data: '', label: 'rootfs copy (remount)' });
  assert.equal(buildPlan(spec, planContext({ copiedRootfs: '/c/upper', rootfsNodev: false })).steps.filter((x) => x.op === 'mount' && x.target === rootfs).length, 1);
});

test('bind mounts: bind, then a remount for flags, then propagation', () => {
  const root = '/r';
  assert.deepEqual(mountSteps({ destination: '/ctr', type: 'bind', source: '/host', options: ['rbind', 'ro', 'rprivate'] }, root), [
    { op: 'mount', source: '/host', target: '/ctr', fstype: '', flags: MS.BIND | MS.REC, data: '', root, create: 'dir', label: 'mount /ctr' },
    // read-only all the way down: the remount alone would leave the rbind's submounts writable
    { op: 'mount', source: '', target: '/ctr', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: '', root, label: 'mount /ctr (remount)', recursiveAttrs: MOUNT_ATTR.RDONLY },
    { op: 'mount', source: '', target: '/ctr', fstype: '', flags: MS.PRIVATE | MS.REC, data: '', root, label: 'mount /ctr (propagation)' },
  ]);
  // a kernel without mount_setattr (< 5.12): the bound mount only, as docker falls back; a plain bind has no submounts
  assert.ok(!('recursiveAttrs' in mountSteps({ destination: '/ctr', type: 'bind', source: '/host', options: ['rbind', 'ro'] }, root, false)[1]!));
  assert.ok(!('recursiveAttrs' in mountSteps({ destination: '/ctr', type: 'bind', source: '/host', options: ['bind', 'ro'] }, root)[1]!));
  assert.ok(!('recursiveAttrs' in mountSteps({ destination: '/ctr', type: 'bind', source: '/host', options: ['rbind', 'nosuid'] }, root)[1]!));
  assert.deepEqual(mountSteps({ destination: '/etc/hosts', type: 'bind', source: '/h', options: ['bind'], 'tsdock.sourceType': 'file' }, root), [
    { op: 'mount', source: '/h', target: '/etc/hosts', fstype: '', flags: MS.BIND, data: '', root, create: 'file', label: 'mount /etc/hosts' },
  ]);
  assert.deepEqual(mountSteps({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] }, root), [
    { op: 'mount', source: 'devpts', target: '/dev/pts', fstype: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5', root, create: 'dir', label: 'mount /dev/pts' },
  ]);
});

test('mount option words', () => {
  assert.deepEqual(parseMountOptions(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'rslave', 'size=1m', 'z']), { flags: MS.NODEV, propagation: MS.SLAVE | MS.REC, data: 'size=1m' });
  assert.deepEqual(parseMountOptions(['strictatime', 'mode=755', 'size=65536k']), { flags: MS.STRICTATIME, propagation: 0, data: 'mode=755,size=65536k' });
});

test('overlay options: page limit, relative paths under layersBase, escaping', () => {
  const base = '/var/lib/tsdock/layers/sha256';
  const layers = Array.from({ length: 40 }, (_, i) => `${base}/${i.toString(16).padStart(64, '0')}/diff`);
  const ctx = planContext({ layers });
  assert.throws(() => overlayMountData(ctx), /over mount\(2\)'s 4096-byte page; pass layersBase/);
  const rel = overlayMountData({ ...ctx, layersBase: base });
  assert.equal(rel.chdir, base);
  assert.ok(rel.data.length <= MOUNT_DATA_MAX);
  assert.ok(rel.data.startsWith(`lowerdir=${'0'.repeat(64)}/diff:`));
  assert.throws(() => overlayMountData({ ...ctx, layersBase: '/elsewhere' }), /is not under layersBase/);
  // <chainhex>/diff is 69 bytes: about 58 layers fit even relative; more need shorter names (links) under layersBase
  const sixty = Array.from({ length: 60 }, (_, i) => `${base}/${i.toString(16).padStart(64, '0')}/diff`);
  assert.throws(() => overlayMountData(planContext({ layers: sixty, layersBase: base })), /4420 bytes, .* even with layer paths relative to layersBase/);
  const short = overlayMountData(planContext({ layers: sixty.map((_, i) => `${base}/l/${i}`), layersBase: base }));
  assert.ok(short.data.startsWith('lowerdir=l/0:l/1:'));
  assert.throws(() => overlayMountData(planContext({ layers: [] })), /no layers/);
  assert.throws(() => overlayMountData(planContext({ layers: ['/a,b'] })), /cannot contain ","/);
  assert.equal(overlayMountData(planContext({ layers: ['/l:1'], upper: '/u', work: '/w', overlayOptions: ['metacopy=off'] })).data, 'lowerdir=/l\\:1,upperdir=/u,workdir=/w,metacopy=off');
  const many = Array.from({ length: 501 }, (_, i) => `${base}/${i}`);
  assert.throws(() => overlayMountData(planContext({ layers: many, layersBase: base })), /at most 500/);
});

test('exec candidates', () => {
  const env = ['PATH=/usr/bin::bin:/usr/bin'];
  assert.deepEqual(execCandidates('ls', env, '/w'), ['/usr/bin/ls', '/w/ls', '/w/bin/ls']);
  assert.deepEqual(execCandidates('/bin/ls', env, '/w'), ['/bin/ls']);
  assert.deepEqual(execCandidates('./run.sh', env, '/w'), ['/w/run.sh']);
  assert.deepEqual(execCandidates('sub/run', [], '/w'), ['/w/sub/run']);
  assert.deepEqual(execCandidates('', env, '/w'), []);
  assert.equal(execCandidates('sh', ['HOME=/root'], '/').length, 6);
});

test('-t with a console path binds it on /dev/console before pivot_root; --init and the pid file', () => {
  const tty = SCENARIOS.tty!;
  const plan = buildPlan(buildSpec(tty.input).spec, tty.ctx);
  const i = mountAt(plan.steps, '/dev/console');
  assert.ok(i > 0 && i < opIndex(plan.steps, (x) => x.op === 'pivot_root'));
  assert.equal(plan.process.terminal, true);
  const init = SCENARIOS.init!;
  const p2 = buildPlan(buildSpec(init.input).spec, init.ctx);
  assert.equal(p2.init, true);
  assert.equal(p2.pidFile, init.ctx.pidFile);
});

test('unsupported specs are refused clearly', () => {
  const spec = buildSpec(specInput()).spec;
  const withNs = (namespaces: NonNullable<Spec['linux']>['namespaces']): Spec => ({ ...spec, linux: { ...spec.linux, namespaces } });
  assert.throws(() => buildPlan(withNs([{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }]), planContext()), /joining an existing network namespace/);
  assert.throws(() => buildPlan(withNs([{ type: 'mount' }, { type: 'time' }]), planContext()), /time namespace is not supported/);
  assert.throws(() => buildPlan(withNs([{ type: 'mount' }]), planContext()), /needs a new uts namespace/);
  assert.throws(() => buildPlan(withNs([{ type: 'mount' }, { type: 'uts' }, { type: 'user' }]), planContext()), /needs uidMappings/);
  const userns = buildPlan(
    { ...withNs([{ type: 'mount' }, { type: 'uts' }, { type: 'user' }]), linux: { ...spec.linux, namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] } },
    planContext(),
  );
  assert.deepEqual(userns.idMaps, { kind: 'write', uidMap: [{ containerId: 0, hostId: 100000, size: 65536 }], gidMap: [{ containerId: 0, hostId: 100000, size: 65536 }], setgroups: 'allow' });
});

test('kernelAtLeast: mount_setattr (recursive read-only binds) from 5.12', async () => {
  const { kernelAtLeast } = await import('../../../src/storage/driver.js');
  assert.equal(kernelAtLeast(5, 12, '5.12.0-1-amd64'), true);
  assert.equal(kernelAtLeast(5, 12, '6.1.0'), true);
  assert.equal(kernelAtLeast(5, 12, '5.11.22'), false);
  assert.equal(kernelAtLeast(5, 12, '4.19.0-27-amd64'), false);
});
