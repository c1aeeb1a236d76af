import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tempRoot, tsdock } from './helpers.js';
import { interact } from './pty.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('detached containers: run -d, ps, logs, exec, stop, kill, restart, rm', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  const t = (args: string[]) => tsdock(args, { root });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('lifecycle').root;
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  // whatever a failed test left running goes before the root is deleted (no orphaned monitors)
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
  });

  test('run -d prints the full id once running; ps, logs, exec, stop -t 1 (SIGTERM ignored → 137)', async () => {
    const r = await t(['run', '-d', '--name', 'web', img, 'sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; while :; do sleep 1; done']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    let ps = await t(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} web Up `));
    await sleep(500);
    const logs = await t(['logs', 'web']);
    assert.equal(logs.stdout, 'one\nthree\n');
    assert.equal(logs.stderr, 'two\n');
    assert.equal((await t(['logs', '--tail', '1', 'web'])).stdout, 'three\n');
    const ex = await t(['exec', '-e', 'X=42', 'web', 'sh', '-c', 'echo $X $(hostname) $$']);
    assert.equal(ex.code, 0, ex.stderr);
    const [x, host, pid] = ex.stdout.trim().split(' ');
    assert.equal(x, '42');
    assert.equal(host, id.slice(0, 12));
    assert.ok(Number(pid) > 1 && Number(pid) < 100, 'exec runs in the container pid namespace');
    assert.equal((await t(['exec', 'web', 'sh', '-c', 'exit 5'])).code, 5);
    assert.equal((await t(['exec', 'web', 'nope'])).code, 127);
    const t0 = Date.now();
    const stop = await t(['stop', '-t', '1', 'web']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - t0 < 4000, 'stopped within the timeout plus a little');
    assert.equal((await t(['wait', 'web'])).stdout, '137\n');
    ps = await t(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^web Exited \(137\) /);
    const ex2 = await t(['exec', 'web', 'true']);
    assert.equal(ex2.code, 125);
    assert.match(ex2.stderr, /is not running/);
    assert.equal((await t(['rm', 'web'])).code, 0);
  });

  test('a container that handles SIGTERM exits 143 / 0 on stop; kill -s; restart', async () => {
    await t(['run', '-d', '--name', 'trap', img, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    await sleep(300);
    assert.equal((await t(['stop', 'trap'])).code, 0);
    assert.equal((await t(['wait', 'trap'])).stdout, '0\n');
    await t(['run', '-d', '--name', 'plain', img, 'sleep', '100']);
    await t(['run', '-d', '--name', 'killme', '--init', img, 'sleep', '100']);
    assert.equal((await t(['kill', '-s', 'TERM', 'killme'])).code, 0);
    assert.equal((await t(['wait', 'killme'])).stdout, '143\n');
    const k = await t(['kill', 'killme']);
    assert.equal(k.code, 1, 'killing a stopped container is an error');
    assert.equal((await t(['restart', '-t', '0', 'plain'])).code, 0);
    assert.match((await t(['ps', '--filter', 'name=plain', '--format', '{{.Status}}'])).stdout, /^Up /);
    assert.equal((await t(['rm', '-f', 'plain', 'trap', 'killme'])).code, 0);
    assert.equal((await t(['ps', '-aq'])).stdout, '');
  });

  test('run -d --rm removes the container when it exits; --restart on-failure:2 restarts twice', async () => {
    const r = await t(['run', '-d', '--rm', img, 'sh', '-c', 'exit 0']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    for (let i = 0; i < 100 && fs.existsSync(path.join(root, 'containers', id)); i++) await sleep(50);
    assert.ok(!fs.existsSync(path.join(root, 'containers', id)), '--rm container removed by the cleanup');
    await t(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', img, 'sh', '-c', 'exit 3']);
    let count = '';
    for (let i = 0; i < 100; i++) {
      count = (await t(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'flaky'])).stdout.trim();
      if (count === '2 exited') break;
      await sleep(100);
    }
    assert.equal(count, '2 exited');
    assert.equal((await t(['rm', 'flaky'])).code, 0);
  });

  test('healthchecks: starting, unhealthy after the retries, healthy again; shown by ps and inspect', async () => {
    const r = await t(['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', img, 'sleep', '100']);
    assert.equal(r.code, 0, r.stderr);
    assert.match((await t(['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /\(health: starting\)/);
    const status = async () => (await t(['inspect', '--format', '{{.State.Health.Status}}', 'hc'])).stdout.trim();
    const until = async (want: string) => {
      for (let i = 0; i < 60 && (await status()) !== want; i++) await sleep(100);
      return status();
    };
    assert.equal(await until('unhealthy'), 'unhealthy');
    assert.match((await t(['ps', '--filter', 'name=hc', '--format', '{{.Status}}'])).stdout, /\(unhealthy\)/);
    await t(['exec', 'hc', 'touch', '/tmp/ok']);
    assert.equal(await until('healthy'), 'healthy');
    const log = JSON.parse((await t(['inspect', '--format', '{{json .State.Health.Log}}', 'hc'])).stdout) as Array<{ ExitCode: number }>;
    assert.ok(log.length >= 3 && log.length <= 5);
    assert.equal(log[log.length - 1]!.ExitCode, 0);
    const none = await t(['run', '-d', '--name', 'nohc', '--no-healthcheck', img, 'sleep', '100']);
    assert.equal(none.code, 0);
    assert.match((await t(['ps', '--filter', 'name=nohc', '--format', '{{.Status}}'])).stdout, /^Up [^(]*$/m);
    assert.equal((await t(['rm', '-f', 'hc', 'nohc'])).code, 0);
  });

  test('start -a attaches and returns the exit code', async () => {
    assert.equal((await t(['create', '--name', 'att', img, 'sh', '-c', 'echo from-start; exit 6'])).code, 0);
    const r = await t(['start', '-a', 'att']);
    assert.equal(r.stdout, 'from-start\n');
    assert.equal(r.code, 6);
    assert.equal((await t(['rm', 'att'])).code, 0);
  });

  test('logs -f follows a running container and ends when it exits; --tail 2', async () => {
    assert.equal((await t(['run', '-d', '--name', 'follow', img, 'sh', '-c', 'for i in 1 2 3 4; do echo line$i; sleep 0.2; done'])).code, 0);
    const t0 = Date.now();
    const f = await t(['logs', '-f', 'follow']);
    assert.equal(f.stdout, 'line1\nline2\nline3\nline4\n');
    assert.ok(Date.now() - t0 < 5000);
    assert.equal((await t(['logs', '--tail', '2', 'follow'])).stdout, 'line3\nline4\n');
    assert.equal((await t(['rm', 'follow'])).code, 0);
  });

  test('rm -f of a foreground run --rm from another CLI: both succeed, the run exits 137, nothing is left', async () => {
    const names = ['fg-rm-1', 'fg-rm-2', 'fg-rm-3'];
    const runs = names.map((n) => t(['run', '--rm', '--name', n, img, 'sleep', '100']));
    for (const n of names) {
      for (let i = 0; i < 100 && (await t(['ps', '-q', '--filter', `name=${n}`])).stdout === ''; i++) await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    const rm = await t(['rm', '-f', ...names]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, names.map((n) => `${n}\n`).join(''));
    assert.ok(Date.now() - started < 4000, 'rm -f does not wait out its kill timeout for the run CLI');
    for (const r of await Promise.all(runs)) {
      assert.equal(r.code, 137, r.stderr);
      assert.equal(r.stderr, '');
    }
    assert.equal((await t(['ps', '-aq', '--filter', 'name=fg-rm'])).stdout, '');
  });

  test('kill -9 of stop and of rm at several points: ps -a still works and rm -f cleans up', async () => {
    for (const verb of ['stop', 'rm'] as const) {
      for (const delay of [40, 100, 200, 350]) {
        assert.equal((await t(['run', '-d', '--name', 'victim', img, 'sleep', '100'])).code, 0);
        const child = spawn(process.execPath, [bin, '--root', root, verb, ...(verb === 'rm' ? ['-f'] : ['-t', '1']), 'victim'], { stdio: 'ignore' });
        const closed = new Promise((r) => child.once('close', r));
        await sleep(delay);
        child.kill('SIGKILL');
        await closed;
        const ps = await t(['ps', '-a']);
        assert.equal(ps.code, 0, `ps -a after kill -9 of ${verb} at ${delay} ms: ${ps.stderr}`);
        const rm = await t(['rm', '-f', 'victim']);
        assert.ok(rm.code === 0 || /No such container/.test(rm.stderr), rm.stderr);
        assert.equal((await t(['ps', '-aq'])).stdout, '');
      }
    }
  });

  test('kill -9 of the monitor: ps tells the truth, rm -f cleans up', async () => {
    const id = (await t(['run', '-d', '--name', 'orphan', img, 'sleep', '100'])).stdout.trim();
    const state = JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8')) as { MonitorPid: number; Pid: number };
    process.kill(state.MonitorPid, 'SIGKILL');
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(state.Pid, 0);
        await sleep(20);
      } catch {
        break;
      }
    }
    const ps = await t(['ps', '-a', '--filter', 'name=orphan', '--format', '{{.Status}}']);
    assert.match(ps.stdout, /^Exited \(137\)/);
    assert.equal((await t(['rm', '-f', 'orphan'])).code, 0);
  });

  test('20 parallel run -d with ps, stop and rm -f racing: all succeed, ps -a is exact, nothing left', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `par${i}`);
    const runs = await Promise.all(names.map((n) => t(['run', '-d', '--name', n, img, 'sleep', '100'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const [ps1, stops, ps2] = await Promise.all([t(['ps', '-q']), Promise.all(names.slice(0, 10).map((n) => t(['stop', '-t', '0', n]))), t(['ps', '-a', '-q'])]);
    assert.equal(ps1.code, 0);
    assert.equal(ps2.code, 0);
    for (const s of stops) assert.equal(s.code, 0, s.stderr);
    const all = await t(['ps', '-a', '--format', '{{.Names}}']);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), [...names].sort());
    const rms = await Promise.all(names.map((n) => t(['rm', '-f', n])));
    for (const r of rms) assert.equal(r.code, 0, r.stderr);
    assert.equal((await t(['ps', '-aq'])).stdout, '');
    assert.deepEqual(fs.readdirSync(path.join(root, 'containers')), []);
  });

  test('kill -9 of run -d at several points: ps -a works, rm -f cleans up, the name is reusable', async () => {
    for (const delay of [30, 80, 150, 250, 400]) {
      const child = spawn(process.execPath, [bin, '--root', root, 'run', '-d', '--name', 'crashy', img, 'sleep', '100'], { stdio: 'ignore' });
      const closed = new Promise((r) => child.once('close', r));
      await sleep(delay);
      child.kill('SIGKILL');
      await closed;
      const ps = await t(['ps', '-a']);
      assert.equal(ps.code, 0, ps.stderr);
      await t(['rm', '-f', 'crashy']);
      const again = await t(['run', '-d', '--name', 'crashy', img, 'true']);
      assert.equal(again.code, 0, `name reusable after a kill at ${delay} ms: ${again.stderr}`);
      assert.equal((await t(['rm', '-f', 'crashy'])).code, 0);
    }
    assert.equal((await t(['ps', '-aq'])).stdout, '');
  });
});

describe('exec -it and attach through a real pty', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('lifecycle-tty').root;
    assert.equal((await tsdock(['pull', '-q', img], { root })).code, 0);
  });
  after(async () => {
    await tsdock(['rm', '-f', 'ittarget', 'attachme'], { root });
  });

  test('exec -it: prompt, echo, exit code', async () => {
    assert.equal((await tsdock(['run', '-d', '--name', 'ittarget', img, 'sleep', '100'], { root })).code, 0);
    const r = await interact(['--root', root, 'exec', '-it', 'ittarget', 'sh'], [
      { expect: /# /, type: 'echo in-$((6*7))\r' },
      { expect: /in-42/, type: 'exit 9\r' },
    ]);
    assert.equal(r.code, 9, r.output);
  });

  test('attach to a detached -it container, type, detach with ctrl-p ctrl-q; it keeps running', async () => {
    assert.equal((await tsdock(['run', '-d', '-it', '--name', 'attachme', img, 'sh'], { root })).code, 0);
    const r = await interact(['--root', root, 'attach', 'attachme'], [
      { expect: /$/, type: 'echo attached-$((1+1))\r', delayMs: 300 },
      { expect: /attached-2/, type: '\x10\x11' },
    ]);
    assert.equal(r.code, 0, r.output);
    assert.match((await tsdock(['ps', '--filter', 'name=attachme', '--format', '{{.Status}}'], { root })).stdout, /^Up /);
  });
});
