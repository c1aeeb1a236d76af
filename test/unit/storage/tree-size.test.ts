import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { treeSize } from '../../../src/storage/tree-size.js';
import { rwSize } from '../../../src/container/state.js';
import { VolumeStore } from '../../../src/volume/store.js';

test('one tree-size walker: a container upper dir and a volume weigh the same tree the same', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-treesize-'));
  try {
    const fill = (d: string) => {
      fs.mkdirSync(path.join(d, 'a', 'b'), { recursive: true });
      fs.writeFileSync(path.join(d, 'a', 'b', 'f'), Buffer.alloc(1000));
      fs.linkSync(path.join(d, 'a', 'b', 'f'), path.join(d, 'hard'));
      fs.symlinkSync('a/b/f-target', path.join(d, 'link'));
      execFileSync('mkfifo', [path.join(d, 'fifo')]);
      if (process.getuid?.() === 0) execFileSync('mknod', [path.join(d, 'wh'), 'c', '0', '0']);
    };
    const id = 'c'.repeat(64);
    const upper = path.join(root, 'containers', id, 'upper');
    fill(upper);
    const volumes = new VolumeStore(root);
    const volume = await volumes.createVolume('sized');
    fill(volume.Mountpoint);
    const want = 1000 + 'a/b/f-target'.length;
    assert.equal(treeSize(upper), want);
    assert.equal(rwSize(root, id), want);
    assert.equal(volumes.volumeSize('sized'), want);
    assert.equal(treeSize(path.join(root, 'missing')), 0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('diskUsage counts what du -sbx counts: directories too, hard links once', async () => {
  const { diskUsage } = await import('../../../src/storage/tree-size.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-diskusage-'));
  try {
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a', 'b', 'f'), Buffer.alloc(12345));
    fs.linkSync(path.join(root, 'a', 'b', 'f'), path.join(root, 'hard'));
    fs.symlinkSync('a/b/f', path.join(root, 'link'));
    const du = Number(execFileSync('du', ['-sbx', root], { encoding: 'utf8' }).split('\t')[0]);
    assert.equal(diskUsage(root), du);
    assert.equal(diskUsage(path.join(root, 'missing')), 0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
