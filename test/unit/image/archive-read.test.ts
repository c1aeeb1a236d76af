import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IntegrityError } from '../../../src/errors.js';
import { memberPath, readArchive } from '../../../src/image/archive/read.js';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

describe('reading an unpacked archive', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-archive-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('members are read only inside the archive: symlinks out, .. and missing members are refused', () => {
    fs.writeFileSync(path.join(dir, 'in'), 'x');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'out'));
    fs.symlinkSync('in', path.join(dir, 'rel'));
    assert.equal(memberPath(dir, 'rel', 'a.tar'), fs.realpathSync(path.join(dir, 'in')));
    assert.throws(() => memberPath(dir, 'out', 'a.tar'), (e: Error) => e instanceof IntegrityError && e.message === 'a.tar: member "out" is not a file inside the archive');
    assert.throws(() => memberPath(dir, '../x', 'a.tar'), /a\.tar: member "\.\.\/x" is outside the archive/);
    assert.throws(() => memberPath(dir, 'nope', 'a.tar'), /a\.tar: member "nope" is missing/);
  });

  it('old-style docker-archive: <hex>.json config checked against its name, <id>/layer.tar layers', async () => {
    const diffId = `sha256:${'1'.repeat(64)}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
    fs.writeFileSync(path.join(dir, `${sha(config)}.json`), config);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['app:1'], Layers: ['abc/layer.tar'] }]));
    const [img] = await readArchive(dir, 'a.tar');
    assert.equal(img!.id, `sha256:${sha(config)}`);
    assert.deepEqual(img!.tags, ['docker.io/library/app:1']);
    assert.deepEqual(img!.layers, [{ file: 'abc/layer.tar', digest: undefined }]);
    fs.writeFileSync(path.join(dir, `${sha(config)}.json`), Buffer.concat([config, Buffer.from(' ')]));
    await assert.rejects(readArchive(dir, 'a.tar'), /a\.tar: config [0-9a-f]{64}\.json does not hash to its name/);
  });

  it('a config whose diff_ids do not match the layers, and a directory that is no archive', async () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    fs.mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'blobs/sha256', sha(config)), config);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: `blobs/sha256/${sha(config)}`, RepoTags: null, Layers: ['x'] }]));
    await assert.rejects(readArchive(dir, 'a.tar'), /lists 0 diff_ids for 1 layers/);
    fs.rmSync(path.join(dir, 'manifest.json'));
    await assert.rejects(readArchive(dir, 'a.tar'), /a\.tar: neither a docker-archive \(manifest\.json\) nor an OCI layout \(index\.json\)/);
  });
});
