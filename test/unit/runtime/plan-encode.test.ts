import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecStep, PLAN_FORMAT_VERSION, encodePlan, splitFields } from '../../../src/runtime/plan-encode.js';
import { CLONE, MS, type ExecPlan } from '../../../src/runtime/plan-types.js';
import { MONITOR_TIMING } from '../../../src/runtime/monitor.js';

const base = (): ExecPlan => ({
  cloneFlags: CLONE.NEWNS | CLONE.NEWPID,
  init: false,
  steps: [],
  process: {
    args: ['sh', '-c', 'echo hi'],
    candidates: ['/bin/sh'],
    env: ['PATH=/bin', 'A=b c'],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    noNewPrivileges: false,
    capabilities: { bounding: 0xa80425fbn, effective: 0xa80425fbn, permitted: 0xa80425fbn, inheritable: 0n, ambient: 0n },
    rlimits: [],
    terminal: false,
  },
});

const strings = (buf: Buffer) => splitFields(buf).map((b) => b.toString('utf8'));

/** the record starting at the first occurrence of `keyword`, with `n` fields */
const record = (fields: string[], keyword: string, n: number, from = 0) => {
  const i = fields.indexOf(keyword, from);
  assert.ok(i >= 0, `record ${keyword} present`);
  return fields.slice(i + 1, i + 1 + n);
};

