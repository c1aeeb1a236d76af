import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skopeoInspect } from '../harness/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

let h: HarnessData;
const { root } = tempRoot('formats');

async function inspect(ref: string, format: string): Promise<string> {
  const r = await tsdock(['inspect', '--format', format, ref], { root });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('every fixture pulls and matches skopeo inspect', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  before(async () => {
    h = await getHarness();
  });
  for (const name of ['busyboxV2s2', 'busyboxOci', 'zstd', 'layered'] as const) {
    test(name, async () => {
      const fx = h.fixtures[name];
      const r = await tsdock(['pull', fx.ref], { root });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Digest: ${fx.digest}`));
      assert.match(r.stdout, /Status: Downloaded newer image for /);
      const sk = await skopeoInspect(fx.ref);
      const raw = await skopeoInspect(fx.ref, { raw: true });
      const cfg = await skopeoInspect(fx.ref, { config: true });
      assert.equal(await inspect(fx.ref, '{{.Id}}'), raw.config.digest);
      // the three busybox fixtures share one config (one image id) and so collect one RepoDigest each
      assert.ok((JSON.parse(await inspect(fx.ref, '{{json .RepoDigests}}')) as string[]).includes(`${fx.host}/${fx.repo}@${sk.Digest}`));
      assert.deepEqual(JSON.parse(await inspect(fx.ref, '{{json .Config.Env}}')), cfg.config.Env ?? null);
      assert.deepEqual(JSON.parse(await inspect(fx.ref, '{{json .Config.Cmd}}')), cfg.config.Cmd ?? null);
      assert.deepEqual(JSON.parse(await inspect(fx.ref, '{{json .RootFS.Layers}}')), cfg.rootfs.diff_ids);
      assert.equal(await inspect(fx.ref, '{{.Architecture}}/{{.Os}}'), `${sk.Architecture}/${sk.Os}`);
      assert.equal(Date.parse(await inspect(fx.ref, '{{.Created}}')), Date.parse(sk.Created));
    });
  }

  test('pull by digest', async () => {
    const fx = h.fixtures.busyboxOci;
    const r = await tsdock(['pull', fx.digestRef], { root });
    assert.equal(r.code, 0, r.stderr);
    const ls = await tsdock(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}'], { root });
    assert.match(ls.stdout, new RegExp(`${fx.host}/${fx.repo} ${fx.digest}`));
  });

  test('pull -q prints only the digest', async () => {
    const fx = h.fixtures.busyboxV2s2;
    const r = await tsdock(['pull', '-q', fx.ref], { root });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${fx.digest}\n`);
  });

  for (const name of ['multiArchOci', 'multiArchDocker'] as const) {
    test(`${name}: host platform by default, arm64 with --platform`, async () => {
      const fx = h.fixtures[name];
      const { root: r2, cleanup: c2 } = tempRoot(`multi-${name}`);
      try {
        const host = os.arch() === 'x64' ? 'amd64' : os.arch();
        let r = await tsdock(['pull', fx.ref], { root: r2 });
        assert.equal(r.code, 0, r.stderr);
        r = await tsdock(['inspect', '--format', '{{.Architecture}}', fx.ref], { root: r2 });
        assert.equal(r.stdout.trim(), host);
        const hostEntry = fx.platforms.find((p) => p.architecture === host)!;
        r = await tsdock(['pull', '--platform', 'linux/arm64', fx.ref], { root: r2 });
        assert.equal(r.code, 0, r.stderr);
        r = await tsdock(['inspect', '--format', '{{.Architecture}} {{.Variant}}', fx.ref], { root: r2 });
        assert.equal(r.stdout.trim(), 'arm64 v8');
        const armEntry = fx.platforms.find((p) => p.architecture === 'arm64')!;
        assert.notEqual(hostEntry.digest, armEntry.digest);
        // the tag moved to the arm64 image; the amd64 one keeps only its digest (docker shows TAG <none>)
        r = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root: r2 });
        assert.deepEqual(r.stdout.trim().split('\n').sort(), [`${fx.host}/${fx.repo}:<none>`, `${fx.host}/${fx.repo}:${fx.tag}`].sort());
        r = await tsdock(['pull', '--platform', 'linux/s390x', fx.ref], { root: r2 });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^Error: no image for platform linux\/s390x/);
      } finally {
        c2();
      }
    });
  }
});

describe('the layered image unpacks faithfully (checked through a real overlay mount)', { skip: !isRoot && 'needs root to mount overlayfs' }, () => {
  before(async () => {
    h = await getHarness();
  });
  test('whiteouts, opaque dirs, hardlinks, symlinks, modes, owners, long paths', async () => {
    const fx = h.fixtures.layered;
    const e = fx.expect;
    let r = await tsdock(['pull', fx.ref], { root });
    assert.equal(r.code, 0, r.stderr);
    const data = JSON.parse(await inspect(fx.ref, '{{json .GraphDriver.Data}}')) as { UpperDir: string; LowerDir: string };
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-mnt-'));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${data.UpperDir}:${data.LowerDir}`, mnt]);
    try {
      const p = (x: string) => path.join(mnt, x);
      assert.ok(!fs.existsSync(p(e.whiteoutRemoved)), 'file whiteout honoured');
      assert.ok(fs.existsSync(p(e.whiteoutSiblingKept)));
      assert.ok(fs.existsSync(p(e.opaqueKept)));
      for (const gone of e.opaqueGone) assert.ok(!fs.existsSync(p(gone)), `opaque dir hides ${gone}`);
      assert.ok(!fs.existsSync(p(e.umociWhiteoutRemoved)));
      for (const gone of e.umociOpaqueGone) assert.ok(!fs.existsSync(p(gone)));
      for (const kept of e.umociOpaqueKept) assert.ok(fs.existsSync(p(kept)), kept);
      const [a, b] = e.hardlinks.map((x) => fs.statSync(p(x)));
      assert.equal(a!.ino, b!.ino, 'hardlinks share an inode');
      assert.equal(fs.readFileSync(p(e.hardlinks[0]!), 'utf8'), e.hardlinkContent);
      for (const l of Object.values(e.symlinks)) assert.equal(fs.readlinkSync(p(l.path)), l.target);
      for (const m of [e.setuid, e.setgid, e.sticky, e.readOnlyDir]) assert.equal(fs.statSync(p(m.path)).mode & 0o7777, m.mode, m.path);
      assert.ok(fs.existsSync(p(e.readOnlyDir.child)));
      const owned = fs.statSync(p(e.owned.path));
      assert.equal(owned.uid, e.owned.uid);
      assert.equal(owned.gid, e.owned.gid);
      for (const [file, content] of Object.entries(e.contents)) assert.equal(fs.readFileSync(p(file), 'utf8'), content, file);
      for (const [file, mode] of Object.entries(e.modes)) assert.equal(fs.lstatSync(p(file)).mode & 0o7777, mode, file);
      for (const long of [e.longPathGnu, e.longPathPax, e.longPathUmoci]) assert.ok(fs.existsSync(p(long)), long);
      assert.equal(Math.floor(fs.statSync(p(e.hardlinks[0]!)).mtimeMs / 1000), e.mtime);
    } finally {
      execFileSync('umount', [mnt]);
      fs.rmdirSync(mnt);
    }
    r = await tsdock(['history', '--format', '{{.Size}}', fx.ref], { root });
    assert.equal(r.code, 0, r.stderr);
  });
});
