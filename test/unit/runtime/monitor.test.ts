import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ContainerStartError, executorPath } from '../../../src/runtime/executor.js';
import { ExecStep, encodePlan, splitFields } from '../../../src/runtime/plan-encode.js';
import { CLONE, type ExecPlan, type MonitorPlan } from '../../../src/runtime/plan-types.js';
import { startMonitor } from '../../../src/runtime/monitor.js';
import { openPty, setWinsize } from '../../../src/sys/pty.js';
import { haveBusybox, makeRootfs, testPlan, type RootfsFixture } from './rootfs-fixture.js';

const isRoot = process.getuid?.() === 0;
const built = fs.existsSync(executorPath());
const skip = !isRoot ? 'needs root' : !haveBusybox() ? 'needs /bin/busybox (busybox-static)' : !built ? 'native executor not built (npm run build)' : false;

const sh = (script: string) => ['sh', '-c', script];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, session, ...] (undefined when gone) */
function stat(pid: number): string[] | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
const alive = (pid: number) => {
  const st = stat(pid);
  return st !== undefined && st[0] !== 'Z';
};

const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) ([^\n]*)$/;

/** the k8s-file records of a log: [stream, tag, text]; every line must be a well-formed record */
function records(file: string): Array<[string, string, string]> {
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `log ends with a newline: ${JSON.stringify(text)}`);
  const lines = text.split('\n').slice(0, -1);
  let prev = '';
  return lines.map((l) => {
    const m = RECORD.exec(l);
    assert.ok(m, `k8s-file record: ${JSON.stringify(l)}`);
    assert.ok(m[1]! >= prev, 'timestamps never go back');
    prev = m[1]!;
    return [m[2]!, m[3]!, m[4]!];
  });
}

interface Exit {
  ExitCode: number;
  Signal: number;
  FinishedAt: string;
}
const readExit = (file: string): Exit => JSON.parse(fs.readFileSync(file, 'utf8')) as Exit;

describe('runtime/monitor: plan encoding', () => {
  it('monitor records follow the process; paths must be absolute', () => {
    const plan = testPlan('/r', ['true'], {
      monitor: { logPath: '/c/ctr.log', logMaxSize: 1024, exitFile: '/c/exit.json', attachSocket: '/c/attach.sock', exitCommand: ['tsdock', 'cleanup'], keepStdin: true, stdinOnce: true, ptyMasterFd: 5, timing: { drainMs: 2000, drainIdleMs: 100, clientStallMs: 1000 } },
    });
    const f = splitFields(encodePlan(plan)).map((b) => b.toString());
    const at = (k: string, n: number) => f.slice(f.indexOf(k) + 1, f.indexOf(k) + 1 + n);
    assert.deepEqual(at('monitor', 8), ['/c/ctr.log', '1024', '/c/exit.json', '1', '1', '2000', '100', '1000']);
    assert.deepEqual(at('attachsock', 1), ['/c/attach.sock']);
    assert.deepEqual(at('exitcmd', 3), ['2', 'tsdock', 'cleanup']);
    assert.deepEqual(at('ptymaster', 1), ['5']);
    assert.equal(f.at(-1), 'end');
    plan.monitor!.logPath = 'ctr.log';
    assert.throws(() => encodePlan(plan), /absolute/);
    plan.monitor!.logPath = '/c/ctr.log';
    plan.monitor!.ptyMasterFd = 3;
    assert.throws(() => encodePlan(plan), RangeError);
    plan.monitor!.ptyMasterFd = 5;
    // the executor keeps no time bounds of its own: a monitor plan without them is refused
    delete plan.monitor!.timing;
    assert.throws(() => encodePlan(plan), /timing/);
  });
});

