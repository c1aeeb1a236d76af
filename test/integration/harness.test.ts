// Smoke test for the integration-test harness itself: registries come up, fixtures are what they claim to be
// (checked with skopeo and, as root, by unpacking `layered` with umoci), auth behaves, and stop() cleans up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  hostArch,
  MT,
  request,
  run,
  skopeoCopy,
  skopeoInspect,
  startHarness,
  type Harness,
  type MultiArchFixture,
} from '../harness/index.js';

const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function blob(h: Harness, repo: string, digest: string): Promise<Buffer> {
  const res = await request(`${h.plain.url}/v2/${repo}/blobs/${digest}`);
  assert.equal(res.status, 200, `GET blob ${digest}`);
  return res.body;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test harness', () => {
  let h: Harness;
  let startMs = 0;

  before(async () => {
    const t = Date.now();
    h = await startHarness();
    startMs = Date.now() - t;
    console.log(`harness started in ${startMs} ms`, h.timings);
  });

  after(async () => {
    await h?.stop();
  });

  it('starts quickly with three registries answering /v2/', async () => {
    assert.ok(startMs < 20_000, `start took ${startMs} ms`);
    assert.equal((await request(`${h.plain.url}/v2/`)).status, 200);
    assert.equal((await request(`${h.basicTls.url}/v2/`, { ca: h.basicTls.caCertPath })).status, 401);
    const tok = await request(`${h.token.url}/v2/`);
    assert.equal(tok.status, 401);
    assert.match(String(tok.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="tsdock-test"/);
    for (const r of [h.plain, h.basicTls, h.token]) assert.match(r.host, /^127\.0\.0\.1:\d+$/);
  });

  it('busyboxV2s2: Docker schema2, one gzip layer, Cmd sh', async () => {
    const f = h.fixtures.busyboxV2s2;
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(raw.mediaType, MT.dockerManifest);
    assert.equal(raw.layers.length, 1);
    assert.equal(raw.layers[0].mediaType, MT.dockerLayerGzip);
    const info = await skopeoInspect(f.ref);
    assert.equal(info.Digest, f.digest);
    const cfg = await skopeoInspect(f.ref, { config: true });
    assert.deepEqual(cfg.config.Cmd, ['sh']);
    assert.deepEqual(cfg.config.Env, f.expect.env);
    assert.equal(cfg.architecture, hostArch());
    // latest is the same manifest
    assert.equal((await skopeoInspect(`${f.host}/busybox:latest`)).Digest, f.digest);
    // the layer really holds busybox, the applet links, passwd and uid-1000 home
    const tar = zlib.gunzipSync(await blob(h, f.repo, raw.layers[0].digest));
    assert.ok(tar.includes(Buffer.from('./bin/busybox')));
    assert.ok(tar.includes(Buffer.from('app:x:1000:1000:')));
    assert.equal(f.expect.applets['/bin/sh'], 'busybox');
    assert.equal(f.expect.applets['/usr/bin/env'], '../../bin/busybox');
  });

  it('busyboxOci: OCI manifest with gzip layer', async () => {
    const f = h.fixtures.busyboxOci;
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(f.mediaType, MT.ociManifest);
    assert.equal(raw.config.mediaType, MT.ociConfig);
    assert.equal(raw.layers[0].mediaType, MT.ociLayerGzip);
    assert.equal((await skopeoInspect(f.ref)).Digest, f.digest);
  });

  it('zstd: OCI manifest whose layer is real zstd', async () => {
    const f = h.fixtures.zstd;
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(raw.layers[0].mediaType, MT.ociLayerZstd);
    const b = await blob(h, f.repo, raw.layers[0].digest);
    assert.deepEqual([...b.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.equal(sha256(b), raw.layers[0].digest);
    const cfg = await skopeoInspect(f.ref, { config: true });
    // same uncompressed content as the gzip variant
    const gz = await skopeoInspect(h.fixtures.busyboxOci.ref, { config: true });
    assert.deepEqual(cfg.rootfs.diff_ids, gz.rootfs.diff_ids);
  });

  const checkMulti = async (f: MultiArchFixture, listType: string, entryType: string): Promise<void> => {
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(raw.mediaType, listType);
    assert.equal(f.mediaType, listType);
    assert.deepEqual(
      raw.manifests.map((m: { platform: object }) => m.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux', variant: 'v8' },
      ],
    );
    assert.equal(f.platforms.length, 2);
    for (const p of f.platforms) {
      assert.equal(p.mediaType, entryType);
      const cfg = await skopeoInspect(`${f.host}/${f.repo}@${p.digest}`, { config: true });
      assert.equal(cfg.architecture, p.architecture);
      assert.equal(cfg.variant, p.variant);
      const m = await skopeoInspect(`${f.host}/${f.repo}@${p.digest}`, { raw: true });
      assert.equal(m.layers.length, 2);
      const marker = zlib.gunzipSync(await blob(h, f.repo, m.layers[1].digest));
      assert.ok(marker.includes(Buffer.from(p.marker.content)), `marker layer of ${p.architecture}`);
    }
  };

  it('multiArchOci: OCI index amd64 + arm64/v8', () => checkMulti(h.fixtures.multiArchOci, MT.ociIndex, MT.ociManifest));
  it('multiArchDocker: Docker manifest list amd64 + arm64/v8', () =>
    checkMulti(h.fixtures.multiArchDocker, MT.dockerList, MT.dockerManifest));

  it('layered: five layers, and umoci applies them the way the expectations say', async (t) => {
    const f = h.fixtures.layered;
    const e = f.expect;
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(raw.layers.length, e.layerCount);
    if (process.getuid?.() !== 0) {
      t.skip('umoci unpack cross-check needs root');
      return;
    }
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsdock-harness-test-'));
    try {
      await skopeoCopy(f.ref, `oci:${tmp}/oci:layered`);
      await run('umoci', ['--log', 'error', 'unpack', '--image', `${tmp}/oci:layered`, `${tmp}/bundle`]);
      const r = (p: string): string => path.join(tmp, 'bundle/rootfs', p);
      assert.ok(!existsSync(r(e.whiteoutRemoved)));
      assert.ok(existsSync(r(e.whiteoutSiblingKept)));
      assert.ok(!existsSync(r(e.umociWhiteoutRemoved)));
      assert.ok(existsSync(r(e.umociWhiteoutSiblingKept)));
      assert.deepEqual(readdirSync(r(e.opaqueDir)), [path.basename(e.opaqueKept)]);
      for (const g of [...e.opaqueGone, ...e.umociOpaqueGone]) assert.ok(!existsSync(r(g)), `${g} should be gone`);
      for (const k of e.umociOpaqueKept) assert.ok(existsSync(r(k)), `${k} should exist`);
      const [a, b] = e.hardlinks.map((p) => statSync(r(p)));
      assert.equal(a!.ino, b!.ino);
      assert.equal(a!.nlink, 2);
      for (const s of Object.values(e.symlinks)) assert.equal(readlinkSync(r(s.path)), s.target);
      for (const [p, mode] of Object.entries(e.modes)) assert.equal(lstatSync(r(p)).mode & 0o7777, mode, `mode of ${p}`);
      for (const [p, content] of Object.entries(e.contents)) assert.equal(readFileSync(r(p), 'utf8'), content, p);
      assert.ok(e.longPathGnu.length > 100 && e.longPathPax.length > 100 && e.longPathUmoci.length > 100);
      const owned = statSync(r(e.owned.path));
      assert.deepEqual([owned.uid, owned.gid], [e.owned.uid, e.owned.gid]);
      assert.equal(statSync(r(e.owned.dir)).uid, 1000);
      assert.equal(statSync(r('/data/a')).mtimeMs / 1000, e.mtime);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('hostile: layers contain the verbatim malicious entries; host paths are untouched', async () => {
    const hs = h.fixtures.hostile;
    for (const f of Object.values(hs)) {
      const raw = await skopeoInspect(f.ref, { raw: true });
      assert.equal(raw.layers[0].digest, f.layerDigest);
      const tar = zlib.gunzipSync(await blob(h, f.repo, f.layerDigest));
      assert.equal(sha256(tar), f.diffId);
      for (const en of f.entries) {
        assert.ok(tar.includes(Buffer.from(en.name)), `${f.kind}: entry ${en.name}`);
        if (en.linkname) assert.ok(tar.includes(Buffer.from(en.linkname)), `${f.kind}: link ${en.linkname}`);
      }
      for (const p of f.mustNotExist) assert.ok(!existsSync(p), p);
    }
    assert.match(hs.traversal.entries[1]!.name, /^(\.\.\/)+tmp\/tsdock-escape-[0-9a-f]+$/);
    assert.deepEqual(readdirSync(hs.symlinkEscape.hostDir!), []);
    assert.equal(hs.hardlinkAbsolute.entries[1]!.linkname, '/etc/shadow');
    assert.match(hs.hardlinkTraversal.entries[1]!.linkname!, /^(\.\.\/)+etc\/shadow$/);
  });

  it('corrupt: the registry serves bytes that do not match the layer digest', async () => {
    const f = h.fixtures.corrupt;
    const raw = await skopeoInspect(f.ref, { raw: true });
    assert.equal(raw.layers[0].digest, f.layerDigest);
    const b = await blob(h, f.repo, f.layerDigest);
    assert.equal(b.length, raw.layers[0].size);
    assert.notEqual(sha256(b), f.layerDigest);
    assert.deepEqual([...b.subarray(0, 2)], [0x1f, 0x8b]);
    await assert.rejects(skopeoCopy(f.ref, `dir:${path.join(h.workDir, 'corrupt-copy')}`), /digest|checksum|gzip/i);
  });

  it('token registry: anonymous denied, credentials allowed, read-only user can pull', async () => {
    const ref = h.token.images.busybox!.ref;
    await assert.rejects(skopeoInspect(ref, { raw: true }), /unauthorized|authentication required|denied/i);
    const raw = await skopeoInspect(ref, { raw: true, creds: `${h.token.username}:${h.token.password}` });
    assert.equal(raw.mediaType, MT.dockerManifest);
    await skopeoInspect(ref, { raw: true, creds: `${h.token.readOnly.username}:${h.token.readOnly.password}` });
    await assert.rejects(skopeoInspect(ref, { raw: true, creds: `${h.token.username}:wrong` }));
    const log = h.token.tokenRequests();
    assert.ok(log.some((l) => l.user === 'anonymous' && l.granted.length === 0));
    assert.ok(log.some((l) => l.user === h.token.username && l.granted.some((g) => g.actions.includes('push'))));
    assert.ok(log.some((l) => l.user === 'invalid:tsdock' && l.status === 401));
    assert.ok(log.every((l) => !JSON.stringify(l).includes(h.token.password)));
  });

  it('basic+TLS registry: verified TLS with the test CA, credentials required', async () => {
    const b = h.basicTls;
    const ref = b.images.busybox!.ref;
    assert.ok(existsSync(path.join(b.certsDirFor(), b.host, 'ca.crt')));
    await assert.rejects(skopeoInspect(ref, { raw: true, certDir: b.certDir, tlsVerify: true }));
    const raw = await skopeoInspect(ref, { raw: true, certDir: b.certDir, tlsVerify: true, creds: `${b.username}:${b.password}` });
    assert.equal(raw.mediaType, MT.dockerManifest);
    // without the CA, verification fails
    await assert.rejects(skopeoInspect(ref, { raw: true, tlsVerify: true, creds: `${b.username}:${b.password}` }), /certificate|x509/i);
  });

  it('stop() leaves no registry or token-server process and removes the work dir', async () => {
    const pids = h.pids;
    assert.equal(pids.length, 4);
    assert.ok(pids.every(alive));
    await h.stop();
    assert.ok(pids.every((p) => !alive(p)), 'processes still alive');
    assert.ok(!existsSync(h.workDir));
    const pg = await run('pgrep', ['-a', 'docker-registry']).catch(() => ({ stdout: '' }));
    for (const line of pg.stdout.split('\n').filter(Boolean)) {
      assert.ok(!line.includes(h.workDir), `orphan: ${line}`);
    }
  });
});
