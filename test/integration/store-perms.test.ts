import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tsdock, type RunResult } from './helpers.js';

const NOBODY = 65534;
const has = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const skip = !isRoot ? 'needs root (a second host user attacks the store)' : !has('runuser', ['--version']) || !has('id', ['-u', 'nobody']) ? 'needs runuser (util-linux) and the user nobody' : !has('cc', ['--version']) ? 'needs a C compiler for the euid probe' : false;

/**
 * Run a command as the host user nobody (no capabilities). runuser, not `setpriv --reuid`: setpriv execs the
 * command in a way that still reached a binary below a 0700 root-owned directory here (util-linux 2.38).
 */
function asNobody(cmd: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('runuser', ['-u', 'nobody', '--', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A failed refusal (the old code) starts a user namespace holder there: never leave it behind. */
function killHolder(file: string): void {
  try {
    process.kill(Number(fs.readFileSync(file, 'utf8').split(' ')[0]), 'SIGKILL');
  } catch {
    // none was started
  }
}

const mode = (p: string) => fs.lstatSync(p).mode & 0o7777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

describe('store and runtime dir permissions: other host users are kept out', { skip }, () => {
  let base: string;
  let img: string;

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    // a 0755 parent, as /var/lib or a home directory is: only the store's own modes can keep nobody out
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-perms-'));
    fs.chmodSync(base, 0o755);
    // a setuid-root binary's proof: prints its effective uid (busybox drops setuid for `id`, so it cannot tell)
    fs.mkdirSync(path.join(base, 'probe'), { mode: 0o755 });
    fs.writeFileSync(path.join(base, 'probe', 'euid.c'), '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%d\\n", (int)geteuid()); return 0; }\n');
    execFileSync('cc', ['-static', '-O', '-o', path.join(base, 'probe', 'euid'), path.join(base, 'probe', 'euid.c')]);
  });

  after(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('a new store is 0700 down to the container: nobody can neither read -e secrets nor run a setuid binary the container made; an old 0755 store is tightened', async () => {
    // tsdock creates `parent/` (as mkdir -p would) and the store in it
    const root = path.join(base, 'parent', 'store');
    const name = `perms-${crypto.randomBytes(4).toString('hex')}`;
    try {
      const r = await tsdock(['run', '--name', name, '-e', 'SECRET=hunter2', '-v', `${path.join(base, 'probe')}:/probe:ro`, img, 'sh', '-c', 'cp /probe/euid /tmp/x && chmod 4755 /tmp/x && cp /bin/busybox /tmp/busybox && chmod 4755 /tmp/busybox'], { root });
      assert.equal(r.code, 0, r.stderr);
      const id = (await tsdock(['inspect', '--format', '{{.Id}}', name], { root })).stdout.trim();
      const dir = path.join(root, 'containers', id);
      const x = path.join(dir, 'upper', 'tmp', 'x');
      const busybox = path.join(dir, 'upper', 'tmp', 'busybox');
      // the targets are real: the container's setuid-root copies and its secret are there
      assert.equal(fs.statSync(x).mode & 0o7777, 0o4755);
      assert.equal(fs.statSync(x).uid, 0);
      assert.match(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), /SECRET=hunter2/);

      const attack = async () => {
        const run = await asNobody([x]);
        assert.notEqual(run.code, 0, `nobody ran the container's setuid binary: ${run.stdout}`);
        assert.match(run.stderr, /Permission denied/);
        const cat = await asNobody(['cat', path.join(dir, 'config.json')]);
        assert.notEqual(cat.code, 0, 'nobody reads config.json');
        assert.match(cat.stderr, /Permission denied/);
        assert.doesNotMatch(cat.stdout, /hunter2/);
        const bb = await asNobody([busybox, 'id', '-u']);
        assert.notEqual(bb.code, 0);
        assert.match(bb.stderr, /Permission denied/);
        assert.equal((await asNobody(['ls', path.join(root, 'containers')])).code === 0, false, 'nobody lists the containers');
      };
      await attack();

      assert.equal(octal(mode(root)), '0700');
      for (const d of ['containers', 'names', path.join('containers', id)]) assert.equal(octal(mode(path.join(root, d))), '0700', d);
      for (const f of ['config.json', 'container.json', 'state.json', 'exit.json']) assert.equal(octal(mode(path.join(dir, f))), '0600', f);
      // what the container sees keeps its mode: its "/" and the bind-mounted /etc files
      assert.equal(octal(mode(path.join(dir, 'upper'))), '0755');
      for (const f of ['hosts', 'hostname', 'resolv.conf']) assert.equal(mode(path.join(dir, f)) & 0o444, 0o444, `${f} readable by any container user`);

      // a store as an older tsdock left it (0755 dirs, 0644 state): the same attack works there...
      for (const d of [root, path.join(root, 'containers'), path.join(root, 'names'), dir]) fs.chmodSync(d, 0o755);
      for (const f of ['config.json', 'container.json', 'state.json', 'exit.json']) fs.chmodSync(path.join(dir, f), 0o644);
      const root0 = await asNobody([x]);
      assert.equal(root0.stdout, '0\n', `setuid root through a traversable store: ${root0.stderr}`);
      assert.match((await asNobody(['cat', path.join(dir, 'config.json')])).stdout, /SECRET=hunter2/);
      // ...until any tsdock command opens the store, which tightens it
      const ps = await tsdock(['ps', '-a'], { root });
      assert.equal(ps.code, 0, ps.stderr);
      for (const d of [root, path.join(root, 'containers'), path.join(root, 'names'), dir]) assert.equal(octal(mode(d)), '0700', d);
      for (const f of ['config.json', 'container.json', 'state.json', 'exit.json']) assert.equal(octal(mode(path.join(dir, f))), '0600', f);
      assert.equal(octal(mode(path.join(dir, 'upper'))), '0755');
      await attack();
      const rm = await tsdock(['rm', name], { root });
      assert.equal(rm.code, 0, rm.stderr);
    } finally {
      await tsdock(['rm', '-f', name], { root });
    }
  });

  test('a volume\'s _data keeps its mode; the 0700 store keeps nobody from reaching it', async () => {
    const root = path.join(base, 'vol-store');
    const vol = `permsvol-${crypto.randomBytes(4).toString('hex')}`;
    try {
      const w = await tsdock(['run', '--rm', '-v', `${vol}:/data`, img, 'sh', '-c', 'echo s3cret > /data/f && chmod 644 /data/f'], { root });
      assert.equal(w.code, 0, w.stderr);
      // a container user that is not root still reaches it: through the bind mount, not the store path
      const rd = await tsdock(['run', '--rm', '-v', `${vol}:/data`, '-u', '1000', img, 'cat', '/data/f'], { root });
      assert.equal(rd.code, 0, rd.stderr);
      assert.equal(rd.stdout, 's3cret\n');
      const data = path.join(root, 'volumes', vol, '_data');
      assert.equal(octal(mode(data)), '0755');
      assert.equal(octal(mode(path.join(root, 'volumes'))), '0700');
      const cat = await asNobody(['cat', path.join(data, 'f')]);
      assert.notEqual(cat.code, 0);
      assert.match(cat.stderr, /Permission denied/);
    } finally {
      await tsdock(['volume', 'rm', '-f', vol], { root });
    }
  });

  test('a runtime dir that is too open, another user\'s, or a symlink is refused with exit 125', async () => {
    const root = path.join(base, 'rr-store');
    const runroot = path.join(base, 'rr');
    const ps = () => tsdock(['--runroot', runroot, 'ps', '-a'], { root });
    fs.mkdirSync(runroot, { mode: 0o777 });
    fs.chmodSync(runroot, 0o777);
    let r = await ps();
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: runtime directory .*\/rr has mode 0777, not 0700: refusing to use it/m);
    fs.chmodSync(runroot, 0o700);
    fs.chownSync(runroot, NOBODY, NOBODY);
    r = await ps();
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /runtime directory .* is owned by uid 65534, not by uid 0/);
    fs.rmSync(runroot, { recursive: true });
    fs.mkdirSync(path.join(base, 'elsewhere'), { mode: 0o700 });
    fs.symlinkSync(path.join(base, 'elsewhere'), runroot);
    r = await ps();
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /runtime directory .* is a symlink/);
    fs.rmSync(runroot);
    // missing: created 0700, and then accepted
    r = await ps();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(octal(mode(runroot)), '0700');
    // the default beside --root too
    assert.equal((await tsdock(['ps', '-a'], { root })).code, 0);
    assert.equal(octal(mode(path.join(root, 'run'))), '0700');
  });

  test('a name reserved by a creation still in progress is not taken over; one whose creator died is', async () => {
    const root = path.join(base, 'names-store');
    const name = `inprogress-${crypto.randomBytes(4).toString('hex')}`;
    assert.equal((await tsdock(['ps'], { root })).code, 0);
    // a creator between reserving the name and creating the container directory: alive, no directory yet
    const creator = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const stat = fs.readFileSync(`/proc/${creator.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      const pending = crypto.randomBytes(32).toString('hex');
      fs.mkdirSync(path.join(root, 'names'), { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(root, 'names', name), `${pending} ${creator.pid} ${start}\n`);
      let r = await tsdock(['create', '--name', name, img, 'true'], { root });
      assert.equal(r.code, 125, `a live creation's name was taken: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`Conflict. The container name "/${name}" is already in use by container "${pending}"`));
      creator.kill('SIGKILL');
      await new Promise((res) => creator.once('exit', res));
      // its creator is gone and no container directory was made: a crash, the name is free
      r = await tsdock(['create', '--name', name, img, 'true'], { root });
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      assert.equal(fs.readFileSync(path.join(root, 'names', name), 'utf8').split(' ')[0], id);
      assert.deepEqual(fs.readdirSync(path.join(root, 'names')), [name], 'no temp or stale files left');
      assert.equal((await tsdock(['rm', name], { root })).code, 0);
    } finally {
      creator.kill('SIGKILL');
      await tsdock(['rm', '-f', name], { root });
    }
  });
});