describe('runtime/monitor (real kernel)', { skip }, () => {
  let fx: RootfsFixture;
  let dir: string;
  let n = 0;
  const started: number[] = [];
  before(() => {
    fx = makeRootfs();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-monitor-'));
  });
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    fx?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** a container directory and a monitor section pointing into it */
  function container(extra: Partial<MonitorPlan> = {}): { cdir: string; monitor: MonitorPlan } {
    const cdir = path.join(dir, `c${++n}`);
    fs.mkdirSync(cdir);
    return { cdir, monitor: { logPath: path.join(cdir, 'ctr.log'), logMaxSize: 0, exitFile: path.join(cdir, 'exit.json'), attachSocket: path.join(cdir, 'attach.sock'), keepStdin: false, ...extra } };
  }

  async function start(plan: ExecPlan, opts: Parameters<typeof startMonitor>[1] = {}) {
    const r = await startMonitor(plan, opts);
    started.push(r.monitorPid, r.pid);
    return r;
  }

  it('detached: the spawning process exits at once; the monitor (own session) writes the log, exit.json, runs the exit command', async () => {
    const { cdir, monitor } = container();
    const marker = path.join(cdir, 'cleanup-ran');
    monitor.exitCommand = ['/bin/sh', '-c', `{ readlink /proc/$$/fd/0; cut -d' ' -f6 /proc/$$/stat; echo $$; } > ${marker}`];
    const plan = testPlan(fx.dir, sh('echo out; echo err >&2; sleep 0.3; printf partial; exit 4'), { monitor });
    // a separate Node process plays the CLI: startMonitor, print the pids, then exit by itself (nothing may keep
    // its event loop alive)
    const monitorJs = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/runtime/monitor.js')).href;
    const script = `
      import { startMonitor } from ${JSON.stringify(monitorJs)};
      const plan = JSON.parse(process.env.PLAN, (k, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
      const r = await startMonitor(plan);
      process.stdout.write(JSON.stringify(r));`;
    const planJson = JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? { $big: v.toString() } : v));
    const t0 = performance.now();
    const cli = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, PLAN: planJson }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        cli.kill('SIGKILL');
        reject(new Error('the spawning process did not exit'));
      }, 5000);
      cli.on('exit', (c) => (clearTimeout(timer), resolve(c)));
    });
    const cliMs = performance.now() - t0;
    assert.equal(code, 0);
    const r = JSON.parse(out) as { pid: number; monitorPid: number };
    started.push(r.monitorPid, r.pid);

    // the CLI is gone and the container (sleep 0.3) still runs under its monitor
    assert.ok(alive(r.monitorPid), 'the monitor outlives the process that spawned it');
    const st = stat(r.monitorPid)!;
    assert.equal(Number(st[3]), r.monitorPid, 'the monitor leads its own session');
    assert.notEqual(Number(st[1]), cli.pid, 'reparented');
    assert.equal(Number(st[4]), 0, 'no controlling terminal');
    for (const fd of [0, 1, 2]) assert.equal(fs.readlinkSync(`/proc/${r.monitorPid}/fd/${fd}`), '/dev/null');
    assert.ok(fs.existsSync(monitor.attachSocket!), 'the attach socket exists once the pid is reported');

    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    const exit = readExit(monitor.exitFile);
    assert.deepEqual([exit.ExitCode, exit.Signal], [4, 0]);
    assert.match(exit.FinishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(Math.abs(Date.parse(exit.FinishedAt) - Date.now()) < 10_000);
    assert.deepEqual(records(monitor.logPath), [
      ['stdout', 'F', 'out'],
      ['stderr', 'F', 'err'],
      ['stdout', 'P', 'partial'],
    ]);
    await waitFor('the exit command', () => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').split('\n').length >= 4);
    const [stdin, session, pid] = fs.readFileSync(marker, 'utf8').trim().split('\n');
    assert.equal(stdin, '/dev/null');
    assert.equal(session, pid, 'the exit command runs in its own session');
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
    assert.equal(fs.existsSync(monitor.attachSocket!), false, 'the attach socket is removed');
    assert.deepEqual(fs.readdirSync(cdir).sort(), ['cleanup-ran', 'ctr.log', 'exit.json']);
    console.log(`spawning process exited ${cliMs.toFixed(0)} ms after it started (the container ran ~300 ms)`);
  });

  it("the drain's bounds are the plan's (MonitorTiming): quiet output ends it after drainIdleMs, a busy writer after drainMs", async () => {
    // no pid namespace: the process left behind by the init keeps the output pipe open after the init's end
    const flags = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC;
    const cases = [
      { name: 'quiet, short idle', script: 'sleep 6 & echo pid $!', timing: { drainMs: 5000, drainIdleMs: 50, clientStallMs: 1000 } },
      { name: 'quiet, long idle', script: 'sleep 6 & echo pid $!', timing: { drainMs: 5000, drainIdleMs: 2500, clientStallMs: 1000 } },
      { name: 'busy, short bound', script: '(while :; do echo x; sleep 0.02; done) & echo pid $!', timing: { drainMs: 300, drainIdleMs: 5000, clientStallMs: 1000 } },
    ];
    const leftovers: number[] = [];
    try {
      const ms = await Promise.all(
        cases.map(async (c) => {
          const { monitor } = container({ timing: c.timing });
          const r = await start(testPlan(fx.dir, sh(c.script), { cloneFlags: flags, monitor }));
          const t0 = performance.now();
          await waitFor('the leftover pid', () => /pid (\d+)/.test(fs.readFileSync(monitor.logPath, 'utf8')));
          leftovers.push(Number(/pid (\d+)/.exec(fs.readFileSync(monitor.logPath, 'utf8'))![1]));
          await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
          const took = performance.now() - t0;
          await waitFor('the monitor to end', () => !alive(r.monitorPid));
          return took;
        }),
      );
      console.log(`exit.json after the init's end: ${ms.map((m, i) => `${cases[i]!.name} ${m.toFixed(0)} ms`).join(', ')}`);
      assert.ok(ms[0]! < 1500, `a 50 ms idle bound ends the drain at once (${ms[0]!.toFixed(0)} ms)`);
      assert.ok(ms[1]! >= 2300, `a 2500 ms idle bound is waited for (${ms[1]!.toFixed(0)} ms)`);
      assert.ok(ms[2]! >= 250 && ms[2]! < 2000, `a busy writer is cut off at drainMs 300 (${ms[2]!.toFixed(0)} ms)`);
    } finally {
      for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a container killed by SIGKILL: exit.json has Signal 9, ExitCode 137', async () => {
    const { monitor } = container();
    const r = await start(testPlan(fx.dir, ['sleep', '30'], { monitor }));
    assert.ok(alive(r.pid));
    process.kill(r.pid, 'SIGKILL');
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    const exit = readExit(monitor.exitFile);
    assert.deepEqual([exit.ExitCode, exit.Signal], [137, 9]);
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
  });

  it('signals sent to the monitor reach the container; SIGHUP does not hurt either', async () => {
    const { monitor } = container();
    // the shell is pid 1 in its pid namespace: it only dies from signals it has a handler for
    const r = await start(testPlan(fx.dir, sh('trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done'), { monitor }));
    await waitFor('ready', () => fs.readFileSync(monitor.logPath, 'utf8').includes('ready'));
    process.kill(r.monitorPid, 'SIGHUP');
    await sleep(100);
    assert.ok(alive(r.monitorPid) && alive(r.pid), 'SIGHUP kills neither the monitor nor the container');
    process.kill(r.monitorPid, 'SIGTERM');
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    assert.equal(readExit(monitor.exitFile).ExitCode, 42);
  });

  it('killing the monitor with SIGKILL takes the container with it, and leaves no exit.json', async () => {
    const { monitor } = container();
    monitor.exitCommand = ['/bin/sh', '-c', `touch ${monitor.exitFile}.cleanup`];
    const r = await start(testPlan(fx.dir, ['sleep', '30'], { monitor }));
    process.kill(r.monitorPid, 'SIGKILL');
    await waitFor('the container init to die', () => !alive(r.pid), 5000);
    await sleep(200);
    assert.equal(fs.existsSync(monitor.exitFile), false);
    assert.equal(fs.existsSync(`${monitor.exitFile}.cleanup`), false, 'no exit command either');
  });

  /** an attach client decoding frames (1 byte stream, 4 bytes big-endian length, data) */
  async function attach(sock: string) {
    const s = net.createConnection(sock);
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    const c = { s, buf: Buffer.alloc(0), ended: false, bytes: 0, frames: [] as Array<[number, string]>, text: (stream: number) => '' };
    c.text = (stream: number) =>
      c.frames
        .filter((f) => f[0] === stream)
        .map((f) => f[1])
        .join('');
    s.on('data', (d: Buffer) => {
      c.buf = Buffer.concat([c.buf, d]);
      while (c.buf.length >= 5 && c.buf.length >= 5 + c.buf.readUInt32BE(1)) {
        const len = c.buf.readUInt32BE(1);
        c.bytes += len;
        c.frames.push([c.buf[0]!, c.buf.subarray(5, 5 + len).toString()]);
        c.buf = c.buf.subarray(5 + len);
      }
    });
    s.on('end', () => (c.ended = true));
    s.on('error', () => {});
    return c;
  }
  const echoLoop = sh('while read l; do echo "out:$l"; echo "err:$l" >&2; done; echo bye');

  it('attach: several clients get framed stdout/stderr live, input reaches stdin, clients leaving never hurt the container', async () => {
    const { monitor } = container({ keepStdin: true });
    const r = await start(testPlan(fx.dir, echoLoop, { monitor }));
    const a = await attach(monitor.attachSocket!);
    const b = await attach(monitor.attachSocket!);
    a.s.write('hello\n');
    await waitFor('output at both clients', () => [a, b].every((c) => c.text(1) === 'out:hello\n' && c.text(2) === 'err:hello\n'));

    b.s.destroy(); // gone without a word
    await sleep(50);
    a.s.write('again\n');
    await waitFor('output after the other client left', () => a.text(1) === 'out:hello\nout:again\n');
    a.s.end(); // a client ending its input does not close the container's stdin (no stdinOnce)
    await sleep(100);
    assert.ok(alive(r.pid));
    const c = await attach(monitor.attachSocket!);
    c.s.write('third\n');
    await waitFor('output at a later client', () => c.text(2) === 'err:third\n');
    assert.equal(a.text(1), 'out:hello\nout:again\nout:third\n', 'a half-closed client still gets output');

    process.kill(r.pid, 'SIGKILL');
    await waitFor('the attach streams to end', () => a.ended && c.ended);
    assert.equal(readExit(monitor.exitFile).ExitCode, 137, 'exit.json is there before attach clients see EOF');
    assert.deepEqual(records(monitor.logPath), [
      ['stdout', 'F', 'out:hello'],
      ['stderr', 'F', 'err:hello'],
      ['stdout', 'F', 'out:again'],
      ['stderr', 'F', 'err:again'],
      ['stdout', 'F', 'out:third'],
      ['stderr', 'F', 'err:third'],
    ]);
  });

  it('attach with stdinOnce: the end of a client\'s input closes the container\'s stdin', async () => {
    const { monitor } = container({ keepStdin: true, stdinOnce: true });
    await start(testPlan(fx.dir, echoLoop, { monitor }));
    const a = await attach(monitor.attachSocket!);
    a.s.end('last\n');
    await waitFor('the attach stream to end', () => a.ended);
    assert.deepEqual([a.text(1), a.text(2)], ['out:last\nbye\n', 'err:last\n']); // chunking is up to the pipes
    assert.deepEqual([readExit(monitor.exitFile).ExitCode, readExit(monitor.exitFile).Signal], [0, 0]);
  });

  it('a client that stops reading is dropped (after ~1 s); the container and the log carry on', async () => {
    const { monitor } = container();
    const size = fs.statSync(path.join(fx.dir, 'bin', 'busybox')).size;
    await start(testPlan(fx.dir, sh('sleep 0.2; cat /bin/busybox; echo; echo done'), { monitor }));
    const stuck = net.createConnection(monitor.attachSocket!);
    stuck.on('error', () => {});
    await new Promise<void>((res) => stuck.once('connect', res));
    stuck.pause(); // never reads: the socket buffers fill up
    const reader = await attach(monitor.attachSocket!);
    const t0 = performance.now();
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile), 10000);
    const ms = performance.now() - t0;
    await waitFor('the reader to see the end', () => reader.ended);
    assert.equal(readExit(monitor.exitFile).ExitCode, 0);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.equal(reader.bytes, size + '\ndone\n'.length, 'the reading client got everything');
    const recs = records(monitor.logPath);
    assert.deepEqual(recs.at(-1), ['stdout', 'F', 'done']);
    assert.ok(fs.statSync(monitor.logPath).size > size, 'all output is in the log');
    stuck.destroy();
  });

  it('without keepStdin the container reads /dev/null and client input is dropped', async () => {
    const { monitor } = container();
    const r = await start(testPlan(fx.dir, sh('sleep 0.2; cat; echo "eof:$?"'), { monitor }));
    const s = net.createConnection(monitor.attachSocket!);
    s.on('error', () => {});
    s.write('ignored\n');
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    assert.equal(readExit(monitor.exitFile).ExitCode, 0);
    assert.deepEqual(records(monitor.logPath), [['stdout', 'F', 'eof:0']]);
    s.destroy();
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
  });

  it('-t: the pty slave is the container stdio, raw output to attach clients, input through the master', async () => {
    const { monitor } = container({ keepStdin: true });
    const pty = openPty();
    setWinsize(pty.master, 30, 100);
    const plan = testPlan(fx.dir, sh('test -t 0 && echo TTY; stty size; read l; echo "got:$l"; exit 3'), { monitor });
    plan.process.terminal = true;
    const r = await start(plan, { ptyMaster: pty.master });
    fs.closeSync(pty.master);
    fs.closeSync(pty.slave);
    const s = net.createConnection(monitor.attachSocket!);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', () => {});
    await new Promise<void>((res) => s.once('connect', res));
    // the terminal echoes input when it arrives: send it once the shell waits in `read`
    await waitFor('the prompt output', () => fs.readFileSync(monitor.logPath, 'utf8').includes('30 100'));
    await sleep(50);
    s.write('x\n');
    // the monitor closes its clients after exit.json: the close event comes after every byte it sent
    // (checking exit.json alone can win the race against the socket's last data event)
    const closed = new Promise<void>((res) => s.once('close', () => res()));
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    await closed;
    assert.equal(readExit(monitor.exitFile).ExitCode, 3);
    assert.match(got, /got:x\r\n/, `raw pty output, not framed; log: ${JSON.stringify(fs.readFileSync(monitor.logPath, 'utf8'))}`);
    // the log holds everything the terminal printed, including the echo of the input line
    const recs = records(monitor.logPath);
    assert.ok(recs.every((x) => x[0] === 'stdout'));
    const logged = recs.map((x) => x[2] + (x[1] === 'F' ? '\n' : '')).join('');
    assert.equal(logged, 'TTY\r\n30 100\r\nx\r\ngot:x\r\n');
    s.destroy();
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
  });

  it('log rotation: past logMaxSize the log moves to <log>.1; records are never split', async () => {
    const { monitor } = container({ logMaxSize: 300 });
    const script = 'i=1; while test $i -le 40; do echo line-$i; i=$((i+1)); done; printf tail';
    await start(testPlan(fx.dir, sh(script), { monitor }));
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    const rotated = `${monitor.logPath}.1`;
    assert.ok(fs.existsSync(rotated));
    for (const f of [rotated, monitor.logPath]) assert.ok(fs.statSync(f).size <= 300, `${f}: ${fs.statSync(f).size} bytes`);
    const all = [...records(rotated), ...records(monitor.logPath)];
    const last = all.at(-1)!;
    assert.deepEqual(last, ['stdout', 'P', 'tail']);
    const nums = all.slice(0, -1).map((x) => {
      assert.deepEqual(x.slice(0, 2), ['stdout', 'F']);
      return Number(/^line-(\d+)$/.exec(x[2])![1]);
    });
    // the two files hold the newest records, consecutive, up to line-40
    assert.equal(nums.at(-1), 40);
    nums.forEach((v, i) => i && assert.equal(v, nums[i - 1]! + 1));
    assert.ok(nums.length >= 8, `${nums.length} records kept`);
  });

  it('start failures reject with ContainerStartError; nothing is left behind', async () => {
    const { cdir, monitor } = container();
    await assert.rejects(startMonitor(testPlan(fx.dir, ['no-such-command'], { monitor })), (e: unknown) => e instanceof ContainerStartError && e.code === 127);
    assert.deepEqual(fs.readdirSync(cdir), ['ctr.log']);

    const bad = container({ logPath: '/nonexistent-dir/ctr.log' });
    await assert.rejects(startMonitor(testPlan(fx.dir, ['true'], { monitor: bad.monitor })), (e: unknown) => {
      assert.ok(e instanceof ContainerStartError);
      assert.deepEqual([e.step, e.code], [ExecStep.log, 125]);
      assert.match(e.message, /opening the log \/nonexistent-dir\/ctr.log: no such file or directory/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(bad.cdir), []);
  });

  it('a long attach socket path (> 108 bytes) is bound through its directory', async () => {
    const deep = path.join(dir, 'x'.repeat(60), 'y'.repeat(60));
    fs.mkdirSync(deep, { recursive: true });
    const monitor: MonitorPlan = { logPath: path.join(deep, 'ctr.log'), logMaxSize: 0, exitFile: path.join(deep, 'exit.json'), attachSocket: path.join(deep, 'attach.sock'), keepStdin: false };
    const r = await start(testPlan(fx.dir, sh('sleep 0.3; echo late'), { monitor }));
    assert.ok(fs.statSync(monitor.attachSocket!).isSocket());
    // Node cannot connect to such a path either: go through a short symlink to the directory
    const link = path.join(dir, 'short');
    fs.symlinkSync(deep, link);
    const s = net.createConnection(path.join(link, 'attach.sock'));
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    await waitFor('exit.json', () => fs.existsSync(monitor.exitFile));
    await waitFor('output', () => got.length >= 10);
    assert.deepEqual([got[0], got.readUInt32BE(1), got.subarray(5).toString()], [1, 5, 'late\n']);
    s.destroy();
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
  });

  it("the monitor's memory: RSS of an idle detached container's monitor", async (t) => {
    const { monitor } = container({ keepStdin: true });
    const r = await start(testPlan(fx.dir, ['sleep', '30'], { monitor }));
    const s = net.createConnection(monitor.attachSocket!);
    s.on('error', () => {});
    await new Promise<void>((res) => s.once('connect', res));
    await sleep(100);
    const status = fs.readFileSync(`/proc/${r.monitorPid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
    const msg = `monitor VmRSS ${kb} kB (idle, one attach client), VmHWM ${/^VmHWM:\s+(\d+) kB/m.exec(status)![1]} kB`;
    t.diagnostic(msg);
    console.log(msg);
    assert.ok(kb < 2048, msg);
    s.destroy();
    process.kill(r.pid, 'SIGKILL');
    await waitFor('the monitor to end', () => !alive(r.monitorPid));
  });
});
