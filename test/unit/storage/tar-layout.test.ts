import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { unpackLayer, type UnpackOptions } from '../../../src/storage/unpack.js';
import { rebuildLayerTar } from '../../../src/storage/tar-layout.js';
import { buildTar, isRoot, sandbox, streamOf, type FixtureEntry } from './fixtures.js';

const opts: UnpackOptions = { whiteouts: 'overlay-root', chown: isRoot };

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

describe('tar layout: a layer tar rebuilt byte for byte from its unpacked files', () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => (box = sandbox('layout')));
  afterEach(() => box.cleanup());

  const roundTrip = async (tar: Buffer, chunk = 777) => {
    const layout = path.join(box.root, 'layout.gz');
    await unpackLayer(streamOf(tar, chunk), box.dest, { ...opts, layoutFile: layout });
    return collect(rebuildLayerTar(box.dest, layout));
  };

  it('files, directories, links, whiteouts, long names and the trailer', async () => {
    const entries: FixtureEntry[] = [
      { path: 'etc/', type: 'dir', mode: 0o755 },
      { path: 'etc/hosts', body: '127.0.0.1 localhost\n' },
      { path: 'etc/empty', body: '' },
      { path: `deep/${'x'.repeat(150)}/file`, body: 'long name' },
      { path: 'etc/link', type: 'symlink', linkpath: 'hosts' },
      { path: 'etc/hard', type: 'link', linkpath: 'etc/hosts' },
      { path: 'etc/.wh.gone', body: '' },
      { path: 'gnu/' + 'y'.repeat(120), body: 'gnu long name', gnuLongName: true },
      { path: 'xattr', body: 'x', xattrs: { 'user.k': Buffer.from([0, 1, 2, 255]) } },
      { path: 'big', body: Buffer.alloc(3 << 20, 7) },
    ];
    for (const chunk of [1, 777, 1 << 20]) {
      box.cleanup();
      box = sandbox('layout');
      const tar = buildTar(entries);
      assert.ok((await roundTrip(tar, chunk)).equals(tar), `chunk ${chunk}`);
    }
  });

  it('a layout too large to hold in memory (over 1 MiB of headers) is streamed to its file: the same bytes back', async () => {
    const entries: FixtureEntry[] = [{ path: 'd/', type: 'dir', mode: 0o755 }];
    for (let i = 0; i < 2500; i++) entries.push(i % 2 ? { path: `d/f${i}`, body: `${i}` } : { path: `d/l${i}`, type: 'symlink', linkpath: 'f1' });
    const tar = buildTar(entries);
    assert.ok((await roundTrip(tar, 64 << 10)).equals(tar));
  });

  it('bytes after the end-of-archive marker are kept too', async () => {
    const tar = buildTar([{ path: 'a', body: 'a' }], { padTo: 10240 });
    assert.ok((await roundTrip(tar)).equals(tar));
  });

  it('a file changed in the layer after unpacking is what comes back (the caller checks the diff_id)', async () => {
    const tar = buildTar([{ path: 'a', body: 'abc' }]);
    const layout = path.join(box.root, 'layout.gz');
    await unpackLayer(streamOf(tar), box.dest, { ...opts, layoutFile: layout });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(box.dest, 'a'), 'abd');
    assert.ok(!(await collect(rebuildLayerTar(box.dest, layout))).equals(tar));
  });
});
