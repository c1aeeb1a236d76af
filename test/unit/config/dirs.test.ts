import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectorySetupError, ensureRuntimeDir, ensureStoreDir } from '../../../src/config/dirs.js';

const mode = (p: string) => fs.lstatSync(p).mode & 0o7777;

function scratch(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-dirs-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('runtime dir: created 0700 (parents as mkdir -p), accepted again; too open, a symlink, a file, or not ours refused', () => {
  const t = scratch();
  try {
    const rr = path.join(t.dir, 'a', 'b', 'run');
    ensureRuntimeDir(rr);
    assert.equal(mode(rr), 0o700);
    ensureRuntimeDir(rr);
    fs.chmodSync(rr, 0o750);
    assert.throws(() => ensureRuntimeDir(rr), (e: unknown) => e instanceof DirectorySetupError && /has mode 0750, not 0700: refusing to use it/.test((e as Error).message));
    fs.chmodSync(rr, 0o700);
    const uid = process.geteuid!();
    assert.throws(() => ensureRuntimeDir(rr, uid + 1), new RegExp(`is owned by uid ${uid}, not by uid ${uid + 1}`));
    const link = path.join(t.dir, 'link');
    fs.symlinkSync(rr, link);
    assert.throws(() => ensureRuntimeDir(link), /is a symlink/);
    const file = path.join(t.dir, 'file');
    fs.writeFileSync(file, '');
    assert.throws(() => ensureRuntimeDir(file), /is not a directory/);
  } finally {
    t.cleanup();
  }
});

test('store: created 0700; an older store (0755 dirs, 0644 state) tightened, what a container sees left as it is', () => {
  const t = scratch();
  try {
    const root = path.join(t.dir, 'p', 'store');
    ensureStoreDir(root);
    assert.equal(mode(root), 0o700);
    assert.equal(mode(path.dirname(root)) & 0o700, 0o700);
    const c = path.join(root, 'containers', 'abc');
    for (const d of [path.join(c, 'upper'), path.join(root, 'volumes', 'v', '_data'), path.join(root, 'names')]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    for (const f of ['config.json', 'container.json', 'state.json', 'hosts']) fs.writeFileSync(path.join(c, f), '{}', { mode: 0o644 });
    for (const d of [root, path.join(root, 'containers'), c, path.join(root, 'volumes'), path.join(root, 'names')]) fs.chmodSync(d, 0o755);
    ensureStoreDir(root);
    for (const d of [root, path.join(root, 'containers'), c, path.join(root, 'volumes'), path.join(root, 'names')]) assert.equal(mode(d), 0o700, d);
    for (const f of ['config.json', 'container.json', 'state.json']) assert.equal(mode(path.join(c, f)), 0o600, f);
    assert.equal(mode(path.join(c, 'hosts')), 0o644, 'bind-mounted into the container: unchanged');
    assert.equal(mode(path.join(c, 'upper')), 0o755, "the container's /: unchanged");
    assert.equal(mode(path.join(root, 'volumes', 'v', '_data')), 0o755, "a volume's content: unchanged");
    // a store root that is not ours is left alone
    fs.chmodSync(root, 0o755);
    ensureStoreDir(root, process.geteuid!() + 1);
    assert.equal(mode(root), 0o755);
  } finally {
    t.cleanup();
  }
});