describe('runtime/plan-encode', () => {
  it('preserve: the executor fds to hand on as 3.., only when some are given, in range', () => {
    assert.ok(!strings(encodePlan(base())).includes('preserve'));
    assert.ok(!strings(encodePlan({ ...base(), process: { ...base().process, preserveFds: { from: 5, count: 0 } } })).includes('preserve'));
    const f = strings(encodePlan({ ...base(), process: { ...base().process, preserveFds: { from: 5, count: 2 } } }));
    assert.deepEqual(record(f, 'preserve', 2), ['5', '2']);
    assert.throws(() => encodePlan({ ...base(), process: { ...base().process, preserveFds: { from: 3, count: 1 } } }), /preserveFds from/);
  });
  it('hold: one record, only without monitor or join', () => {
    assert.ok(!strings(encodePlan(base())).includes('hold'));
    const f = strings(encodePlan({ ...base(), hold: true }));
    assert.deepEqual(record(f, 'hold', 1), ['1']);
    assert.throws(() => encodePlan({ ...base(), hold: true, join: { pid: 1, namespaces: ['mnt'] }, cloneFlags: 0 }), /hold cannot be combined/);
  });

  it('netstrings: magic + version first, end last, length-prefixed', () => {
    const buf = encodePlan(base());
    assert.ok(buf.toString('latin1').startsWith(`11:tsdock-plan,1:${PLAN_FORMAT_VERSION},`));
    assert.ok(buf.toString('latin1').endsWith('3:end,'));
    const f = strings(buf);
    assert.deepEqual(record(f, 'clone', 1), [String(CLONE.NEWNS | CLONE.NEWPID)]);
    assert.deepEqual(record(f, 'init', 1), ['0']);
    assert.deepEqual(record(f, 'user', 2), ['0', '0']);
    assert.deepEqual(record(f, 'cwd', 1), ['/']);
    // argv and env in order, one record each
    const args = f.flatMap((v, i) => (v === 'arg' ? [f[i + 1]] : []));
    assert.deepEqual(args, ['sh', '-c', 'echo hi']);
    const env = f.flatMap((v, i) => (v === 'env' ? [f[i + 1]] : []));
    assert.deepEqual(env, ['PATH=/bin', 'A=b c']);
  });

  it('capability masks and rlimits as unsigned decimal (RLIM_INFINITY included)', () => {
    const plan = base();
    plan.process.capabilities.ambient = 1n << 40n;
    plan.process.rlimits = [{ resource: 7, soft: 1024n, hard: (1n << 64n) - 1n }];
    const f = strings(encodePlan(plan));
    assert.deepEqual(record(f, 'caps', 5), [String(0xa80425fb), String(0xa80425fb), String(0xa80425fb), '0', String(1n << 40n)]);
    assert.deepEqual(record(f, 'rlimit', 3), ['7', '1024', '18446744073709551615']);
  });

  it('steps: op, pair count, key/value pairs; label stays in TypeScript', () => {
    const plan = base();
    plan.steps = [
      { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NODEV, data: '', root: '/r', create: 'dir', optional: true, label: 'proc' },
      { op: 'mkdir', path: '/a/b', mode: 0o755, uid: 1000 },
      { op: 'write', path: '/proc/sys/x', data: '1\n' },
      { op: 'pivot_root', root: '/r' },
    ];
    const f = strings(encodePlan(plan));
    const i = f.indexOf('step');
    assert.deepEqual(f.slice(i, i + 3), ['step', 'mount', '8']);
    assert.deepEqual(f.slice(i + 3, i + 19), ['source', 'proc', 'target', '/proc', 'fstype', 'proc', 'flags', String(MS.NOSUID | MS.NODEV), 'data', '', 'root', '/r', 'create', 'dir', 'optional', '1']);
    assert.equal(f.includes('label'), false);
    assert.deepEqual(record(f, 'step', 6, i + 1), ['mkdir', '3', 'path', '/a/b', 'mode', String(0o755)]);
    const w = f.indexOf('write');
    assert.deepEqual(f.slice(w - 1, w + 6), ['step', 'write', '2', 'path', '/proc/sys/x', 'data', '1\n']);
    assert.deepEqual(record(f, 'pivot_root', 3), ['1', 'root', '/r']);
  });

  it('a mount step with recursiveAttrs ends with the attrs pair', () => {
    const plan = base();
    plan.steps = [{ op: 'mount', source: '', target: '/x', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: '', root: '/r', recursiveAttrs: 1 }];
    const f = strings(encodePlan(plan));
    const i = f.indexOf('step');
    assert.deepEqual(f.slice(i, i + 3), ['step', 'mount', '7']);
    assert.deepEqual(f.slice(i + 15, i + 17), ['attrs', '1']);
  });

  it('id maps: write kind and commands kind', () => {
    const plan = base();
    plan.cloneFlags |= CLONE.NEWUSER;
    plan.idMaps = { kind: 'write', setgroups: 'deny', uidMap: [{ containerId: 0, hostId: 1001, size: 1 }], gidMap: [{ containerId: 0, hostId: 1001, size: 1 }] };
    let f = strings(encodePlan(plan));
    assert.deepEqual(record(f, 'setgroups', 1), ['deny']);
    assert.deepEqual(record(f, 'uidmap', 3), ['0', '1001', '1']);
    assert.deepEqual(record(f, 'gidmap', 3), ['0', '1001', '1']);
    plan.idMaps = { kind: 'commands', uidCommand: ['newuidmap', '{pid}', '0', '1001', '1'], gidCommand: ['newgidmap', '{pid}', '0', '1001', '1'] };
    f = strings(encodePlan(plan));
    assert.deepEqual(record(f, 'uidcmd', 6), ['5', 'newuidmap', '{pid}', '0', '1001', '1']);
    assert.deepEqual(record(f, 'gidcmd', 6), ['5', 'newgidmap', '{pid}', '0', '1001', '1']);
  });

  it('seccomp bytes travel raw, with their flags', () => {
    const plan = base();
    const prog = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x06, 0, 0, 0, 0x2c, 0x01, 0, 0]); // includes ',' and NUL
    plan.process.seccomp = prog;
    plan.process.seccompFlags = 2;
    const fields = splitFields(encodePlan(plan));
    const i = fields.findIndex((b) => b.toString() === 'seccomp');
    assert.equal(fields[i + 1]!.toString(), '2');
    assert.deepEqual(fields[i + 2], prog);
  });

  it('optional process fields: umask, oomscoreadj, pidfile, init, terminal', () => {
    const plan = base();
    plan.process.umask = 0o027;
    plan.process.oomScoreAdj = -500;
    plan.process.terminal = true;
    plan.process.additionalGids = [10, 20];
    plan.pidFile = '/run/x.pid';
    plan.init = true;
    const f = strings(encodePlan(plan));
    assert.deepEqual(record(f, 'umask', 1), [String(0o027)]);
    assert.deepEqual(record(f, 'oomscoreadj', 1), ['-500']);
    assert.deepEqual(record(f, 'terminal', 1), ['1']);
    assert.deepEqual(record(f, 'pidfile', 1), ['/run/x.pid']);
    assert.deepEqual(record(f, 'init', 1), ['1']);
    assert.deepEqual(f.flatMap((v, i) => (v === 'addgid' ? [f[i + 1]] : [])), ['10', '20']);
  });

  it('refuses what C cannot carry: NUL bytes, non-integers, out-of-range masks, bad seccomp sizes, empty argv', () => {
    const withArgs = (args: string[]) => ({ ...base(), process: { ...base().process, args } });
    assert.throws(() => encodePlan(withArgs(['a\0b'])), /NUL/);
    assert.throws(() => encodePlan(withArgs([])), /args is empty/);
    const p1 = base();
    p1.process.uid = 1.5;
    assert.throws(() => encodePlan(p1), /uid/);
    const p2 = base();
    p2.process.capabilities.bounding = 1n << 64n;
    assert.throws(() => encodePlan(p2), /bounding/);
    const p3 = base();
    p3.process.seccomp = Buffer.alloc(7);
    assert.throws(() => encodePlan(p3), /seccomp/);
    const p4 = base();
    p4.steps = [{ op: 'mount', source: 'x', target: '/y', fstype: '', flags: -1, data: '' }];
    assert.throws(() => encodePlan(p4), /flags/);
  });

  it('cgroup records: one cgroupprocs per file, cgroupdir, a monitor oomfile; relative paths refused', () => {
    const plan = { ...base(), cgroupProcs: ['/sys/fs/cgroup/memory/tsdock/a/cgroup.procs', '/sys/fs/cgroup/pids/tsdock/a/cgroup.procs'], cgroupDir: '/sys/fs/cgroup/tsdock/a' };
    const f = strings(encodePlan({ ...plan, monitor: { logPath: '/l', logMaxSize: 0, exitFile: '/e', keepStdin: false, oomFile: '/sys/fs/cgroup/tsdock/a/memory.events', timing: MONITOR_TIMING } }));
    assert.deepEqual(record(f, 'cgroupprocs', 1), ['/sys/fs/cgroup/memory/tsdock/a/cgroup.procs']);
    assert.deepEqual(record(f, 'cgroupprocs', 1, f.indexOf('cgroupprocs') + 1), ['/sys/fs/cgroup/pids/tsdock/a/cgroup.procs']);
    assert.deepEqual(record(f, 'cgroupdir', 1), ['/sys/fs/cgroup/tsdock/a']);
    assert.deepEqual(record(f, 'oomfile', 1), ['/sys/fs/cgroup/tsdock/a/memory.events']);
    assert.throws(() => encodePlan({ ...base(), cgroupProcs: ['cgroup.procs'] }), /absolute/);
    assert.throws(() => encodePlan({ ...base(), cgroupDir: 'x' }), /absolute/);
  });

  it('relay record: stdin, merge, drain bound; refused with a terminal or a monitor', () => {
    const f = strings(encodePlan({ ...base(), relay: { stdin: true, merge: false, drainMs: 2000 } }));
    assert.deepEqual(record(f, 'relay', 3), ['1', '0', '2000']);
    assert.ok(!strings(encodePlan(base())).includes('relay'));
    assert.throws(() => encodePlan({ ...base(), process: { ...base().process, terminal: true }, relay: { stdin: true, merge: true, drainMs: 0 } }), /relay/);
    assert.throws(() => encodePlan({ ...base(), monitor: { logPath: '/l', logMaxSize: 0, exitFile: '/e', keepStdin: false }, relay: { stdin: false, merge: false, drainMs: 0 } }), /relay/);
  });

  it('relaylog record: the log path and its rotation size after relay; an absolute path only, never for an exec', () => {
    const f = strings(encodePlan({ ...base(), relay: { stdin: false, merge: true, drainMs: 0, log: { path: '/c/ctr.log', maxSize: 2048 } } }));
    assert.deepEqual(record(f, 'relaylog', 2), ['/c/ctr.log', '2048']);
    assert.ok(f.indexOf('relaylog') > f.indexOf('relay'));
    assert.ok(!strings(encodePlan({ ...base(), relay: { stdin: false, merge: true, drainMs: 0 } })).includes('relaylog'));
    assert.throws(() => encodePlan({ ...base(), relay: { stdin: false, merge: true, drainMs: 0, log: { path: 'ctr.log', maxSize: 0 } } }), /absolute/);
  });

  it('helper record: ready FIFO, log, timeout and argv; only with a new network namespace', () => {
    const helper = { argv: ['pasta', '--netns', '{netns}'], ready: '/c/pasta.ready', log: '/c/pasta.log', timeoutMs: 10_000 };
    const f = strings(encodePlan({ ...base(), cloneFlags: CLONE.NEWNS | CLONE.NEWNET, helper }));
    assert.deepEqual(record(f, 'helper', 7), ['/c/pasta.ready', '/c/pasta.log', '10000', '3', 'pasta', '--netns', '{netns}']);
    assert.throws(() => encodePlan({ ...base(), helper }), /needs a new network namespace/);
    assert.throws(() => encodePlan({ ...base(), cloneFlags: CLONE.NEWNET, helper: { ...helper, ready: 'pasta.ready' } }), /absolute/);
    assert.throws(() => encodePlan({ ...base(), cloneFlags: CLONE.NEWNET, helper: { ...helper, argv: [] } }), /1 to 1024 arguments/);
  });

  it('splitFields rejects malformed input', () => {
    assert.throws(() => splitFields(Buffer.from('3:ab,')), /malformed/);
    assert.throws(() => splitFields(Buffer.from('x:ab,')), /malformed/);
    assert.deepEqual(splitFields(Buffer.from('0:,2:ab,')).map(String), ['', 'ab']);
  });

  it('ExecStep numbers are distinct and negative', () => {
    const values = Object.values(ExecStep);
    assert.equal(new Set(values).size, values.length);
    assert.ok(values.every((v) => v < 0));
  });
});
