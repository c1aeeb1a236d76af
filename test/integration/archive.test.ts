// save and load: tsdock's archives read by skopeo and podman, theirs (skopeo copy, podman save, both formats)
// loaded and run by tsdock, the round trip keeping the image id, and a tampered layer refused leaving nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock, tsdockRaw } from './helpers.js';

const run = promisify(execFile);
let h: HarnessData;

async function ok(root: string, args: string[]): Promise<string> {
  const r = await tsdock(args, { root });
  assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function skopeoJson(target: string): Promise<{ Digest: string; Layers: string[]; RepoTags?: string[] }> {
  const { stdout } = await run('skopeo', ['inspect', target], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as { Digest: string; Layers: string[] };
}

/** podman with a store of the test's own under `dir` (nothing of the host's podman state is touched). */
function podman(dir: string): (args: string[]) => Promise<string> {
  const base = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--storage-driver', 'vfs', '--tmpdir', path.join(dir, 'tmp')];
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  return async (args) => (await run('podman', [...base, ...args], { maxBuffer: 16 << 20, env: { ...process.env, TMPDIR: path.join(dir, 'tmp') } })).stdout;
}

describe('save and load', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  let root: string;
  let work: string;
  let busybox: string;
  let layered: string;
  const cleanups: Array<() => void> = [];
  before(async () => {
    h = await getHarness();
    ({ root } = tempRoot('archive'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-archive-files-'));
    cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
    busybox = h.fixtures.busyboxV2s2.ref;
    layered = h.fixtures.layered.ref;
    await ok(root, ['pull', '-q', busybox]);
    await ok(root, ['pull', '-q', layered]);
  });
  after(() => {
    for (const c of cleanups) c();
  });

  test('save writes a docker-archive with an OCI layout inside: skopeo reads both views', async () => {
    const file = path.join(work, 'layered.tar');
    assert.equal(await ok(root, ['save', '-o', file, layered]), '');
    const tarList = (await run('tar', ['-tf', file])).stdout.split('\n').filter(Boolean);
    for (const m of ['manifest.json', 'repositories', 'index.json', 'oci-layout']) assert.ok(tarList.includes(m), `${m} in ${tarList.join(' ')}`);
    assert.ok(!tarList.some((m) => m.endsWith('layer.tar')), 'layers live under blobs/ only');
    const id = (await ok(root, ['inspect', '--format', '{{.Id}}', layered])).trim();
    const diffIds = JSON.parse(await ok(root, ['inspect', '--format', '{{json .RootFS.Layers}}', layered])) as string[];
    const docker = await skopeoJson(`docker-archive:${file}`);
    assert.deepEqual(docker.Layers, diffIds);
    const oci = await skopeoJson(`oci-archive:${file}`);
    assert.deepEqual(oci.Layers, diffIds);
    const manifest = JSON.parse((await run('tar', ['-xOf', file, 'manifest.json'])).stdout) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    assert.equal(manifest[0]!.Config, `blobs/sha256/${id.slice(7)}`);
    assert.deepEqual(manifest[0]!.RepoTags, [layered]);
    const index = JSON.parse((await run('tar', ['-xOf', file, 'index.json'])).stdout) as { manifests: Array<{ annotations: Record<string, string> }> };
    assert.equal(index.manifests[0]!.annotations['io.containerd.image.name'], layered);
    assert.equal(index.manifests[0]!.annotations['org.opencontainers.image.ref.name'], h.fixtures.layered.tag);
  });

  test('save --format oci-archive is the OCI layout alone; skopeo reads it', async () => {
    const file = path.join(work, 'busybox-oci.tar');
    await ok(root, ['image', 'save', '--format', 'oci-archive', '-o', file, busybox]);
    const tarList = (await run('tar', ['-tf', file])).stdout.split('\n').filter(Boolean);
    assert.ok(tarList.includes('index.json') && !tarList.includes('manifest.json'), tarList.join(' '));
    const diffIds = JSON.parse(await ok(root, ['inspect', '--format', '{{json .RootFS.Layers}}', busybox])) as string[];
    assert.deepEqual((await skopeoJson(`oci-archive:${file}`)).Layers, diffIds);
  });

  test('save to stdout, rmi, load from stdin (gzip): the same image id, tags and content', async () => {
    const id = (await ok(root, ['inspect', '--format', '{{.Id}}', layered])).trim();
    const saved = await tsdockRaw(['save', layered, busybox], root);
    assert.equal(saved.code, 0, saved.stderr);
    const other = tempRoot('archive-load').root;
    const loaded = await tsdockRaw(['load'], other, zlib.gzipSync(saved.stdout));
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.deepEqual(loaded.stdout.toString().trim().split('\n').sort(), [`Loaded image: ${busybox}`, `Loaded image: ${layered}`].sort());
    assert.equal((await ok(other, ['inspect', '--format', '{{.Id}}', layered])).trim(), id);
    const expect = h.fixtures.layered.expect;
    assert.equal((await ok(other, ['run', '--rm', layered, 'cat', `/${expect.opaqueKept}`])).length > 0, true);
    const gone = await tsdock(['run', '--rm', layered, 'ls', `/${expect.whiteoutRemoved}`], { root: other });
    assert.notEqual(gone.code, 0, 'the whiteout still applies');
    // the loaded store's layers rebuild byte for byte too: saving again gives the same layer digests
    const again = path.join(work, 'again.tar');
    await ok(other, ['save', '-o', again, layered]);
    assert.deepEqual((await skopeoJson(`docker-archive:${again}`)).Layers, JSON.parse(await ok(root, ['inspect', '--format', '{{json .RootFS.Layers}}', layered])));
    fs.rmSync(other, { recursive: true, force: true });
  });

  test('names as docker: a bare repository saves all its tags (several images), an ID saves the image untagged', async () => {
    await ok(root, ['tag', busybox, 'mine/app:1']);
    await ok(root, ['tag', layered, 'mine/app:2']);
    const file = path.join(work, 'repo.tar');
    await ok(root, ['save', '-o', file, 'mine/app']);
    const manifest = JSON.parse((await run('tar', ['-xOf', file, 'manifest.json'])).stdout) as Array<{ RepoTags: string[] | null }>;
    assert.deepEqual(manifest.map((m) => m.RepoTags).sort(), [['mine/app:1'], ['mine/app:2']]);
    const id = (await ok(root, ['inspect', '--format', '{{.Id}}', busybox])).trim();
    await ok(root, ['save', '-o', file, id.slice(7, 19)]);
    const byId = JSON.parse((await run('tar', ['-xOf', file, 'manifest.json'])).stdout) as Array<{ RepoTags: string[] | null }>;
    assert.deepEqual(byId.map((m) => m.RepoTags), [null]);
    const other = tempRoot('archive-id').root;
    assert.equal(await ok(other, ['load', '-i', file]), `Loaded image ID: ${id}\n`);
    fs.rmSync(other, { recursive: true, force: true });
    await ok(root, ['rmi', 'mine/app:1', 'mine/app:2']);
  });

  test('a zstd-compressed archive loads; save writes the same bytes twice', async () => {
    const a = path.join(work, 'zstd-a.tar');
    const b = path.join(work, 'zstd-b.tar');
    await ok(root, ['save', '-o', a, busybox]);
    await ok(root, ['save', '-o', b, busybox]);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'save is reproducible');
    await run('zstd', ['-q', '-f', a, '-o', `${a}.zst`]);
    const other = tempRoot('archive-zstd').root;
    assert.equal(await ok(other, ['load', '-i', `${a}.zst`]), `Loaded image: ${busybox}\n`);
    assert.equal(await ok(other, ['run', '--rm', busybox, 'echo', 'zstd']), 'zstd\n');
    fs.rmSync(other, { recursive: true, force: true });
  });

  test('archives made by skopeo copy (docker-archive and oci-archive) load and run', async () => {
    for (const [kind, name] of [['docker-archive', 'skopeo/dockerarchive:v1'], ['oci-archive', 'skopeo/ociarchive:v1']] as const) {
      const file = path.join(work, `skopeo-${kind}.tar`);
      await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${busybox}`, `${kind}:${file}:${name}`]);
      const other = tempRoot('archive-skopeo').root;
      const out = await ok(other, ['load', '-i', file]);
      // as docker: the ref name skopeo writes is a reference, normalized (docker.io/skopeo/...) and shown familiar
      assert.equal(out, `Loaded image: ${name}\n`, kind);
      const ref = out.trim().slice('Loaded image: '.length);
      assert.equal(await ok(other, ['run', '--rm', ref, 'echo', 'hi']), 'hi\n');
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('podman loads what tsdock saves, and tsdock loads what podman saves (both formats)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-podman-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const pm = podman(dir);
    try {
      await pm(['info', '--format', '{{.Store.GraphDriverName}}']);
    } catch (err) {
      t.skip(`podman cannot run here: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const file = path.join(work, 'for-podman.tar');
    await ok(root, ['save', '-o', file, layered]);
    const loaded = await pm(['load', '-i', file]);
    assert.match(loaded, new RegExp(layered.replace(/[/.]/g, '\\$&')));
    const id = (await ok(root, ['inspect', '--format', '{{.Id}}', layered])).trim();
    assert.equal((await pm(['image', 'inspect', '--format', '{{.Id}}', layered])).trim(), id.slice(7));
    for (const format of ['docker-archive', 'oci-archive']) {
      const out = path.join(work, `podman-${format}.tar`);
      await pm(['save', '--format', format, '-o', out, layered]);
      const other = tempRoot('archive-podman').root;
      const text = await ok(other, ['load', '-i', out]);
      assert.match(text, /^Loaded image: /, text);
      const ref = text.trim().split('\n')[0]!.slice('Loaded image: '.length);
      assert.equal(await ok(other, ['run', '--rm', ref, 'echo', 'hi']), 'hi\n', format);
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('a tampered layer is refused and nothing is left', async () => {
    const file = path.join(work, 'tamper-src.tar');
    await ok(root, ['save', '-o', file, busybox]);
    const x = path.join(work, 'tamper');
    fs.mkdirSync(x);
    await run('tar', ['-xf', file, '-C', x]);
    const manifest = JSON.parse(fs.readFileSync(path.join(x, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
    const layer = path.join(x, manifest[0]!.Layers[0]!);
    const bytes = fs.readFileSync(layer);
    bytes[bytes.length - 2048] ^= 0xff; // inside the last file's body or the end padding
    const at = bytes.indexOf('busybox'); // a file body byte: same length, other content
    bytes[at + 2000] ^= 0x01;
    fs.writeFileSync(layer, bytes);
    const tampered = path.join(work, 'tampered.tar');
    await run('tar', ['-cf', tampered, '-C', x, '.']);
    for (const variant of ['as named', 'renamed']) {
      if (variant === 'renamed') {
        // the blob's name no longer checks anything: the diff_id still refuses it
        const m = JSON.parse(fs.readFileSync(path.join(x, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
        fs.renameSync(layer, path.join(x, 'layer.tar'));
        m[0]!.Layers[0] = 'layer.tar';
        fs.writeFileSync(path.join(x, 'manifest.json'), JSON.stringify(m));
        await run('tar', ['-cf', tampered, '-C', x, '.']);
      }
      const other = tempRoot('archive-tamper').root;
      const r = await tsdock(['load', '-i', tampered], { root: other });
      assert.equal(r.code, 1, variant);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^Error: .*tampered.tar: layer .* was tampered with: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/, variant);
      assert.equal(await ok(other, ['images', '-q']), '');
      for (const sub of ['tmp', 'layers/sha256']) {
        const d = path.join(other, sub);
        assert.deepEqual(fs.existsSync(d) ? fs.readdirSync(d) : [], [], `${variant}: ${sub} is empty`);
      }
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('usage: load of something else fails with the archive named; save of a missing image', async () => {
    const junk = path.join(work, 'junk.tar');
    fs.writeFileSync(junk, 'not an archive at all'.repeat(100));
    let r = await tsdock(['load', '-i', junk], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .*junk\.tar: /);
    r = await tsdock(['save', '-o', path.join(work, 'none.tar'), 'nosuch.example/none:1'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such image: nosuch.example/none:1\n');
    assert.ok(!fs.existsSync(path.join(work, 'none.tar')));
    // a missing input file and an unwritable output: one line each, no stack trace
    r = await tsdock(['load', '-i', path.join(work, 'missing.tar')], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: open ${path.join(work, 'missing.tar')}: no such file or directory\n`);
    r = await tsdock(['save', '-o', path.join(work, 'no-dir', 'x.tar'), busybox], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: open ${path.join(work, 'no-dir', 'x.tar')}: no such file or directory\n`);
  });
});
