import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { joinPlan, namespacesOf, startDetachedExec } from '../../../src/runtime/exec-join.js';
import { ContainerStartError, executorPath, startExecutor, type ExecutorOptions } from '../../../src/runtime/executor.js';
import { startMonitor } from '../../../src/runtime/monitor.js';
import { ExecStep, encodePlan, splitFields } from '../../../src/runtime/plan-encode.js';
import { CLONE, type ExecPlan, type JoinNamespace } from '../../../src/runtime/plan-types.js';
import { attachTty } from '../../../src/runtime/tty.js';
import { openPty } from '../../../src/sys/pty.js';
import { collect, haveBusybox, makeRootfs, testPlan, testProcess, type RootfsFixture } from './rootfs-fixture.js';

const isRoot = process.getuid?.() === 0;
const built = fs.existsSync(executorPath());
const skip = !isRoot ? 'needs root' : !haveBusybox() ? 'needs /bin/busybox (busybox-static)' : !built ? 'native executor not built (npm run build)' : false;

const sh = (script: string) => ['sh', '-c', script];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONTAINER_NS: JoinNamespace[] = ['pid', 'mnt', 'uts', 'ipc'];

async function waitFor(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}


interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  pid?: number;
  error?: ContainerStartError;
}

/** a foreground exec: output piped, exit code as the CLI would report it */
async function run(plan: ExecPlan, opts: Partial<ExecutorOptions> & { during?: (h: ReturnType<typeof startExecutor>) => Promise<void> } = {}): Promise<RunResult> {
  const h = startExecutor(plan, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const out = collect(h.stdout);
  const err = collect(h.stderr);
  const timer = setTimeout(() => h.kill('SIGKILL'), 15000);
  const r: RunResult = { stdout: '', stderr: '', exitCode: -1 };
  try {
    r.pid = await h.started;
    if (opts.during) await opts.during(h);
  } catch (e) {
    if (!(e instanceof ContainerStartError)) throw e;
    r.error = e;
  }
  r.exitCode = (await h.exited).exitCode;
  clearTimeout(timer);
  r.stdout = await out;
  r.stderr = await err;
  return r;
}

describe('runtime/exec-join: plans', () => {
  it("namespacesOf lists a container's own namespaces in setns order (user first, mnt last)", () => {
    assert.deepEqual(namespacesOf(CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC), ['ipc', 'uts', 'pid', 'mnt']);
    assert.deepEqual(namespacesOf(CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWCGROUP), ['user', 'net', 'cgroup', 'mnt']);
    assert.deepEqual(namespacesOf(0), []);
  });

  it('the join record: pid, count, names sorted into setns order; nothing that only a new container may do', () => {
    const plan = joinPlan(testProcess(['true']), 1234, ['mnt', 'pid', 'user', 'uts']);
    const f = splitFields(encodePlan(plan)).map((b) => b.toString());
    const i = f.indexOf('join');
    assert.deepEqual(f.slice(i + 1, i + 7), ['1234', '4', 'user', 'uts', 'pid', 'mnt']);
    assert.deepEqual(f.slice(f.indexOf('clone') + 1, f.indexOf('clone') + 2), ['0']);
    assert.throws(() => encodePlan({ ...plan, cloneFlags: CLONE.NEWNS }), /no clone flags/);
    assert.throws(() => encodePlan({ ...plan, steps: [{ op: 'pivot_root', root: '/' }] }), /cannot carry a pivot_root step/);
    assert.throws(() => encodePlan({ ...plan, join: { pid: 1, namespaces: [] } }), /at least one namespace/);
    assert.throws(() => encodePlan({ ...plan, join: { pid: 1, namespaces: ['time' as JoinNamespace] } }), /unknown namespace/);
    encodePlan({ ...plan, steps: [{ op: 'chdir', path: '/tmp' }] });
  });
});

describe('runtime/exec-join (real kernel)', { skip }, () => {
  let fx: RootfsFixture;
  let dir: string;
  let target: { pid: number; monitorPid: number };
  const exitFile = () => path.join(dir, 'exit.json');

  before(async () => {
    fx = makeRootfs();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-exec-'));
    const plan = testPlan(fx.dir, ['sleep', '30'], { hostname: 'joined-box', monitor: { logPath: path.join(dir, 'ctr.log'), logMaxSize: 0, exitFile: exitFile(), keepStdin: false } });
    target = await startMonitor(plan);
  });
  after(async () => {
    if (target) {
      try {
        process.kill(target.pid, 'SIGKILL');
      } catch {}
      await waitFor('the container to end', () => fs.existsSync(exitFile())).catch(() => {});
    }
    fx?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs in the container: its hostname, a pid of its pid namespace, its root filesystem, its /proc", async () => {
    const r = await run(joinPlan(testProcess(sh('hostname; echo $$; ls /; cat /proc/1/cmdline | tr "\\0" " "; echo; readlink /proc/self/ns/uts')), target.pid, CONTAINER_NS));
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'joined-box');
    const innerPid = Number(lines[1]);
    assert.ok(innerPid > 1 && innerPid < 100, `a pid of the container's namespace: ${innerPid}`);
    assert.ok(r.pid! > 1 && r.pid !== innerPid, 'the reported pid is the host pid');
    assert.deepEqual(lines.slice(2, 10), ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp']);
    assert.equal(lines[10]!.trim(), 'sleep 30');
    assert.equal(lines[11], fs.readlinkSync(`/proc/${target.pid}/ns/uts`));
  });

  it('process setup as in run: user, groups, cwd, env, capabilities, no_new_privs', async () => {
    const proc = testProcess(sh('id -u; id -G; pwd; echo $FOO; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'));
    Object.assign(proc, { uid: 1000, gid: 1000, additionalGids: [1000, 10], cwd: '/home/app', noNewPrivileges: true });
    proc.env = [...proc.env, 'FOO=bar'];
    proc.capabilities = { ...proc.capabilities, effective: 0n, permitted: 0n };
    const r = await run(joinPlan(proc, target.pid, CONTAINER_NS));
    assert.equal(r.exitCode, 0, r.error?.message ?? r.stderr);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/\s+/g, ' ')),
      ['1000', '1000 10', '/home/app', 'bar', 'CapEff: 0000000000000000', 'NoNewPrivs: 1'],
    );
  });

  it('exit codes propagate: exit 5 → 5; a missing command → 127; a non-executable file → 126', async () => {
    const r = await run(joinPlan(testProcess(sh('exit 5')), target.pid, CONTAINER_NS));
    assert.deepEqual([r.error, r.exitCode], [undefined, 5]);

    const r2 = await run(joinPlan(testProcess(['no-such-command']), target.pid, CONTAINER_NS));
    assert.equal(r2.error?.message, 'exec: "no-such-command": executable file not found in $PATH');
    assert.deepEqual([r2.error?.step, r2.exitCode], [ExecStep.exec, 127]);

    const r3 = await run(joinPlan(testProcess(['/etc/not-executable']), target.pid, CONTAINER_NS));
    assert.equal(r3.exitCode, 126);
  });

  it('signals to the executor reach the process (it is not pid 1 there): SIGTERM → 143', async () => {
    const r = await run(joinPlan(testProcess(['sleep', '100']), target.pid, CONTAINER_NS), {
      during: async (h) => {
        await sleep(50);
        h.kill('SIGTERM');
      },
    });
    assert.equal(r.exitCode, 143);
  });

  it('a pid that is gone: the namespaces cannot be opened (step joinOpen, exit 125)', async () => {
    const r = await run(joinPlan(testProcess(['true']), 0x7ffffff0, CONTAINER_NS));
    assert.ok(r.error instanceof ContainerStartError);
    assert.deepEqual([r.error.step, r.error.errno, r.exitCode], [ExecStep.joinOpen, os.constants.errno.ENOENT, 125]);
    assert.match(r.error.message, /opening the namespaces of pid 2147483632 \(pid, mnt, uts, ipc\)/);
  });

  it('-t: the pty slave becomes the controlling terminal of the exec process', async () => {
    const pty = openPty();
    const proc = testProcess(sh('test -t 0 && echo TTY; tty >/dev/null && echo has-tty; exit 2'));
    proc.terminal = true;
    const h = startExecutor(joinPlan(proc, target.pid, CONTAINER_NS), { stdio: [pty.slave, pty.slave, pty.slave] });
    fs.closeSync(pty.slave);
    const sink = new PassThrough();
    const out = collect(sink);
    const session = attachTty({ master: pty.master, stdout: sink, interactive: false, exited: h.exited });
    await session.done;
    sink.end();
    assert.equal((await h.exited).exitCode, 2);
    assert.equal(await out, 'TTY\r\n');
  });

  it('exec -d: startDetachedExec returns once the process runs; it keeps running on its own', async () => {
    fs.rmSync(path.join(fx.dir, 'tmp', 'exec-d'), { force: true });
    const r = await startDetachedExec(joinPlan(testProcess(sh('sleep 0.2; echo $$ > /tmp/exec-d')), target.pid, CONTAINER_NS));
    assert.ok(r.pid > 1 && r.executorPid > 1);
    assert.equal(fs.existsSync(path.join(fx.dir, 'tmp', 'exec-d')), false);
    await waitFor('the detached exec', () => fs.existsSync(path.join(fx.dir, 'tmp', 'exec-d')) && fs.readFileSync(path.join(fx.dir, 'tmp', 'exec-d'), 'utf8').endsWith('\n'));
    assert.ok(Number(fs.readFileSync(path.join(fx.dir, 'tmp', 'exec-d'), 'utf8')) < 100);
  });

  it('a pid file is written on the host even though the mount namespace was joined', async () => {
    const pidFile = path.join(dir, 'exec.pid');
    const r = await run(joinPlan(testProcess(['true']), target.pid, CONTAINER_NS, { pidFile }));
    assert.equal(r.exitCode, 0, r.error?.message);
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(r.pid));
  });

  it('a container with a user namespace: the user namespace is entered first, then the others', async () => {
    const fx2 = makeRootfs();
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-exec-userns-'));
    const exit2 = path.join(dir2, 'exit.json');
    const flags = CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC;
    const plan = testPlan(fx2.dir, ['sleep', '30'], { cloneFlags: flags, hostname: 'userns-box', monitor: { logPath: path.join(dir2, 'ctr.log'), logMaxSize: 0, exitFile: exit2, keepStdin: false } });
    plan.idMaps = { kind: 'write', setgroups: 'allow', uidMap: [{ containerId: 0, hostId: 200000, size: 65536 }], gidMap: [{ containerId: 0, hostId: 200000, size: 65536 }] };
    let c: { pid: number } | undefined;
    try {
      c = await startMonitor(plan);
      const r = await run(joinPlan(testProcess(sh('id -u; cat /proc/self/uid_map; hostname')), c.pid, namespacesOf(flags)));
      assert.equal(r.exitCode, 0, r.error?.message ?? r.stderr);
      assert.deepEqual(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => l.trim().replace(/\s+/g, ' ')),
        ['0', '0 200000 65536', 'userns-box'],
      );
    } finally {
      if (c) {
        process.kill(c.pid, 'SIGKILL');
        await waitFor('the container to end', () => fs.existsSync(exit2)).catch(() => {});
      }
      fx2.cleanup();
      fs.rmSync(dir2, { recursive: true, force: true });
    }
  });
});
