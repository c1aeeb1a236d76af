import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

import path from 'node:path';
import { lgetxattr } from '../../src/sys/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, tempRoot, type RunResult } from './helpers.js';

const USER = 'tsdock-test';

function userInfo(): { uid: number; home: string; subuid: number; subgid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    const start = (file: string) => Number(fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))?.split(':')[1]);
    return { uid, home: `/home/${USER}`, subuid: start('/etc/subuid'), subgid: start('/etc/subgid') };
  } catch {
    return undefined;
  }
}

const user = isRoot ? userInfo() : undefined;
const skip = !isRoot ? 'needs root to switch to the unprivileged test user' : !user ? `no ${USER} user (scripts/install-deps.sh creates it)` : false;

let runtime: string | undefined;
/** this file's own XDG_RUNTIME_DIR, so its pause process (the user namespace holder) is its own to stop */
function runtimeDir(): string {
  if (!runtime) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-rootless-xdg-'));
    fs.chownSync(dir, user!.uid, 0);
    process.once('exit', () => {
      try {
        process.kill(Number(fs.readFileSync(path.join(dir, 'tsdock', 'userns-holder.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
      } catch {
        // no pause process was started
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });
    runtime = dir;
  }
  return runtime;
}

/** Run bin/tsdock as the unprivileged test user. */
function asUser(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('runuser', ['-u', USER, '--', 'env', `HOME=${user!.home}`, `XDG_RUNTIME_DIR=${runtimeDir()}`, 'NO_COLOR=1', process.execPath, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('rootless pull (an unprivileged user with subordinate id ranges)', { skip }, () => {
  let h: HarnessData;
  before(async () => {
    h = await getHarness();
  });

  test('layer ownership is mapped through the subuid range; whiteouts use the user.overlay form', async () => {
    const { root } = tempRoot('rootless');
    fs.chownSync(root, user!.uid, user!.uid);
    const fx = h.fixtures.layered;
    let r = await asUser(['--root', root, 'pull', fx.ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning with a full mapping');
    r = await asUser(['--root', root, 'images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(r.stdout, `${fx.ref}\n`);
    r = await asUser(['--root', root, 'inspect', '--format', '{{json .GraphDriver.Data}}', fx.ref]);
    const data = JSON.parse(r.stdout) as { UpperDir: string; LowerDir: string };
    const dirs = [data.UpperDir, ...data.LowerDir.split(':')];
    const find = (p: string) => dirs.map((d) => path.join(d, p)).find((x) => fs.existsSync(x) || isLink(x));
    const owned = fs.statSync(find(fx.expect.owned.path)!);
    assert.equal(owned.uid, user!.subuid + fx.expect.owned.uid - 1, 'image uid 1000 is subuid_start + 999 on the host');
    assert.equal(owned.gid, user!.subgid + fx.expect.owned.gid - 1);
    const rootOwned = fs.statSync(path.join(dirs[dirs.length - 1]!, 'bin'));
    assert.equal(rootOwned.uid, user!.uid, 'image root is the user itself');
    const opaque = dirs.map((d) => path.join(d, fx.expect.opaqueDir)).find((d) => fs.existsSync(d) && lgetxattr(d, 'user.overlay.opaque'));
    assert.ok(opaque, 'an opaque directory carries user.overlay.opaque');
    assert.equal(lgetxattr(opaque!, 'trusted.overlay.opaque'), undefined);
    const whiteout = dirs.map((d) => path.join(d, fx.expect.whiteoutRemoved)).find((x) => isLink(x) || fs.existsSync(x));
    const st = fs.lstatSync(whiteout!);
    assert.ok(st.isCharacterDevice() && st.rdev === 0, 'file whiteout is a 0/0 character device');
    assert.equal(fs.statSync(find(fx.expect.setuid.path)!).mode & 0o7777, fx.expect.setuid.mode);
    r = await asUser(['--root', root, 'rmi', fx.ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers', 'sha256')), []);
  });

  test('state defaults to the user\'s XDG directories', async () => {
    const r = await asUser(['info', '--format', '{{.RootDir}} {{.Rootless}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${path.join(user!.home, '.local', 'share', 'tsdock')} true`);
  });
});

function isLink(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

