import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ContainerStartError, executorPath, parseStatusLine, startExecutor, type ExecutorOptions } from '../../../src/runtime/executor.js';
import { ExecStep } from '../../../src/runtime/plan-encode.js';
import { CLONE, MS, type ExecPlan, type IdMapPlan, type PlanStep } from '../../../src/runtime/plan-types.js';
import { attachTty } from '../../../src/runtime/tty.js';
import { openPty, setWinsize } from '../../../src/sys/pty.js';
import { collect, DOCKER_CAPS, haveBusybox, makeRootfs, testProcess, type RootfsFixture } from './rootfs-fixture.js';

const isRoot = process.getuid?.() === 0;
const built = fs.existsSync(executorPath());
const skip = !isRoot ? 'needs root' : !haveBusybox() ? 'needs /bin/busybox (busybox-static)' : !built ? 'native executor not built (npm run build)' : false;

const TEST_USER = { uid: 1001, gid: 1001 }; // tsdock-test, with subuid/subgid 100000:65536
const haveTestUser = fs.existsSync('/etc/subuid') && /^tsdock-test:100000:65536$/m.test(fs.readFileSync('/etc/subuid', 'utf8'));
const haveNewuidmap = fs.existsSync('/usr/bin/newuidmap') && fs.existsSync('/usr/bin/newgidmap');

interface PlanOptions {
  args: string[];
  cloneFlags?: number;
  init?: boolean;
  extraSteps?: PlanStep[];
  patch?: (p: ExecPlan) => void;
  idMaps?: IdMapPlan;
}

/** the ordinary steps: rprivate, bind the rootfs onto itself, /proc, a tmpfs /dev with /dev/null, pivot_root, hostname */
function setupSteps(root: string, extra: PlanStep[] = []): PlanStep[] {
  return [
    { op: 'propagation', path: '/', flags: MS.REC | MS.PRIVATE },
    { op: 'mount', source: root, target: root, fstype: '', flags: MS.BIND | MS.REC, data: '', label: 'bind rootfs' },
    { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: '', root },
    { op: 'mount', source: 'tmpfs', target: '/dev', fstype: 'tmpfs', flags: MS.NOSUID | MS.NOEXEC, data: 'mode=755', root },
    { op: 'mount', source: '/dev/null', target: '/dev/null', fstype: '', flags: MS.BIND, data: '', root, create: 'file' },
    ...extra,
    { op: 'pivot_root', root },
    { op: 'sethostname', name: 'tsdock-box' },
  ];
}

function makePlan(root: string, o: PlanOptions): ExecPlan {
  const plan: ExecPlan = {
    cloneFlags: o.cloneFlags ?? CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC,
    init: o.init ?? false,
    steps: setupSteps(root, o.extraSteps),
    process: testProcess(o.args),
  };
  if (o.idMaps) plan.idMaps = o.idMaps;
  o.patch?.(plan);
  return plan;
}

interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  signal?: number;
  pid?: number;
  error?: ContainerStartError;
  ms: number;
}


