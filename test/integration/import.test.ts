// import: a root file system tarball (a directory the test builds, tarred and gzip'd; from a file, stdin and a
// loopback URL) becomes a runnable one-layer image, with -c changes and -m.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock, tsdockRaw } from './helpers.js';

const run = promisify(execFile);

describe('import', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  let root: string;
  let work: string;
  let tarball: string;
  before(async () => {
    const h = await getHarness();
    ({ root } = tempRoot('import'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-import-files-'));
    // a root file system of the test's own: busybox's files (from an exported container) plus one of ours
    const ok = async (args: string[]) => {
      const r = await tsdock(args, { root });
      assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(['pull', '-q', h.fixtures.busyboxV2s2.ref]);
    const id = (await ok(['create', h.fixtures.busyboxV2s2.ref])).trim();
    const dir = path.join(work, 'rootfs');
    fs.mkdirSync(dir);
    await ok(['export', '-o', path.join(work, 'busybox.tar'), id]);
    await ok(['rm', id]);
    await run('tar', ['-xf', path.join(work, 'busybox.tar'), '-C', dir]);
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from the test\n');
    tarball = path.join(work, 'rootfs.tar.gz');
    await run('tar', ['-czf', tarball, '-C', dir, '.']);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('a gzip tarball with -c CMD, ENV, WORKDIR and -m runs', async () => {
    let r = await tsdock(['import', '-c', 'CMD ["cat", "hello.txt"]', '-c', 'ENV GREETING=hi', '-c', 'WORKDIR /', '-m', 'made by the test', tarball, 'imported/app:v1'], { root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const id = r.stdout.trim();
    r = await tsdock(['run', '--rm', 'imported/app:v1'], { root });
    assert.equal(r.stdout, 'hello from the test\n', r.stderr);
    r = await tsdock(['inspect', '--format', '{{.Id}} {{json .Config.Cmd}} {{json .Config.Env}} {{len .RootFS.Layers}} {{.Os}}', 'imported/app:v1'], { root });
    assert.equal(r.stdout.trim(), `${id} ["cat","hello.txt"] ["GREETING=hi"] 1 linux`);
    r = await tsdock(['history', '--no-trunc', '--format', '{{.Comment}}', 'imported/app:v1'], { root });
    assert.equal(r.stdout.trim(), 'made by the test');
    r = await tsdock(['run', '--rm', 'imported/app:v1', 'sh', '-c', 'echo $GREETING'], { root });
    assert.equal(r.stdout, 'hi\n');
  });

  test('from stdin, untagged; the default comment names the source', async () => {
    const r = await tsdockRaw(['image', 'import', '-'], root, fs.readFileSync(tarball));
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.toString().trim();
    const h = await tsdock(['history', '--format', '{{.Comment}}', id], { root });
    assert.equal(h.stdout.trim(), 'Imported from -');
    const c = await tsdock(['run', '--rm', id, 'cat', '/hello.txt'], { root });
    assert.equal(c.stdout, 'hello from the test\n');
  });

  test('from a loopback URL; a missing URL and file fail with exit 1 and leave nothing', async () => {
    const server = http.createServer((req, res) => {
      if (req.url !== '/rootfs.tar.gz') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/gzip' });
      fs.createReadStream(tarball).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      let r = await tsdock(['import', `${base}/rootfs.tar.gz`, 'fromurl:1'], { root });
      assert.equal(r.code, 0, r.stderr);
      r = await tsdock(['run', '--rm', 'fromurl:1', 'cat', '/hello.txt'], { root });
      assert.equal(r.stdout, 'hello from the test\n');
      r = await tsdock(['import', `${base}/missing.tar`], { root });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Error: fetching ${base}/missing.tar: the server answered 404 Not Found\n`);
    } finally {
      server.close();
    }
    const r = await tsdock(['import', path.join(work, 'nope.tar')], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: open ${path.join(work, 'nope.tar')}: no such file or directory\n`);
    const bad = await tsdock(['import', '-c', 'FROM x', tarball], { root });
    // as commit -c (and dockerd): a daemon-side refusal, exit 1, before any work
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(bad.stderr, 'Error: FROM is not a valid change command\n');
    assert.deepEqual(fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')) : [], []);
  });
});
