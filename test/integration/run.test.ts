import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTar, pushRaw } from '../harness/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock, type RunResult } from './helpers.js';

const DEFAULT_CAPS = '00000000a80425fb';

describe('tsdock run (rootful)', { skip: !isRoot && 'needs root' }, () => {
  let h: HarnessData;
  let root: string;
  let img: string;
  const run = (args: string[], opts: { input?: string } = {}): Promise<RunResult> => tsdock(['run', '--rm', ...args], { root, ...opts });

  before(async () => {
    h = await getHarness();
    root = tempRoot('run').root;
    img = h.fixtures.busyboxV2s2.ref;
    const r = await tsdock(['pull', '-q', img], { root });
    assert.equal(r.code, 0, r.stderr);
  });

  test('echo, exit codes 3 / 127 / 126, unknown flag 125', async () => {
    let r = await run([img, 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    r = await run([img, 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    r = await run([img, 'no-such-command']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^Error: .*exec: "no-such-command": executable file not found in \$PATH/);
    r = await run([img, '/etc/passwd']);
    assert.equal(r.code, 126);
    assert.match(r.stderr, /permission denied/);
    r = await tsdock(['run', '--bogus', img], { root });
    assert.equal(r.code, 125);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^Error: unknown option '--bogus'/);
  });

  test('flags after the image belong to the command', async () => {
    const r = await run([img, 'ls', '-d', '/etc']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/etc\n');
  });

  test('isolation: pid 1, hostname, capabilities, fds, masked and read-only paths', async () => {
    let r = await run([img, 'sh', '-c', 'echo $$; ls /proc | grep -E "^[0-9]+$"']);
    assert.equal(r.code, 0, r.stderr);
    const [pid, ...pids] = r.stdout.trim().split('\n').map(Number);
    assert.equal(pid, 1);
    assert.ok(pids.every((p) => p < 10), `only the container's few processes are visible: ${pids.join(' ')}`);
    r = await run(['--hostname', 'box1', img, 'hostname']);
    assert.equal(r.stdout, 'box1\n');
    r = await run([img, 'hostname']);
    assert.match(r.stdout, /^[0-9a-f]{12}\n$/, 'default hostname is the short id');
    r = await run([img, 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(r.stdout.trim().split(/\s+/)[1], DEFAULT_CAPS);
    // only 0-2 (+ the fd ls reads the directory with), and none of them the caller's: stdin /dev/null, the rest
    // pipes of the executor's relay (exec, -i, host files and terminals: stdio-relay.test.ts)
    r = await run([img, 'ls', '-l', '/proc/self/fd']);
    assert.equal(r.code, 0, r.stderr);
    const fds = [...r.stdout.matchAll(/ (\d+) -> (.*)$/gm)].map((m) => [Number(m[1]), m[2]] as const);
    assert.deepEqual(fds.filter(([n]) => n <= 2).map(([, t]) => t.replace(/\d+/, 'N')), ['/dev/null', 'pipe:[N]', 'pipe:[N]'], r.stdout);
    assert.ok(fds.filter(([n]) => n > 2).length <= 1, `fds: ${r.stdout}`);
    // this kernel has no /proc/kcore (CONFIG_PROC_KCORE off); every masked path that exists must read empty
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list'].filter((p) => fs.existsSync(p));
    assert.ok(masked.length > 0);
    r = await run([img, 'wc', '-c', ...masked]);
    for (const line of r.stdout.trim().split('\n').slice(0, masked.length)) assert.match(line, /^\s*0 /, `masked: ${line}`);
    r = await run([img, 'sh', '-c', 'echo 1 > /proc/sys/kernel/domainname && echo writable']);
    assert.notEqual(r.code, 0, '/proc/sys is read-only');
    r = await run([img, 'touch', '/sys/kernel/x']);
    assert.notEqual(r.code, 0, '/sys is read-only');
    r = await run([img, 'mount', '-t', 'tmpfs', 'none', '/mnt']);
    assert.notEqual(r.code, 0, 'mount fails');
    r = await run([img, 'unshare', '-U', 'true']);
    assert.notEqual(r.code, 0, 'seccomp denies unshare');
    r = await run(['--security-opt', 'seccomp=unconfined', img, 'unshare', '-U', 'true']);
    assert.equal(r.code, 0, `without seccomp unshare -U works: ${r.stderr}`);
    r = await run([img, 'sh', '-c', 'echo x >> /proc/1/exe']);
    assert.notEqual(r.code, 0, '/proc/1/exe cannot be written');
  });

  test('env, workdir, user, entrypoint', async () => {
    const envFile = path.join(os.tmpdir(), `tsdock-envfile-${process.pid}`);
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    try {
      let r = await run(['-e', 'A=1', '--env-file', envFile, '-w', '/work/dir', '-u', 'app', img, 'sh', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $HOME']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 yes /work/dir 1000:1000 /home/app\n');
      r = await run(['-u', '1234:5678', img, 'id']);
      assert.match(r.stdout, /uid=1234 gid=5678/);
      r = await run(['-u', 'nosuchuser', img, 'id']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /nosuchuser/);
      r = await run(['--entrypoint', 'echo', img, 'from', 'entrypoint']);
      assert.equal(r.stdout, 'from entrypoint\n');
    } finally {
      fs.rmSync(envFile, { force: true });
    }
  });

  test('the layered image: whiteouts, setuid, owners and hardlinks inside', async () => {
    const fx = h.fixtures.layered;
    const e = fx.expect;
    const r = await run([fx.ref, 'sh', '-c', [
      `test -e ${e.whiteoutRemoved} && echo whiteout-broken`,
      `test -e ${e.opaqueGone[0]} && echo opaque-broken`,
      `stat -c '%a %u:%g' ${e.setuid.path} ${e.owned.path}`,
      `stat -c '%i' ${e.hardlinks[0]} ${e.hardlinks[1]}`,
    ].join('; ')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [`${e.setuid.mode.toString(8)} 0:0`, `${e.modes[e.owned.path]!.toString(8)} ${e.owned.uid}:${e.owned.gid}`]);
    assert.equal(lines[2], lines[3], 'hardlinks share an inode');
  });

  test('volumes: named volume survives --rm; :ro bind is read-only; a symlink target cannot reach the host', async () => {
    const vol = `vol${process.pid}`;
    let r = await run(['-v', `${vol}:/data`, img, 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['-v', `${vol}:/data`, img, 'cat', '/data/f']);
    assert.equal(r.stdout, 'kept\n');
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bind-'));
    try {
      r = await run(['-v', `${host}:/mnt/ro:ro`, img, 'touch', '/mnt/ro/x']);
      assert.notEqual(r.code, 0);
      assert.ok(!fs.existsSync(path.join(host, 'x')));
      const shadowBefore = fs.readFileSync('/etc/shadow');
      fs.writeFileSync(path.join(host, 'payload'), 'pwned\n');
      // an image whose /evil is a symlink to /etc/shadow: a bind onto /evil must land inside the container
      const busybox = fs.readFileSync('/bin/busybox');
      const evil = await pushRaw(h.plain.host, `evil-${process.pid}`, 'latest', {
        layers: [makeTar([
          { name: 'bin/', type: 'dir' },
          { name: 'bin/busybox', data: busybox, mode: 0o755 },
          { name: 'bin/cat', type: 'symlink', linkname: 'busybox' },
          { name: 'etc/', type: 'dir' },
          { name: 'evil', type: 'symlink', linkname: '/etc/shadow' },
        ])],
      });
      r = await run(['-v', `${host}/payload:/evil`, evil.ref, '/bin/cat', '/etc/shadow']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'pwned\n', 'the bind landed on the container\'s /etc/shadow');
      assert.deepEqual(fs.readFileSync('/etc/shadow'), shadowBefore, 'host /etc/shadow untouched');
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
      await tsdock(['volume', 'rm', vol], { root });
    }
  });

  test('the vfs (copying) storage driver gives the same view of the layered image', async () => {
    const fx = h.fixtures.layered;
    const e = fx.expect;
    const r = await tsdock(['--storage-driver', 'vfs', 'run', '--rm', fx.ref, 'sh', '-c', [
      `test -e ${e.whiteoutRemoved} && echo whiteout-broken`,
      `test -e ${e.opaqueGone[0]} && echo opaque-broken`,
      `stat -c '%a %u:%g' ${e.setuid.path} ${e.owned.path}`,
      `stat -c '%i' ${e.hardlinks[0]} ${e.hardlinks[1]}`,
    ].join('; ')], { root });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [`${e.setuid.mode.toString(8)} 0:0`, `${e.modes[e.owned.path]!.toString(8)} ${e.owned.uid}:${e.owned.gid}`]);
    assert.equal(lines[2], lines[3], 'hardlinks share an inode');
  });

  test('--mount type=volume|bind|tmpfs; anonymous volumes go with --rm', async () => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-mount-'));
    try {
      fs.writeFileSync(path.join(host, 'in'), 'from host\n');
      const before = (await tsdock(['volume', 'ls', '-q'], { root })).stdout;
      const r = await run([
        '--mount', `type=bind,source=${host},target=/h,readonly`,
        '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=1m',
        '--mount', 'type=volume,target=/anon',
        img, 'sh', '-c', 'cat /h/in; touch /h/x 2>/dev/null || echo ro; df -k /scratch | tail -1 | tr -s \" \" | cut -d\" \" -f2; touch /anon/f && echo anon',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['from host', 'ro', '1024', 'anon']);
      assert.equal((await tsdock(['volume', 'ls', '-q'], { root })).stdout, before, 'the anonymous volume was removed with --rm');
      const bad = await run(['--mount', 'type=bind,source=/no/such/dir,target=/x', img, 'true']);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /bind source path does not exist: \/no\/such\/dir/);
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
    }
  });

  test('--read-only and --tmpfs', async () => {
    let r = await run(['--read-only', img, 'touch', '/x']);
    assert.notEqual(r.code, 0);
    r = await run(['--read-only', '--tmpfs', '/tmp', img, 'sh', '-c', 'touch /tmp/x && echo ok']);
    assert.equal(r.stdout, 'ok\n', r.stderr);
  });

  test('--init reaps and forwards; --privileged gets all capabilities', async () => {
    let r = await run(['--init', img, 'sh', '-c', 'echo $$']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(r.stdout.trim(), '1', 'with --init the command is not pid 1');
    r = await run(['--privileged', img, 'grep', 'CapEff', '/proc/self/status']);
    assert.notEqual(r.stdout.trim().split(/\s+/)[1], DEFAULT_CAPS);
    // every capability tsdock itself holds (its bounding set)
    const bnd = /^CapBnd:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    assert.equal(r.stdout.trim().split(/\s+/)[1], bnd);
  });
});
