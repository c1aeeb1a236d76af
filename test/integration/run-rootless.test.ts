import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { asUserArgv, bin, collect, retry, tempRoot, type RunResult } from './helpers.js';

const USER = 'tsdock-test';
const hasUser = isRoot && (() => {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !isRoot ? 'needs root to switch to the unprivileged test user' : !hasUser ? `no ${USER} user (scripts/install-deps.sh creates it)` : false;

describe('tsdock run, rootless (an unprivileged user with subordinate id ranges)', { skip }, () => {
  let h: HarnessData;
  let root: string;
  const asUser = (args: string[]): Promise<RunResult> => collect(asUserArgv(USER, runtime, root, args));

  let runtime: string;
  before(async () => {
    h = await getHarness();
    root = tempRoot('run-rootless').root;
    // a runtime dir of our own: this file's pause process (the user namespace holder) is ours to stop
    runtime = tempRoot('run-rootless-xdg').root;
    fs.chownSync(runtime, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), 0);
    fs.chownSync(root, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' })));
    for (const ref of [h.fixtures.busyboxV2s2.ref, h.fixtures.layered.ref]) {
      const r = await asUser(['pull', '-q', ref]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  after(async () => {
    const ids = (await asUser(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await asUser(['rm', '-f', ...ids]);
    const pause = fs.readFileSync(path.join(runtime, 'tsdock', 'userns-holder.pid'), 'utf8').split(' ')[0];
    process.kill(Number(pause), 'SIGKILL');
  });

  test('echo, exit codes, root inside mapped to the user outside, default capabilities', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    let r = await asUser(['run', '--rm', img, 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    r = await asUser(['run', '--rm', img, 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    r = await asUser(['run', '--rm', img, 'nope']);
    assert.equal(r.code, 127);
    r = await asUser(['run', '--rm', img, 'sh', '-c', 'id -u; echo $$; grep CapEff /proc/self/status; head -1 /proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    const [uid, pid, caps, map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.equal(pid, '1');
    assert.match(caps!, /00000000a80425fb/);
    assert.match(map!, new RegExp(`^\\s*0\\s+${execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()}\\s+1$`));
    r = await asUser(['run', '--rm', img, 'mount', '-t', 'tmpfs', 'none', '/mnt']);
    assert.notEqual(r.code, 0, 'mount fails');
  });

  test('the layered image inside: setuid bit and uid 1000 ownership as in the image', async () => {
    const e = h.fixtures.layered.expect;
    const r = await asUser(['run', '--rm', h.fixtures.layered.ref, 'sh', '-c', `stat -c '%a %u:%g' ${e.setuid.path} ${e.owned.path}; test -e ${e.whiteoutRemoved} || echo gone`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`${e.setuid.mode.toString(8)} 0:0`, `${e.modes[e.owned.path]!.toString(8)} ${e.owned.uid}:${e.owned.gid}`, 'gone']);
  });

  test('a named volume survives --rm', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    let r = await asUser(['run', '--rm', '-v', 'rlvol:/data', img, 'sh', '-c', 'echo kept > /data/f; chown 1000 /data/f']);
    assert.equal(r.code, 0, r.stderr);
    r = await asUser(['run', '--rm', '-v', 'rlvol:/data', img, 'stat', '-c', '%u %n', '/data/f']);
    assert.equal(r.stdout, '1000 /data/f\n');
  });

  test('a 0700 store: -u 1000 (a subuid on the host) still reaches a volume and its rootfs through the mounts', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    let r = await asUser(['run', '--rm', '-v', 'rlvolu:/data', img, 'sh', '-c', 'echo shared > /data/f; chmod 644 /data/f; mkdir /data/d; chown 1000 /data/d']);
    assert.equal(r.code, 0, r.stderr);
    r = await asUser(['run', '--rm', '-u', '1000', '-v', 'rlvolu:/data', img, 'sh', '-c', 'cat /data/f; echo mine > /data/d/g; cat /data/d/g; cat /etc/hostname >/dev/null; id -u']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'shared\nmine\n1000\n');
    const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
    for (const d of [root, path.join(root, 'containers'), path.join(root, 'volumes')]) {
      const st = fs.statSync(d);
      assert.equal((st.mode & 0o7777).toString(8), '700', d);
      assert.equal(st.uid, uid, d);
    }
    assert.equal((await asUser(['volume', 'rm', 'rlvolu'])).code, 0);
  });

  test('detached: run -d, logs, exec into it (the same user namespace), stop, rm', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    const r = await asUser(['run', '-d', '--name', 'rlweb', img, 'sh', '-c', 'echo hello; while :; do sleep 1; done']);
    assert.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await asUser(['logs', 'rlweb'])).stdout, 'hello\n');
    const ex = await asUser(['exec', 'rlweb', 'sh', '-c', 'id -u; echo $$']);
    assert.equal(ex.code, 0, ex.stderr);
    const [uid, pid] = ex.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.ok(Number(pid) < 100);
    assert.equal((await asUser(['stop', '-t', '1', 'rlweb'])).code, 0);
    assert.match((await asUser(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout, /rlweb Exited \(137\)/);
    assert.equal((await asUser(['rm', 'rlweb'])).code, 0);
  });

  test('cp, diff, top and healthchecks rootless', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    assert.equal((await asUser(['run', '-d', '--name', 'rlfs', '--health-cmd', 'true', '--health-interval', '200ms', img, 'sh', '-c', 'echo made > /made; sleep 100'])).code, 0);
    await new Promise((res) => setTimeout(res, 700));
    const out = path.join(runtime, 'made-copy');
    const cp = await asUser(['cp', 'rlfs:/made', out]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(fs.readFileSync(out, 'utf8'), 'made\n');
    assert.match((await asUser(['diff', 'rlfs'])).stdout, /^A \/made$/m);
    assert.match((await asUser(['top', 'rlfs'])).stdout, /sleep 100/);
    assert.match((await asUser(['ps', '--format', '{{.Status}}'])).stdout, /\(healthy\)/);
    assert.equal((await asUser(['rm', '-f', 'rlfs'])).code, 0);
  });

  test('cp of a stopped container rootless: its volume mounted for the copy, a symlink copied as a link', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    assert.equal((await asUser(['run', '--name', 'rlstop', '-v', 'rlcpvol:/vol', img, 'sh', '-c', 'echo v > /vol/made; ln -s /etc/passwd /l'])).code, 0);
    const out = path.join(runtime, 'vol-made');
    const cp = await asUser(['cp', 'rlstop:/vol/made', out]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(fs.readFileSync(out, 'utf8'), 'v\n');
    const link = path.join(runtime, 'rl-link');
    assert.equal((await asUser(['cp', 'rlstop:/l', link])).code, 0);
    assert.equal(fs.readlinkSync(link), '/etc/passwd');
    const cpIn = await asUser(['cp', out, 'rlstop:/vol/in']);
    assert.equal(cpIn.code, 0, cpIn.stderr);
    const cat = await asUser(['run', '--rm', '-v', 'rlcpvol:/vol', img, 'cat', '/vol/in']);
    assert.equal(cat.stdout, 'v\n', cat.stderr);
    assert.equal((await asUser(['rm', '-v', 'rlstop'])).code, 0);
  });

  test('create, start, wait, kill, restart, inspect, rename, export, commit, container prune rootless', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    const ok = async (args: string[]) => {
      const r = await asUser(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['create', '--name', 'rlc', img, 'sh', '-c', 'echo hi > /f; exit 2']);
    await ok(['start', 'rlc']);
    assert.equal(await ok(['wait', 'rlc']), '2\n');
    assert.equal(await ok(['inspect', '--format', '{{.State.ExitCode}} {{.Name}}', 'rlc']), '2 /rlc\n');
    await ok(['rename', 'rlc', 'rlc2']);
    const tar = path.join(runtime, 'rlc.tar');
    await ok(['export', '-o', tar, 'rlc2']);
    assert.ok(fs.statSync(tar).size > 1000);
    const id = (await ok(['commit', 'rlc2', 'rlcommitted:1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await ok(['run', '--rm', 'rlcommitted:1', 'cat', '/f']), 'hi\n');
    await ok(['run', '-d', '--name', 'rlk', img, 'sleep', '100']);
    await ok(['restart', '-t', '0', 'rlk']);
    await ok(['kill', 'rlk']);
    assert.equal(await ok(['wait', 'rlk']), '137\n');
    assert.match(await ok(['container', 'prune', '-f']), /Deleted Containers:/);
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('bin/tsdock as a program starts Node once: the launcher joins the user namespace first (issue 12)', async () => {
    // the holder exists (before() pulled): run bin/tsdock itself, as a user's shell would, and count the node
    // and nsenter processes of this command while its container runs
    const argv = ['runuser', '-u', USER, '--', 'env', `HOME=/home/${USER}`, `XDG_RUNTIME_DIR=${runtime}`, 'NO_COLOR=1', `PATH=${path.dirname(process.execPath)}:/usr/bin:/bin`, bin, '--root', root, 'run', '--rm', '--network', 'none', h.fixtures.busyboxV2s2.ref, 'sh', '-c', 'sleep 2; id -u'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const done = new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    const procs = () =>
      fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return [{ pid: Number(d), ppid, cmd: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'), exe: path.basename(fs.readlinkSync(`/proc/${d}/exe`)) }];
        } catch {
          return [];
        }
      });
    // once the CLI has started the executor (its child), count this command's node and nsenter processes
    const node = path.basename(fs.realpathSync(process.execPath));
    const seen = await retry(async () => {
      const all = procs();
      const ours = all.filter((p) => p.cmd.includes(root) && !p.cmd.includes('runuser'));
      assert.ok(all.some((p) => p.exe.includes('tsdock-exec') && ours.some((o) => o.pid === p.ppid)), 'the executor runs');
      return ours.map((p) => p.exe);
    }, 3000);
    assert.deepEqual(seen.filter((x) => x === node || x === 'nsenter'), [node], `one node, no nsenter: ${seen.join(', ')}`);
    assert.equal(await done, 0);
    assert.equal(out, '0\n');
  });
});
