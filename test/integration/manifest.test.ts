// manifest create/add/annotate/inspect/push/rm/exists: a list of two platforms made from the harness's per-arch
// images (one added from the store, one from the registry), pushed to the loopback registry, read back by skopeo,
// and pulled per platform into a fresh store (image ids compared; the host's one run).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hostArch, skopeoInspect } from '../harness/index.js';
import type { MultiArchFixture } from '../harness/fixtures.js';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

const oneLineError = (r: { code: number; stderr: string }, match: RegExp): void => {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, match);
};

describe('manifest lists', { skip: !isRoot && 'needs root for the harness registries' }, () => {
  const { root, cleanup } = tempRoot('manifest');
  const back = tempRoot('manifest-back');
  const t = (args: string[], r = root) => tsdock(args, { root: r });
  const ok = async (args: string[], r = root): Promise<string> => {
    const res = await t(args, r);
    assert.equal(res.code, 0, `tsdock ${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
  };
  let ma: MultiArchFixture;
  let docker: MultiArchFixture;
  let host = '';
  const ids: Record<string, string> = {};
  const digestOf = (arch: string): string => ma.platforms.find((p) => p.architecture === arch)!.digest;

  before(async () => {
    const h = await getHarness();
    ma = h.fixtures.multiArchOci;
    docker = h.fixtures.multiArchDocker;
    host = ma.host;
    for (const arch of ['amd64', 'arm64']) {
      const ref = `${host}/${ma.repo}@${digestOf(arch)}`;
      await ok(['pull', '-q', '--tls-verify=false', ref]);
      ids[arch] = (await ok(['inspect', '--format', '{{.Id}}', ref])).trim();
    }
    assert.notEqual(ids.amd64, ids.arm64);
    await ok(['tag', `${host}/${ma.repo}@${digestOf('amd64')}`, 'local/amd64:v1']);
  });
  after(() => {
    cleanup();
    back.cleanup();
  });

  const list = () => `${host}/mlist/app:v1`;

  test('create, add a local image and a registry one, inspect', async () => {
    const id = (await ok(['manifest', 'create', list()])).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal((await t(['manifest', 'exists', list()])).code, 0);
    assert.equal((await t(['manifest', 'exists', `${host}/mlist/none:v1`])).code, 1);
    oneLineError(await t(['manifest', 'create', list()]), /already exists: use --amend/);
    assert.equal((await ok(['manifest', 'create', '--amend', list()])).trim(), id);
    assert.equal((await ok(['manifest', 'add', list(), 'local/amd64:v1'])).trim(), id);
    await ok(['manifest', 'add', '--tls-verify=false', '--annotation', 'org.example.arch=arm64', list(), `docker://${host}/${ma.repo}@${digestOf('arm64')}`]);
    const shown = JSON.parse(await ok(['manifest', 'inspect', list()]));
    assert.equal(shown.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      shown.manifests.map((d: { digest: string; platform: { architecture: string } }) => [d.platform.architecture, d.digest]),
      [['amd64', digestOf('amd64')], ['arm64', digestOf('arm64')]],
    );
    assert.equal(shown.manifests[1].annotations['org.example.arch'], 'arm64');
    // a remote list without --all gives the entry of the platform asked for
    await ok(['manifest', 'create', 'picked']);
    await ok(['manifest', 'add', '--tls-verify=false', '--arch', 'arm64', 'picked', `docker://${ma.ref}`]);
    assert.deepEqual(JSON.parse(await ok(['manifest', 'inspect', 'picked'])).manifests.map((d: { digest: string }) => d.digest), [digestOf('arm64')]);
    // rmi takes a list's name too (podman's rmi does): the list goes, its images stay
    assert.match(await ok(['rmi', 'picked']), /^Untagged: localhost\/picked:latest\nDeleted: sha256:[a-f0-9]{64}\n$/);
    assert.equal((await t(['manifest', 'exists', 'picked'])).code, 1);
    await ok(['manifest', 'annotate', '--os-version', '1.0', '--features', 'f1,f2', list(), digestOf('arm64')]);
    const annotated = JSON.parse(await ok(['manifest', 'inspect', list()]));
    assert.equal(annotated.manifests[1].platform['os.version'], '1.0');
    assert.deepEqual(annotated.manifests[1].platform['os.features'], ['f1', 'f2']);
  });

  test('push: skopeo sees the index with both platforms; pulled back per platform', async () => {
    const digestFile = path.join(root, 'list-digest');
    const out = await ok(['manifest', 'push', '--tls-verify=false', '--digestfile', digestFile, list()]);
    const digest = out.trim().split('\n').pop()!;
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(fs.readFileSync(digestFile, 'utf8'), digest);
    const raw = await skopeoInspect(list(), { raw: true });
    assert.equal(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(raw.manifests.map((d: { platform: { os: string; architecture: string } }) => `${d.platform.os}/${d.platform.architecture}`), ['linux/amd64', 'linux/arm64']);

    for (const arch of ['arm64', 'amd64'].sort((a) => (a === hostArch() ? 1 : -1))) {
      await ok(['pull', '-q', '--tls-verify=false', '--platform', `linux/${arch}`, list()], back.root);
      assert.equal((await ok(['inspect', '--format', '{{.Id}} {{.Architecture}}', list()], back.root)).trim(), `${ids[arch]} ${arch}`);
    }
    if (ids[hostArch()]) assert.equal(await ok(['run', '--rm', list(), 'cat', '/arch'], back.root), `${hostArch()}\n`);
    assert.equal((await ok(['manifest', 'inspect', '--tls-verify=false', `docker://${list()}`], back.root)).includes(digestOf('arm64')), true);
  });

  test('a Docker list (--format v2s2) of every entry of a remote list, mounted within the registry', async () => {
    const dest = `${host}/mlist/docker:v1`;
    await ok(['manifest', 'create', '--all', '--format', 'v2s2', '--tls-verify=false', dest, `docker://${docker.ref}`]);
    await ok(['manifest', 'push', '--tls-verify=false', '--rm', dest]);
    const raw = await skopeoInspect(dest, { raw: true });
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.deepEqual(raw.manifests.map((d: { digest: string }) => d.digest), docker.platforms.map((p) => p.digest));
    assert.equal((await t(['manifest', 'exists', dest])).code, 1, 'pushed with --rm');
  });

  test('push --all to another registry copies the remote entries through tmp/ (blobs streamed, nothing left)', async () => {
    const h = await getHarness();
    const dest = `${h.basicTls.host}/mlist/copied:v1`;
    await ok(['manifest', 'create', '--all', 'copied', `docker://${ma.ref}`]);
    const creds = `${h.basicTls.username}:${h.basicTls.password}`;
    await ok(['manifest', 'push', '--cert-dir', h.basicTls.certsDir, '--creds', creds, 'copied', dest]);
    const raw = await skopeoInspect(dest, { raw: true, creds, certDir: h.basicTls.certDir, tlsVerify: true });
    assert.deepEqual(raw.manifests.map((d: { digest: string }) => d.digest), ma.platforms.map((p) => p.digest));
    const arm = await skopeoInspect(`${h.basicTls.host}/mlist/copied@${digestOf('arm64')}`, { creds, certDir: h.basicTls.certDir, tlsVerify: true });
    assert.equal(arm.Architecture, 'arm64');
    assert.deepEqual(fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')) : [], []);
    await ok(['manifest', 'rm', 'copied']);
  });

  test('rm; bad input is a one-line error', async () => {
    const rm = await ok(['manifest', 'rm', list()]);
    assert.match(rm, new RegExp(`^Untagged: ${list().replace(/[.]/g, '\\.')}\nDeleted: sha256:[a-f0-9]{64}\n$`));
    assert.equal((await t(['manifest', 'exists', list()])).code, 1);
    assert.equal((await ok(['inspect', '--format', '{{.Id}}', 'local/amd64:v1'])).trim(), ids.amd64, 'the images stay');
    oneLineError(await t(['manifest', 'add', list(), 'local/amd64:v1']), /no such manifest list/);
    oneLineError(await t(['manifest', 'rm', list()]), /no such manifest list/);
    oneLineError(await t(['manifest', 'create', 'Bad:Ref:']), /invalid reference format/);
    await ok(['manifest', 'create', 'scratch']);
    oneLineError(await t(['manifest', 'add', 'scratch', 'docker://bad ref']), /invalid reference format/);
    oneLineError(await t(['manifest', 'push', '--format', 'v3', 'scratch']), /unknown manifest format/);
    assert.equal((await ok(['manifest', 'rm', 'scratch'])).split('\n')[0], 'Untagged: localhost/scratch:latest');
  });
});
