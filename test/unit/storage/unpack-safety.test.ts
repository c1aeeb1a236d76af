import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { UnsafeArchiveError } from '../../../src/errors.js';
import { unpackLayer } from '../../../src/storage/unpack.js';
import { buildTar, sandbox, streamOf, type FixtureEntry } from './fixtures.js';

const opts = { whiteouts: 'overlay-root' as const, chown: false };

describe('unpackLayer safety', () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => (box = sandbox('safety')));
  afterEach(() => box.cleanup());

  async function rejects(entries: FixtureEntry[], pattern: RegExp): Promise<void> {
    // the caller would delete a failed layer dir; start each attempt from an empty one
    fs.rmSync(box.dest, { recursive: true, force: true });
    fs.mkdirSync(box.dest);
    await assert.rejects(unpackLayer(streamOf(buildTar(entries)), box.dest, opts), (err: unknown) => {
      assert.ok(err instanceof UnsafeArchiveError, `expected UnsafeArchiveError, got ${String(err)}`);
      assert.match(err.message, pattern);
      return true;
    });
    assert.deepEqual(fs.readdirSync(box.outside), [], 'nothing may be written outside the layer');
    assert.deepEqual(fs.readdirSync(path.dirname(box.dest)).sort(), ['diff']);
  }

  it('rejects an entry that climbs out with ../', async () => {
    await rejects([{ path: '../evil', body: 'x' }], /layer contains unsafe path "\.\.\/evil": escapes the layer directory/);
    await rejects([{ path: '../../outside/evil', body: 'x' }], /escapes the layer directory/);
    await rejects([{ path: 'a/../../../outside/evil', body: 'x' }], /escapes the layer directory/);
    await rejects([{ path: '/../outside/evil', body: 'x' }], /escapes the layer directory/);
  });

  it('keeps an absolute path inside the layer', async () => {
    const name = `tsdock-abs-${process.pid}`;
    await unpackLayer(streamOf(buildTar([{ path: `/tmp/${name}/file`, body: 'inside' }, { path: './rel/./x', body: 'y' }])), box.dest, opts);
    assert.equal(fs.readFileSync(path.join(box.dest, 'tmp', name, 'file'), 'utf8'), 'inside');
    assert.equal(fs.existsSync(`/tmp/${name}`), false);
    assert.equal(fs.readFileSync(path.join(box.dest, 'rel', 'x'), 'utf8'), 'y');
  });

  it('normalizes a/../b inside the layer, as docker does', async () => {
    await unpackLayer(streamOf(buildTar([{ path: 'a/../b', body: 'b' }])), box.dest, opts);
    assert.equal(fs.readFileSync(path.join(box.dest, 'b'), 'utf8'), 'b');
  });

  it('rejects a write through an absolute symlink in the same layer', async () => {
    await rejects(
      [
        { path: 'link', type: 'symlink', linkpath: box.outside },
        { path: 'link/passwd', body: 'pwned' },
      ],
      /layer contains unsafe path "link\/passwd": its parent "link" is a symlink in this layer/,
    );
  });

  it('rejects link -> /etc followed by link/<file>', async () => {
    // a harmless name, so even a broken implementation could not damage the host
    const name = `tsdock-must-not-exist-${process.pid}`;
    await rejects(
      [
        { path: 'link', type: 'symlink', linkpath: '/etc' },
        { path: `link/${name}`, body: 'pwned' },
      ],
      /its parent "link" is a symlink in this layer/,
    );
    assert.equal(fs.existsSync(`/etc/${name}`), false);
  });

  it('rejects a write through a relative symlink, and mkdir under it', async () => {
    await rejects(
      [
        { path: 'up', type: 'symlink', linkpath: '../../outside' },
        { path: 'up/x', body: 'pwned' },
      ],
      /its parent "up" is a symlink/,
    );
    await rejects(
      [
        { path: 'up', type: 'symlink', linkpath: '../../outside' },
        { path: 'up/d/', type: 'dir' },
      ],
      /its parent "up" is a symlink/,
    );
    await rejects(
      [
        { path: 'up', type: 'symlink', linkpath: '../../outside' },
        { path: 'up/sub/deeper/file', body: 'x' },
      ],
      /its parent "up" is a symlink/,
    );
  });

  it('rejects a write through a symlink that replaced a directory', async () => {
    await rejects(
      [
        { path: 'd/', type: 'dir' },
        { path: 'd/ok', body: 'fine' },
        { path: 'd', type: 'symlink', linkpath: box.outside },
        { path: 'd/passwd', body: 'pwned' },
      ],
      /its parent "d" is a symlink/,
    );
  });

  it('rejects hardlinks that leave the layer or do not exist in it', async () => {
    await rejects([{ path: 'h', type: 'link', linkpath: '../../x' }], /unsafe hardlink "h" -> "\.\.\/\.\.\/x": escapes the layer directory/);
    await rejects([{ path: 'h', type: 'link', linkpath: '/etc/shadow' }], /unsafe hardlink "h" -> "\/etc\/shadow": the target does not exist earlier in this layer/);
    await rejects(
      [
        { path: 'etc', type: 'symlink', linkpath: '/etc' },
        { path: 'h', type: 'link', linkpath: 'etc/shadow' },
      ],
      /unsafe hardlink "h" -> "etc\/shadow": its parent "etc" is a symlink/,
    );
    await rejects(
      [
        { path: 'dir/', type: 'dir' },
        { path: 'h', type: 'link', linkpath: 'dir' },
      ],
      /the target is a directory/,
    );
  });

  it('rejects a file written through a hardlink target path under a symlink', async () => {
    await rejects(
      [
        { path: 'l', type: 'symlink', linkpath: box.outside },
        { path: 'f', body: 'x' },
        { path: 'l/h', type: 'link', linkpath: 'f' },
      ],
      /unsafe path "l\/h": its parent "l" is a symlink/,
    );
  });

  it('rejects whiteouts under a symlinked directory', async () => {
    await rejects(
      [
        { path: 'l', type: 'symlink', linkpath: box.outside },
        { path: 'l/.wh..wh..opq' },
      ],
      /unsafe whiteout "l\/\.wh\.\.wh\.\.opq": its parent "l" is a symlink/,
    );
    await rejects(
      [
        { path: 'l', type: 'symlink', linkpath: box.outside },
        { path: 'l/.wh.victim' },
      ],
      /its parent "l" is a symlink/,
    );
    await rejects([{ path: 'a/.wh...' }], /unsafe whiteout "a\/\.wh\.\.\.": names no file/);
  });

  it('rejects nul bytes and a file used as a directory', async () => {
    await rejects([{ path: 'a\0b', body: 'x' }], /contains a nul byte/);
    await rejects(
      [
        { path: 'f', body: 'x' },
        { path: 'f/g', body: 'y' },
      ],
      /its parent "f" is not a directory/,
    );
  });

  it('keeps symlinks to anywhere as symlinks, without following them', async () => {
    await unpackLayer(
      streamOf(
        buildTar([
          { path: 'abs', type: 'symlink', linkpath: '/etc/passwd' },
          { path: 'rel', type: 'symlink', linkpath: '../../../outside' },
          { path: 'dangling', type: 'symlink', linkpath: 'no/such/file' },
        ]),
      ),
      box.dest,
      opts,
    );
    assert.equal(fs.readlinkSync(path.join(box.dest, 'abs')), '/etc/passwd');
    assert.equal(fs.readlinkSync(path.join(box.dest, 'rel')), '../../../outside');
    assert.equal(fs.readlinkSync(path.join(box.dest, 'dangling')), 'no/such/file');
    assert.ok(fs.lstatSync(path.join(box.dest, 'dangling')).isSymbolicLink());
  });

  it('replaces a symlink by a later file without writing through it', async () => {
    fs.writeFileSync(path.join(box.outside, 'target'), 'original');
    await unpackLayer(
      streamOf(
        buildTar([
          { path: 'x', type: 'symlink', linkpath: path.join(box.outside, 'target') },
          { path: 'x', body: 'replaced' },
        ]),
      ),
      box.dest,
      opts,
    );
    assert.equal(fs.readFileSync(path.join(box.outside, 'target'), 'utf8'), 'original');
    assert.ok(fs.lstatSync(path.join(box.dest, 'x')).isFile());
    assert.equal(fs.readFileSync(path.join(box.dest, 'x'), 'utf8'), 'replaced');
    fs.rmSync(path.join(box.outside, 'target'));
  });
});