describe('rootless: the namespace holder\'s runtime dir must be the user\'s own', { skip: skip || (!has('id', ['-u', 'tsdock-test']) && 'no tsdock-test user (scripts/install-deps.sh creates it)') }, () => {
  test('a pre-created tsdock dir in XDG_RUNTIME_DIR owned by root is refused before any user namespace holder starts', async () => {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-perms-xdg-'));
    try {
      const uid = Number(execFileSync('id', ['-u', 'tsdock-test'], { encoding: 'utf8' }));
      fs.chownSync(xdg, uid, uid);
      fs.mkdirSync(path.join(xdg, 'tsdock'), { mode: 0o777 });
      fs.chmodSync(path.join(xdg, 'tsdock'), 0o777);
      const r = await new Promise<RunResult>((resolve) => {
        const child = spawn('runuser', ['-u', 'tsdock-test', '--', 'env', `XDG_RUNTIME_DIR=${xdg}`, 'NO_COLOR=1', process.execPath, bin, '--root', path.join(xdg, 'store'), 'ps'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      });
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`runtime directory ${xdg}/tsdock is owned by uid 0, not by uid ${uid}`));
      assert.equal(fs.existsSync(path.join(xdg, 'tsdock', 'userns-holder.pid')), false);
    } finally {
      killHolder(path.join(xdg, 'tsdock', 'userns-holder.pid'));
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });

  test('without XDG_RUNTIME_DIR: a <tmpdir>/tsdock-<uid> that another user made first is refused', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-perms-tmp-'));
    try {
      fs.chmodSync(tmp, 0o1777);
      const uid = Number(execFileSync('id', ['-u', 'tsdock-test'], { encoding: 'utf8' }));
      // the squatter (root here) leaves it open to the victim, as an attacker would
      fs.mkdirSync(path.join(tmp, `tsdock-${uid}`), { mode: 0o777 });
      fs.chmodSync(path.join(tmp, `tsdock-${uid}`), 0o777);
      const r = await new Promise<RunResult>((resolve) => {
        const child = spawn('runuser', ['-u', 'tsdock-test', '--', 'env', '-u', 'XDG_RUNTIME_DIR', `TMPDIR=${tmp}`, 'NO_COLOR=1', process.execPath, bin, '--root', path.join(tmp, 'store'), 'ps'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout: '', stderr }));
      });
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`runtime directory ${tmp}/tsdock-${uid} is owned by uid 0, not by uid ${uid}`));
      assert.deepEqual(fs.readdirSync(path.join(tmp, `tsdock-${uid}`)), [], 'nothing written into it');
    } finally {
      killHolder(path.join(tmp, `tsdock-${Number(execFileSync('id', ['-u', 'tsdock-test'], { encoding: 'utf8' }))}`, 'userns-holder.pid'));
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