async function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout();
          reject(new Error(`${what}: timed out after ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(plan: ExecPlan, opts: Partial<ExecutorOptions> & { during?: (h: ReturnType<typeof startExecutor>) => Promise<void>; timeoutMs?: number } = {}): Promise<RunResult> {
  const t0 = performance.now();
  const h = startExecutor(plan, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const out = collect(h.stdout);
  const err = collect(h.stderr);
  const work = (async () => {
    let pid: number | undefined;
    let error: ContainerStartError | undefined;
    try {
      pid = await h.started;
      if (opts.during) await opts.during(h);
    } catch (e) {
      if (!(e instanceof ContainerStartError)) throw e;
      error = e;
    }
    const exit = await h.exited;
    const ms = performance.now() - t0;
    const r: RunResult = { stdout: await out, stderr: await err, exitCode: exit.exitCode, ms };
    if (exit.signal !== undefined) r.signal = exit.signal;
    if (pid !== undefined) r.pid = pid;
    if (error) r.error = error;
    return r;
  })();
  return withTimeout(work, opts.timeoutMs ?? 15000, `container ${plan.process.args.join(' ')}`, () => h.kill('SIGKILL'));
}

const sh = (script: string) => ['sh', '-c', script];

describe('runtime/executor (real kernel)', { skip }, () => {
  let fx: RootfsFixture;
  before(() => (fx = makeRootfs()));
  after(() => fx?.cleanup());

  it('runs a command: output, exit status, hostname, pid 1', async () => {
    const r = await run(makePlan(fx.dir, { args: sh('echo hi; echo pid=$$; hostname; exit 3') }));
    assert.equal(r.error, undefined);
    assert.equal(r.stdout, 'hi\npid=1\ntsdock-box\n');
    assert.equal(r.exitCode, 3);
    assert.ok(r.pid! > 1);
  });

  it('echo hi exits 0 and the init pid is reported', async () => {
    const r = await run(makePlan(fx.dir, { args: ['echo', 'hi'] }));
    assert.deepEqual([r.stdout, r.exitCode], ['hi\n', 0]);
  });

  it('no host fd reaches the container: only 0 1 2 (and the fd ls opens)', async () => {
    const r = await run(makePlan(fx.dir, { args: ['ls', '/proc/self/fd'] }));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['0', '1', '2', '3']);
  });

  it('relay: the container gets pipes, never the host file given as stdin; EOF; the drain bound comes from the plan', async () => {
    const input = path.join(fx.dir, '..', `relay-in-${process.pid}`);
    fs.writeFileSync(input, 'from the host\n');
    const fd = fs.openSync(input, 'r');
    let leftover = 0;
    try {
      // no pid namespace: the background sleep outlives the init and holds stdout and stderr open
      const plan = makePlan(fx.dir, { args: sh('ls -l /proc/self/fd | grep -c pipe:; cat; sleep 5 & echo $! >&2'), cloneFlags: CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC });
      plan.relay = { stdin: true, merge: false, drainMs: 300 };
      const r = await run(plan, { stdio: [fd, 'pipe', 'pipe'] });
      leftover = Number(r.stderr.trim().split('\n').pop());
      assert.deepEqual([r.exitCode, r.stdout], [0, '3\nfrom the host\n'], r.stderr);
      assert.ok(leftover > 1, r.stderr);
      assert.ok(r.ms < 3000, `the drain waited ${r.ms} ms for the leftover process`);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(input, { force: true });
      if (leftover > 1) process.kill(leftover, 'SIGKILL');
    }
  });

  it("capabilities: CapEff/CapBnd equal the plan's masks; no_new_privs when asked", async () => {
    const plan = makePlan(fx.dir, { args: ['cat', '/proc/self/status'] });
    plan.process.noNewPrivileges = true;
    const r = await run(plan);
    assert.equal(r.exitCode, 0, r.stderr);
    const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)$`, 'm').exec(r.stdout)?.[1];
    assert.equal(BigInt(`0x${field('CapEff')}`), DOCKER_CAPS);
    assert.equal(BigInt(`0x${field('CapPrm')}`), DOCKER_CAPS);
    assert.equal(BigInt(`0x${field('CapBnd')}`), DOCKER_CAPS);
    assert.equal(BigInt(`0x${field('CapAmb')}`), 0n);
    assert.equal(field('NoNewPrivs'), '1');

    const r2 = await run(makePlan(fx.dir, { args: ['cat', '/proc/self/status'] }));
    assert.match(r2.stdout, /^NoNewPrivs:\s+0$/m);
  });

  it('a non-root user: ids, supplementary groups, no effective capabilities, cwd, umask, rlimits', async () => {
    const plan = makePlan(fx.dir, { args: sh('id -u; id -g; id -G; grep CapEff /proc/self/status; pwd; umask; grep "open files" /proc/self/limits') });
    Object.assign(plan.process, { uid: 1000, gid: 1000, additionalGids: [1000, 10], cwd: '/home/app', umask: 0o027 });
    plan.process.capabilities = { bounding: DOCKER_CAPS, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };
    plan.process.rlimits = [{ resource: 7 /* RLIMIT_NOFILE */, soft: 512n, hard: 1024n }];
    const r = await run(plan);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['1000', '1000', '1000 10']);
    assert.match(lines[3]!, /CapEff:\s+0000000000000000/);
    assert.equal(lines[4], '/home/app');
    assert.equal(lines[5], '0027');
    assert.match(lines[6]!, /^Max open files\s+512\s+1024\s+files/);
  });

  it('exec failures: 127 with docker\'s "not found in $PATH", 126 for a non-executable file', async () => {
    const r = await run(makePlan(fx.dir, { args: ['no-such-command'] }));
    assert.ok(r.error instanceof ContainerStartError);
    assert.equal(r.error.message, 'exec: "no-such-command": executable file not found in $PATH');
    assert.deepEqual([r.error.code, r.error.step, r.error.errno, r.exitCode], [127, ExecStep.exec, os.constants.errno.ENOENT, 127]);

    const r2 = await run(makePlan(fx.dir, { args: ['/etc/not-executable'] }));
    assert.equal(r2.error?.message, 'exec: "/etc/not-executable": permission denied');
    assert.deepEqual([r2.error?.code, r2.exitCode], [126, 126]);

    const r3 = await run(makePlan(fx.dir, { args: ['/nonexistent'] }));
    assert.equal(r3.error?.message, 'exec: "/nonexistent": stat /nonexistent: no such file or directory');
    assert.equal(r3.exitCode, 127);
  });

  it('a failing step reports its index and errno; optional steps and masks of missing paths pass', async () => {
    const extra: PlanStep[] = [
      { op: 'mount', source: 'tmpfs', target: '/missing', fstype: 'tmpfs', flags: 0, data: '', root: fx.dir, optional: true },
      { op: 'mount', source: '/nonexistent-source', target: '/tmp', fstype: '', flags: MS.BIND, data: '', root: fx.dir, label: 'bind volume /nonexistent-source' },
    ];
    const plan = makePlan(fx.dir, { args: ['true'], extraSteps: extra });
    const r = await run(plan);
    const index = plan.steps.findIndex((s) => s.op === 'mount' && s.source === '/nonexistent-source');
    assert.ok(r.error instanceof ContainerStartError);
    assert.deepEqual([r.error.step, r.error.errno, r.error.code, r.exitCode], [index, os.constants.errno.ENOENT, 125, 125]);
    assert.equal(r.error.message, `error starting container: bind volume /nonexistent-source (step ${index}): no such file or directory (ENOENT)`);

    const plan2 = makePlan(fx.dir, { args: ['true'] });
    plan2.steps.push({ op: 'mask', path: '/no/such/path' }, { op: 'mask', path: '/proc/kcore' }, { op: 'readonly', path: '/proc/sys' }, { op: 'readonly', path: '/nope' });
    const r2 = await run(plan2);
    assert.equal(r2.error, undefined, r2.error?.message);
    assert.equal(r2.exitCode, 0);
  });

  it('masks and read-only paths take effect', async () => {
    const plan = makePlan(fx.dir, { args: sh('wc -c < /proc/timer_list; ls /proc/acpi 2>&1 | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo ro') });
    plan.steps.push({ op: 'mask', path: '/proc/timer_list' }, { op: 'mask', path: '/proc/acpi' }, { op: 'readonly', path: '/proc/sys' });
    const r = await run(plan);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '0', 'ro']);
  });

  it('mkdir/mount inside the root never follow a symlink out of it', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-outside-'));
    fs.symlinkSync(outside, path.join(fx.dir, 'evil')); // absolute: means <root>/tmp/tsdock-outside-… in the container
    fs.symlinkSync('../../../../../../..', path.join(fx.dir, 'evil-rel')); // climbs no higher than the root
    try {
      const extra: PlanStep[] = [
        { op: 'mkdir', path: '/evil/made', mode: 0o750, root: fx.dir, uid: 1000, gid: 1000 },
        { op: 'mkdir', path: '/evil-rel/tmp/escaped', mode: 0o755, root: fx.dir },
        { op: 'mount', source: 'tmpfs', target: '/evil/mnt', fstype: 'tmpfs', flags: 0, data: '', root: fx.dir, create: 'dir' },
      ];
      // the link's target does not exist inside the root: it is created there (as docker does), never on the host
      const r = await run(makePlan(fx.dir, { args: ['true'], extraSteps: extra }));
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(fs.readdirSync(outside), []);
      assert.equal(fs.existsSync('/tmp/escaped'), false);
      const st = fs.statSync(path.join(fx.dir, outside, 'made'));
      assert.deepEqual([st.isDirectory(), st.mode & 0o7777, st.uid, st.gid], [true, 0o750, 1000, 1000]);
      assert.ok(fs.statSync(path.join(fx.dir, outside, 'mnt')).isDirectory());
      assert.ok(fs.statSync(path.join(fx.dir, 'tmp', 'escaped')).isDirectory());
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
      fs.rmSync(path.join(fx.dir, 'evil'));
      fs.rmSync(path.join(fx.dir, 'evil-rel'));
      fs.rmSync(path.join(fx.dir, 'tmp'), { recursive: true, force: true });
      fs.mkdirSync(path.join(fx.dir, 'tmp'));
      fs.chmodSync(path.join(fx.dir, 'tmp'), 0o1777);
    }
  });

  it('a bind onto a dangling symlink lands on its target inside the root, not on the host', async () => {
    const hostFile = path.join(os.tmpdir(), `tsdock-shadow-${process.pid}`);
    fs.writeFileSync(hostFile, 'host\n');
    fs.symlinkSync(hostFile, path.join(fx.dir, 'evil-file'));
    const payload = path.join(os.tmpdir(), `tsdock-payload-${process.pid}`);
    fs.writeFileSync(payload, 'payload\n');
    try {
      const extra: PlanStep[] = [{ op: 'mount', source: payload, target: '/evil-file', fstype: '', flags: 4096, data: '', root: fx.dir, create: 'file' }];
      const r = await run(makePlan(fx.dir, { args: sh(`cat ${hostFile}`), extraSteps: extra }));
      assert.equal(r.error, undefined, r.error?.message);
      assert.equal(r.stdout, 'payload\n');
      assert.equal(fs.readFileSync(hostFile, 'utf8'), 'host\n');
    } finally {
      fs.rmSync(path.join(fx.dir, 'evil-file'), { force: true });
      fs.rmSync(path.join(fx.dir, hostFile.slice(1)), { force: true });
      fs.rmSync(hostFile, { force: true });
      fs.rmSync(payload, { force: true });
    }
  });

  it('symlink, mknod, write and chdir steps', async () => {
    const extra: PlanStep[] = [
      { op: 'symlink', target: '/proc/self/fd', path: path.join(fx.dir, 'dev', 'fd') },
      { op: 'mknod', path: path.join(fx.dir, 'dev', 'zero'), mode: fs.constants.S_IFCHR | 0o666, major: 1, minor: 5, uid: 0, gid: 0 },
      { op: 'write', path: '/proc/self/oom_score_adj', data: '123' },
      { op: 'chdir', path: fx.dir },
    ];
    const r = await run(makePlan(fx.dir, { args: sh('readlink /dev/fd; head -c 4 /dev/zero | wc -c; cat /proc/self/oom_score_adj'), extraSteps: extra }));
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.stdout.trim().split('\n'), ['/proc/self/fd', '4', '123']);
  });

  it('oomScoreAdj is applied to the process', async () => {
    const plan = makePlan(fx.dir, { args: ['cat', '/proc/self/oom_score_adj'] });
    plan.process.oomScoreAdj = 500;
    const r = await run(plan);
    assert.equal(r.stdout, '500\n', r.error?.message);
  });

  it('hold: runs the steps, reports the pid, runs no command, and exits 0 once stdin closes', async () => {
    const marker = `held-${process.pid}`;
    const plan = makePlan(fx.dir, { args: sh(`touch /${marker}`), patch: (p) => (p.hold = true) });
    const h = startExecutor(plan, { stdio: ['pipe', 'ignore', 'pipe'] });
    try {
      const pid = await withTimeout(h.started, 10_000, 'hold', () => h.kill('SIGKILL'));
      // the mounts are there, seen through /proc/<pid>/root: its own procfs and hostname
      assert.ok(fs.existsSync(`/proc/${pid}/root/bin/busybox`));
      assert.deepEqual(fs.readdirSync(`/proc/${pid}/root/proc`).filter((n) => /^\d+$/.test(n)), ['1'], 'its own pid namespace and procfs');
      assert.ok(fs.existsSync(`/proc/${pid}/root/dev/null`));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(fs.existsSync(`/proc/${pid}`), 'still holding');
      h.stdin!.end();
      const exit = await withTimeout(h.exited, 5000, 'hold exit', () => h.kill('SIGKILL'));
      assert.equal(exit.exitCode, 0);
      assert.ok(!fs.existsSync(path.join(fx.dir, marker)), 'the command never ran');
    } finally {
      h.kill('SIGKILL');
    }
  });

  it('a pid file holds the host pid of the init', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-pidfile-'));
    try {
      const plan = makePlan(fx.dir, { args: ['true'] });
      plan.pidFile = path.join(dir, 'init.pid');
      const r = await run(plan);
      assert.equal(r.exitCode, 0);
      assert.equal(fs.readFileSync(plan.pidFile, 'utf8'), String(r.pid));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seccomp: the filter is loaded last and enforced', { skip: process.arch !== 'x64' && 'BPF program written for x86_64' }, async () => {
    // ld [0] (nr); jeq #170 (sethostname) → ret ERRNO(EPERM); ret ALLOW. (A real filter checks the arch too.)
    const ins = (code: number, jt: number, jf: number, k: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(code, 0);
      b.writeUInt8(jt, 2);
      b.writeUInt8(jf, 3);
      b.writeUInt32LE(k >>> 0, 4);
      return b;
    };
    const prog = Buffer.concat([ins(0x20, 0, 0, 0), ins(0x15, 0, 1, 170), ins(0x06, 0, 0, 0x00050000 | 1), ins(0x06, 0, 0, 0x7fff0000)]);
    for (const noNewPrivileges of [true, false]) {
      const plan = makePlan(fx.dir, { args: sh('grep -E "^Seccomp:" /proc/self/status; hostname other 2>&1; hostname') });
      plan.process.seccomp = prog;
      plan.process.noNewPrivileges = noNewPrivileges;
      const r = await run(plan);
      assert.equal(r.error, undefined, r.error?.message);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0]!, /^Seccomp:\s+2$/);
      assert.match(lines[1]!, /Operation not permitted/);
      assert.equal(lines[2], 'tsdock-box');
    }
  });

  it('signals sent to the executor reach the container: sleep killed by SIGTERM → 143', async () => {
    // without a pid namespace: as pid 1, sleep would ignore SIGTERM (no handler), as in docker
    const plan = makePlan(fx.dir, { args: ['sleep', '100'], cloneFlags: CLONE.NEWNS | CLONE.NEWUTS });
    const r = await run(plan, {
      during: async (h) => {
        await new Promise((res) => setTimeout(res, 50));
        assert.equal(h.kill('SIGTERM'), true);
      },
    });
    assert.deepEqual([r.exitCode, r.signal], [143, 15]);
    assert.ok(r.ms < 5000);
  });

  it('--init: the reaper is pid 1, forwards SIGTERM and exits with the command status', async () => {
    const r = await run(makePlan(fx.dir, { args: sh('echo $$; cat /proc/1/comm; exit 7'), init: true }));
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.stdout.trim().split('\n'), ['2', 'tsdock-exec']);
    assert.equal(r.exitCode, 7);

    const r2 = await run(makePlan(fx.dir, { args: ['sleep', '100'], init: true }), {
      during: async (h) => {
        await new Promise((res) => setTimeout(res, 50));
        h.kill('SIGTERM');
      },
    });
    assert.equal(r2.exitCode, 143);
  });

  it('--init reaps orphans (no zombies left)', async () => {
    // the subshell exits at once; its `sleep 0.1` is orphaned to pid 1, exits, and must be reaped
    const script = '(sleep 0.1 &); sleep 0.6; for f in /proc/[0-9]*/stat; do cat $f; echo; done';
    const r = await run(makePlan(fx.dir, { args: sh(script), init: true }));
    assert.equal(r.error, undefined, r.error?.message);
    const states = r.stdout.trim().split('\n').map((l) => /\) (\S) /.exec(l)?.[1]);
    assert.ok(states.length >= 2, r.stdout);
    assert.ok(!states.includes('Z'), `zombie found:\n${r.stdout}`);
  });

  it('-t: the pty slave becomes the controlling terminal; attachTty copies output and drains it', async () => {
    const pty = openPty();
    setWinsize(pty.master, 30, 100);
    const plan = makePlan(fx.dir, { args: sh('test -t 0 && echo TTY; stty size; echo done') });
    plan.process.terminal = true;
    const h = startExecutor(plan, { stdio: [pty.slave, pty.slave, pty.slave] });
    fs.closeSync(pty.slave);
    const sink = new PassThrough();
    const out = collect(sink);
    const session = attachTty({ master: pty.master, stdout: sink, interactive: false, exited: h.exited });
    await withTimeout(session.done, 10000, 'tty session', () => h.kill('SIGKILL'));
    sink.end();
    assert.ok((await h.started) > 0);
    assert.equal((await h.exited).exitCode, 0);
    assert.equal(await out, 'TTY\r\n30 100\r\ndone\r\n');
  });

  it('-i -t: stdin goes through the pty; raw mode while attached; the window size follows resize events', async () => {
    const pty = openPty();
    const plan = makePlan(fx.dir, { args: ['sh'] });
    plan.process.terminal = true;
    const h = startExecutor(plan, { stdio: [pty.slave, pty.slave, pty.slave] });
    fs.closeSync(pty.slave);
    // a fake terminal on both ends: stdin with setRawMode, stdout with rows/columns and 'resize'
    const rawCalls: boolean[] = [];
    const input = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, setRawMode: (m: boolean) => rawCalls.push(m) });
    const sink = Object.assign(new PassThrough(), { isTTY: true, rows: 25, columns: 81 });
    let seen = '';
    sink.on('data', (d: Buffer) => (seen += d.toString()));
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!re.test(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.match(seen, re);
    };
    const session = attachTty({ master: pty.master, stdin: input, stdout: sink, interactive: true, exited: h.exited });
    assert.deepEqual(rawCalls, [true]);
    input.write('echo from-$((6*7)); stty size\n');
    await waitFor(/from-42\r\n25 81\r\n/);
    sink.rows = 40;
    sink.columns = 100;
    sink.emit('resize');
    input.write('stty size; exit 5\n');
    await withTimeout(session.done, 10000, 'tty session', () => h.kill('SIGKILL'));
    assert.equal((await h.exited).exitCode, 5);
    assert.match(seen, /\r\n40 100\r\n/);
    assert.deepEqual(rawCalls, [true, false]);
  });

  it('a plan the executor cannot parse is reported as step -4', async () => {
    const child = spawn(executorPath(), [], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    (child.stdio[3] as NodeJS.WritableStream).end('11:tsdock-plan,2:99,3:end,');
    const status = await collect(child.stdio[4] as NodeJS.ReadableStream);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    assert.deepEqual(parseStatusLine(status), { kind: 'error', step: ExecStep.plan, errno: os.constants.errno.EPROTO });
    assert.equal(code, 125);
  });

  it('aborting kills the executor and, through the parent-death signal, the container', async () => {
    const ac = new AbortController();
    const h = startExecutor(makePlan(fx.dir, { args: ['sleep', '100'] }), { stdio: ['ignore', 'ignore', 'ignore'], signal: ac.signal });
    const initPid = await h.started;
    ac.abort();
    const exit = await withTimeout(h.exited, 5000, 'abort', () => h.kill('SIGKILL'));
    assert.deepEqual(exit, { exitCode: 137, signal: 9 });
    const deadline = Date.now() + 3000;
    while (fs.existsSync(`/proc/${initPid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fs.existsSync(`/proc/${initPid}`), false, 'the container init is gone');
  });

  it('300 consecutive starts of `true` in 2 concurrent loops: none hangs', async (t) => {
    const times: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 300; i++) {
        const r = await run(makePlan(fx.dir, { args: ['true'] }), { stdio: ['ignore', 'ignore', 'ignore'], timeoutMs: 10000 });
        assert.equal(r.exitCode, 0, r.error?.message);
        times.push(r.ms);
      }
    };
    const t0 = performance.now();
    await Promise.all([loop(), loop()]);
    const wall = performance.now() - t0;
    times.sort((a, b) => a - b);
    const avg = times.reduce((a, b) => a + b, 0) / times.length;
    const msg = `600 starts: median ${times[300]!.toFixed(1)} ms, mean ${avg.toFixed(1)} ms, p99 ${times[594]!.toFixed(1)} ms, max ${times[599]!.toFixed(1)} ms; wall ${(wall / 1000).toFixed(1)} s`;
    t.diagnostic(msg);
    console.log(msg);
  });
});

describe('runtime/executor rootless (user tsdock-test, uid 1001)', { skip: skip || (!haveTestUser ? 'needs user tsdock-test with subuid 100000:65536' : !haveNewuidmap ? 'needs newuidmap/newgidmap (uidmap)' : false) }, () => {
  let fx: RootfsFixture;
  before(() => (fx = makeRootfs({ owner: TEST_USER })));
  after(() => fx?.cleanup());
  const flags = CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC;
  const script = sh('id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; hostname; echo pid=$$');

  it('CLONE_NEWUSER with newuidmap/newgidmap: root inside, the subuid range mapped', async () => {
    const idMaps: IdMapPlan = {
      kind: 'commands',
      uidCommand: ['newuidmap', '{pid}', '0', '1001', '1', '1', '100000', '65536'],
      gidCommand: ['newgidmap', '{pid}', '0', '1001', '1', '1', '100000', '65536'],
    };
    const r = await run(makePlan(fx.dir, { args: script, cloneFlags: flags, idMaps }), TEST_USER);
    assert.equal(r.error, undefined, `${r.error?.message}\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0', '0', '0 1001 1', '1 100000 65536', '0 1001 1', '1 100000 65536', 'tsdock-box', 'pid=1']);
    assert.equal(r.exitCode, 0);
  });

  it('CLONE_NEWUSER with a single mapping written directly (setgroups deny)', async () => {
    const idMaps: IdMapPlan = { kind: 'write', setgroups: 'deny', uidMap: [{ containerId: 0, hostId: 1001, size: 1 }], gidMap: [{ containerId: 0, hostId: 1001, size: 1 }] };
    const r = await run(makePlan(fx.dir, { args: sh('id -u; cat /proc/self/uid_map /proc/self/setgroups'), cloneFlags: flags, idMaps }), TEST_USER);
    assert.equal(r.error, undefined, `${r.error?.message}\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0', '0 1001 1', 'deny']);
  });

  it('a failing newuidmap is reported as the uid map step', async () => {
    const idMaps: IdMapPlan = {
      kind: 'commands',
      uidCommand: ['newuidmap', '{pid}', '0', '5000', '1'], // not ours
      gidCommand: ['newgidmap', '{pid}', '0', '1001', '1'],
    };
    const r = await run(makePlan(fx.dir, { args: ['true'], cloneFlags: flags, idMaps }), TEST_USER);
    assert.equal(r.error?.step, ExecStep.uidMap);
    assert.equal(r.exitCode, 125);
    assert.match(r.error!.message, /^error starting container: writing the uid map \(newuidmap\): /);
  });
});
