import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { NotFoundError, UsageError } from '../../../src/errors.js';
import { ANONYMOUS_LABEL, VolumeInUseError, VolumeStore, validateVolumeName } from '../../../src/volume/store.js';
import { treeSize as diskUsage } from '../../../src/storage/tree-size.js';

const storeModule = new URL('../../../src/volume/store.js', import.meta.url).href;

/** `count` processes that each create volume `name` at the same moment and print its CreatedAt + created flag. */
async function createInChildren(root: string, name: string, count: number): Promise<string[]> {
  const start = Date.now() + 300;
  const script = `
    import { VolumeStore } from ${JSON.stringify(storeModule)};
    const store = new VolumeStore(${JSON.stringify(root)});
    await new Promise((r) => setTimeout(r, ${start} - Date.now()));
    const { volume, created } = await store.ensureVolume(${JSON.stringify(name)});
    process.stdout.write(JSON.stringify({ createdAt: volume.CreatedAt, created }));
  `;
  const runs = Array.from({ length: count }, () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
    }),
  );
  return Promise.all(runs);
}

describe('volume/store', () => {
  let root: string;
  let store: VolumeStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-volstore-'));
    store = new VolumeStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const tmpLeft = () => (fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')) : []);

  it('validates names like docker', () => {
    for (const ok of ['ab', 'my-vol', 'a.b_c-1', '0volume', 'A'.repeat(200)]) assert.doesNotThrow(() => validateVolumeName(ok), ok);
    assert.throws(() => validateVolumeName('x'), {
      name: 'UsageError',
      message: 'invalid volume name "x": volume name is too short, names should be at least two alphanumeric characters',
    });
    for (const bad of ['a b', '-ab', '.ab', '_ab', 'a/b', '../etc', 'ab\n', 'é1', '']) {
      assert.throws(() => validateVolumeName(bad), (err: unknown) => err instanceof UsageError && err.message.startsWith(`invalid volume name ${JSON.stringify(bad)}: `), bad);
    }
    assert.throws(() => validateVolumeName('a b'), {
      message: `invalid volume name "a b": "a b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    });
  });

  it('creates <root>/volumes/<name>/{_data,volume.json} and reads it back', async () => {
    const v = await store.createVolume('data', { labels: { app: 'web' }, options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
    assert.equal(v.Name, 'data');
    assert.equal(v.Driver, 'local');
    assert.deepEqual(v.Labels, { app: 'web' });
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.equal(v.Anonymous, false);
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(v.Mountpoint, path.join(root, 'volumes', 'data', '_data'));
    assert.ok(fs.statSync(v.Mountpoint).isDirectory());
    assert.equal(fs.statSync(v.Mountpoint).mode & 0o777, 0o755);
    const onDisk = JSON.parse(fs.readFileSync(path.join(root, 'volumes', 'data', 'volume.json'), 'utf8'));
    assert.deepEqual(onDisk, { Name: 'data', Driver: 'local', Labels: { app: 'web' }, Options: v.Options, CreatedAt: v.CreatedAt, Anonymous: false });
    assert.deepEqual(await store.getVolume('data'), v);
    assert.deepEqual(tmpLeft(), []);
  });

  it('creating an existing name returns the existing volume unchanged', async () => {
    const first = await store.createVolume('dup', { labels: { a: '1' } });
    fs.writeFileSync(path.join(first.Mountpoint, 'keep'), 'x');
    const again = await store.createVolume('dup', { labels: { b: '2' } });
    assert.deepEqual(again, first);
    assert.ok(fs.existsSync(path.join(first.Mountpoint, 'keep')));
  });

  it('gives unnamed volumes a random 64-hex name; anonymous ones carry docker\'s label', async () => {
    const plain = await store.createVolume();
    assert.match(plain.Name, /^[0-9a-f]{64}$/);
    assert.equal(plain.Anonymous, false);
    assert.deepEqual(plain.Labels, {});
    const anon = await store.createVolume(undefined, { anonymous: true });
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.notEqual(anon.Name, plain.Name);
    assert.equal(anon.Anonymous, true);
    assert.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });
    assert.deepEqual((await store.listVolumes()).map((v) => v.Name), [plain.Name, anon.Name].sort());
  });

  it('rejects bad names, unknown drivers and local-driver option mistakes', async () => {
    await assert.rejects(store.createVolume('x'), UsageError);
    await assert.rejects(store.createVolume('bad name'), /invalid volume name "bad name"/);
    await assert.rejects(store.createVolume('ok', { driver: 'nfs-plugin' }), { message: 'error looking up volume plugin nfs-plugin: plugin "nfs-plugin" not found' });
    await assert.rejects(store.createVolume('ok', { options: { foo: '1' } }), { message: 'invalid option: "foo"' });
    await assert.rejects(store.createVolume('ok', { options: { type: 'tmpfs' } }), { message: 'missing required option: "device"' });
    await assert.rejects(store.createVolume('ok', { options: { o: 'ro' } }), { message: 'missing required option: "device"' });
    await assert.rejects(store.createVolume('ok', { options: { size: '1G' } }), /no quota support/);
    assert.deepEqual(await store.listVolumes(), []);
    assert.deepEqual(tmpLeft(), []);
  });

  it('getVolume: NotFoundError "no such volume: x", and never looks outside the store', async () => {
    await assert.rejects(store.getVolume('nope'), (err: unknown) => err instanceof NotFoundError && err.message === 'no such volume: nope');
    fs.mkdirSync(path.join(root, 'outside'));
    fs.writeFileSync(path.join(root, 'outside', 'volume.json'), JSON.stringify({ Name: 'outside' }));
    await assert.rejects(store.getVolume('../outside'), NotFoundError);
    assert.equal(await store.findVolume('../outside'), undefined);
  });

  it('ensureVolume creates on first use only', async () => {
    const a = await store.ensureVolume('cache');
    assert.equal(a.created, true);
    const b = await store.ensureVolume('cache');
    assert.equal(b.created, false);
    assert.deepEqual(b.volume, a.volume);
    await assert.rejects(store.ensureVolume('x'), UsageError);
  });

  it('concurrent creates of one name in one process: all succeed, one volume, one creator', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => store.ensureVolume('race')));
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.volume.CreatedAt)).size, 1);
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), ['race']);
    assert.deepEqual(tmpLeft(), []);
  });

  it('concurrent creates of one name across processes: all succeed, one volume', async () => {
    const outs = (await createInChildren(root, 'shared', 4)).map((o) => JSON.parse(o) as { createdAt: string; created: boolean });
    assert.equal(outs.filter((o) => o.created).length, 1);
    assert.equal(new Set(outs.map((o) => o.createdAt)).size, 1);
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), ['shared']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes', 'shared')).sort(), ['_data', 'volume.json']);
    assert.deepEqual(tmpLeft(), []);
  });

  it('removeVolume: removes data and record; missing is NotFound unless force', async () => {
    const v = await store.createVolume('gone');
    fs.mkdirSync(path.join(v.Mountpoint, 'ro'), { mode: 0o500 });
    fs.writeFileSync(path.join(v.Mountpoint, 'f'), 'data');
    assert.equal(await store.removeVolume('gone'), true);
    assert.equal(fs.existsSync(path.join(root, 'volumes', 'gone')), false);
    await assert.rejects(store.removeVolume('gone'), { message: 'no such volume: gone' });
    assert.equal(await store.removeVolume('gone', { force: true }), false);
    assert.deepEqual(tmpLeft(), []);
  });

  it('removeVolume: a volume in use is refused with docker\'s message, even with force', async () => {
    await store.createVolume('busy');
    const inUse = (name: string) => (name === 'busy' ? ['c0ffee', 'beef'] : []);
    await assert.rejects(
      store.removeVolume('busy', { inUse }),
      (err: unknown) => err instanceof VolumeInUseError && err.message === 'remove busy: volume is in use - [c0ffee, beef]' && err.containers.length === 2,
    );
    assert.ok(await store.findVolume('busy'));
    await assert.rejects(store.removeVolume('busy', { inUse, force: true }), VolumeInUseError);
    assert.ok(await store.findVolume('busy'));
    assert.equal(await store.removeVolume('busy', { inUse: () => [], force: true }), true);
    assert.equal(await store.findVolume('busy'), undefined);
  });

  it('listVolumes skips stray entries without volume.json', async () => {
    await store.createVolume('real');
    fs.mkdirSync(path.join(root, 'volumes', 'stray'));
    assert.deepEqual((await store.listVolumes()).map((v) => v.Name), ['real']);
  });

  it('diskUsage counts files and symlinks, hardlinked files once', () => {
    const d = path.join(root, 'du');
    fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a'), 'x'.repeat(1000));
    fs.linkSync(path.join(d, 'a'), path.join(d, 'sub', 'a-link'));
    fs.writeFileSync(path.join(d, 'sub', 'b'), 'y'.repeat(24));
    fs.symlinkSync('abc', path.join(d, 'l'));
    assert.equal(diskUsage(d), 1000 + 24 + 3);
    assert.equal(diskUsage(path.join(root, 'missing')), 0);
  });
});
