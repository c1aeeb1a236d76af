import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TsdockError } from '../../../src/errors.js';
import { readJson, readJsonSync, tempPathFor, writeFileAtomic, writeJsonAtomic } from '../../../src/state/atomic.js';

describe('state/atomic', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-atomic-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names temp files .<base>.tmp-<pid>-<n><random> beside the target', () => {
    const tmp = tempPathFor(path.join(dir, 'images.json'));
    assert.equal(path.dirname(tmp), dir);
    assert.match(path.basename(tmp), new RegExp(`^\\.images\\.json\\.tmp-${process.pid}-[0-9a-f]{7,}$`));
  });

  it('writes and replaces content, with the exact mode, leaving no temp file', async () => {
    const file = path.join(dir, 'a');
    await writeFileAtomic(file, 'one');
    assert.equal(fs.readFileSync(file, 'utf8'), 'one');
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    await writeFileAtomic(file, Buffer.from('two'), { mode: 0o600, fsync: true });
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(file, 'three', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    assert.deepEqual(fs.readdirSync(dir), ['a']);
  });

  it('removes the temp file when the rename fails, and keeps the original error', async () => {
    const target = path.join(dir, 'is-a-dir');
    fs.mkdirSync(path.join(target, 'child'), { recursive: true });
    await assert.rejects(writeFileAtomic(target, 'x'), (err: NodeJS.ErrnoException) => err.code === 'EISDIR' || err.code === 'ENOTEMPTY' || err.code === 'EEXIST');
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.includes('.tmp-')),
      [],
    );
    fs.rmSync(target, { recursive: true });
  });

  it('fails cleanly when the directory does not exist', async () => {
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'f'), 'x'), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  });

  it('round-trips JSON; a missing file is undefined; garbage names the file', async () => {
    const file = path.join(dir, 'state.json');
    assert.equal(await readJson(file), undefined);
    assert.equal(readJsonSync(file), undefined);
    await writeJsonAtomic(file, { version: 1, images: { a: [1, 2] } });
    assert.deepEqual(await readJson(file), { version: 1, images: { a: [1, 2] } });
    assert.ok(fs.readFileSync(file, 'utf8').endsWith('}\n'));
    fs.writeFileSync(file, '{"truncated": ');
    await assert.rejects(readJson(file), (err: unknown) => err instanceof TsdockError && err.message.startsWith(`cannot parse ${file}: `));
    assert.throws(() => readJsonSync(file), TsdockError);
  });
});
