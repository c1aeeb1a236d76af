import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { skopeoInspect } from '../harness/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, tempRoot, tsdock } from './helpers.js';

/** A loopback proxy in front of the plain registry that logs every request and can hold one back. */
class CountingProxy {
  readonly log: { method: string; path: string }[] = [];
  /** when set, the request it matches is never answered (the client is killed meanwhile) */
  stallWhen: ((method: string, path: string) => boolean) | undefined;
  stalled: (() => void) | undefined;
  private readonly held: http.ServerResponse[] = [];
  private server!: http.Server;
  host = '';

  async start(upstream: string): Promise<void> {
    const target = new URL(upstream);
    this.server = http.createServer((req, res) => {
      const p = req.url ?? '/';
      this.log.push({ method: req.method ?? '', path: p });
      if (this.stallWhen?.(req.method ?? '', p)) {
        this.stallWhen = undefined;
        this.held.push(res);
        req.resume();
        this.stalled?.();
        return;
      }
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: p, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(method: string, match: RegExp): number {
    return this.log.filter((r) => r.method === method && match.test(r.path)).length;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const UPLOADS = /\/blobs\/uploads\//;

describe('push to the loopback registry', { skip: !isRoot && 'needs root for the harness registries and to run containers' }, () => {
  let h: HarnessData;
  const proxy = new CountingProxy();
  const { root } = tempRoot('push');
  const t = (args: string[], env?: NodeJS.ProcessEnv) => tsdock(args, { root, ...(env ? { env } : {}) });
  let source = '';

  before(async () => {
    h = await getHarness();
    await proxy.start(h.plain.url);
    source = `${proxy.host}/busybox:v2s2`;
    const r = await t(['pull', '--tls-verify=false', source]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await t(['rm', '-f', 'big1', 'big2']);
    await proxy.stop();
  });

  test('a push to another repository of the same registry mounts every layer; skopeo sees the digest', async () => {
    const dest = `${proxy.host}/mounted/busybox:v1`;
    assert.equal((await t(['tag', source, dest])).code, 0);
    const before = proxy.log.length;
    const r = await t(['push', '--tls-verify=false', dest]);
    assert.equal(r.code, 0, r.stderr);
    const m = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.match(r.stdout, /^The push refers to repository \[127\.0\.0\.1:\d+\/mounted\/busybox\]$/m);
    assert.match(r.stdout, /^[0-9a-f]{12}: Mounted from busybox$/m);
    assert.equal(m[1], h.fixtures.busyboxV2s2.digest, 'the stored manifest is pushed byte for byte');
    const fresh = proxy.log.slice(before);
    assert.equal(fresh.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && UPLOADS.test(q.path))).length, 0, 'no blob uploaded');
    assert.ok(fresh.some((q) => q.method === 'POST' && /mount=sha256/.test(q.path)));
    const inspected = await skopeoInspect(`${h.plain.host}/mounted/busybox:v1`);
    assert.equal(inspected.Digest, m[1]);
  });

  test('a second push of the same image uploads no blob', async () => {
    const dest = `${proxy.host}/mounted/busybox:v1`;
    const before = proxy.log.length;
    const r = await t(['push', '--tls-verify=false', dest]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{12}: Layer already exists$/m);
    const fresh = proxy.log.slice(before);
    assert.equal(fresh.filter((q) => UPLOADS.test(q.path)).length, 0, JSON.stringify(fresh));
  });

  test('--format oci converts the manifest; -q and --digestfile', async () => {
    const dest = `${proxy.host}/mounted/busybox:oci`;
    const digestFile = path.join(root, 'digest.txt');
    const r = await t(['push', '--tls-verify=false', '-q', '--format', 'oci', '--digestfile', digestFile, source, dest]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${dest}\n`, '-q prints the pushed reference only');
    const digest = fs.readFileSync(digestFile, 'utf8');
    const raw = await skopeoInspect(`${h.plain.host}/mounted/busybox:oci`, { raw: true });
    assert.equal(raw.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(raw.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.ok(raw.layers.every((l: { mediaType: string }) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
    assert.equal((await skopeoInspect(`${h.plain.host}/mounted/busybox:oci`)).Digest, digest);
    const bad = await t(['push', '--tls-verify=false', '--format', 'v3', dest]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown manifest format "v3"/);
  });

  test('push by digest: the manifest digest names it, another digest is refused', async () => {
    const digest = h.fixtures.busyboxV2s2.digest;
    const r = await t(['push', '--tls-verify=false', source, `${proxy.host}/bydigest/busybox@${digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${digest}: digest: ${digest} size: \\d+$`, 'm'));
    // no tag there, so ask the registry itself (skopeo inspect lists tags)
    const head = await fetch(`${h.plain.url}/v2/bydigest/busybox/manifests/${digest}`, { method: 'HEAD', headers: { accept: h.fixtures.busyboxV2s2.mediaType } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), digest);
    const other = `sha256:${'0'.repeat(64)}`;
    const bad = await t(['push', '--tls-verify=false', source, `${proxy.host}/bydigest/busybox@${other}`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: cannot push .*: the image's manifest is sha256:/);
  });

  test('a committed image with a large layer is uploaded in chunks, pulled back with the same id and content', async () => {
    const run = await t(['run', '--name', 'big1', source, 'sh', '-c', 'head -c 40000000 /dev/urandom > /big && sha256sum /big']);
    assert.equal(run.code, 0, run.stderr);
    const commit = await t(['commit', 'big1', `${proxy.host}/big/one:v1`]);
    assert.equal(commit.code, 0, commit.stderr);
    const id = commit.stdout.trim();
    const before = proxy.log.length;
    const r = await t(['push', '--tls-verify=false', `${proxy.host}/big/one:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{12}: Pushed$/m);
    const fresh = proxy.log.slice(before);
    assert.ok(fresh.filter((q) => q.method === 'PATCH').length >= 2, 'the 40 MB layer went in chunks');
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1];
    assert.equal((await skopeoInspect(`${h.plain.host}/big/one:v1`)).Digest, digest);
    const inspect = JSON.parse((await t(['image', 'inspect', `${proxy.host}/big/one:v1`])).stdout) as { RepoDigests: string[] }[];
    assert.ok(inspect[0]!.RepoDigests.includes(`${proxy.host}/big/one@${digest}`), JSON.stringify(inspect[0]!.RepoDigests));

    assert.equal((await t(['rmi', `${proxy.host}/big/one:v1`])).code, 0);
    const pulled = await t(['pull', '--tls-verify=false', `${proxy.host}/big/one:v1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const ids = await t(['images', '-q', '--no-trunc', `${proxy.host}/big/one:v1`]);
    assert.equal(ids.stdout.trim(), id);
    const again = await t(['run', '--rm', `${proxy.host}/big/one:v1`, 'sha256sum', '/big']);
    assert.equal(again.stdout, run.stdout);
  });

  test('a layer kept uncompressed (commit) or only as a tar layout is gzip\'d while it streams; pulled back the same', async () => {
    const run = await t(['run', '--name', 'gz1', source, 'sh', '-c', 'yes tsdock | head -c 3000000 > /text']);
    assert.equal(run.code, 0, run.stderr);
    const ref = `${proxy.host}/gz/one:v1`;
    const id = (await t(['commit', 'gz1', ref])).stdout.trim();
    assert.equal((await t(['rm', 'gz1'])).code, 0);
    const r = await t(['push', '--tls-verify=false', '--format', 'oci', ref]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await skopeoInspect(`${h.plain.host}/gz/one:v1`, { raw: true });
    const top = raw.layers[raw.layers.length - 1];
    assert.equal(top.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.ok(top.size < 100_000, `3 MB of text gzip'd is small: ${top.size}`);
    const again = await t(['push', '--tls-verify=false', '--format', 'oci', ref]);
    assert.match(again.stdout, /^[0-9a-f]{12}: Layer already exists$/m, 'the gzip blob made before is known: a HEAD finds it');
    assert.equal(/digest: (sha256:\S+)/.exec(again.stdout)![1], /digest: (sha256:\S+)/.exec(r.stdout)![1]);

    // a store from before push kept blobs: the layers are rebuilt from diff/ and tar-layout.gz
    const other = tempRoot('push-layout');
    const o = (args: string[]) => tsdock(args, { root: other.root });
    assert.equal((await o(['pull', '--tls-verify=false', ref])).code, 0);
    const layers = path.join(other.root, 'layers', 'sha256');
    for (const chain of fs.readdirSync(layers)) fs.rmSync(path.join(layers, chain, 'blob'), { force: true });
    const dest = `${h.plain.host}/gz/rebuilt:v1`;
    const p = await o(['push', '--tls-verify=false', ref, dest]);
    assert.equal(p.code, 0, p.stderr);
    const back = tempRoot('push-layout-back');
    assert.equal((await tsdock(['pull', '--tls-verify=false', dest], { root: back.root })).code, 0);
    assert.equal((await tsdock(['images', '-q', '--no-trunc', dest], { root: back.root })).stdout.trim(), id);
    const text = await tsdock(['run', '--rm', dest, 'sh', '-c', 'wc -c < /text'], { root: back.root });
    assert.equal(text.stdout.trim(), '3000000');
    other.cleanup();
    back.cleanup();
  });

  test('a push killed with -9 mid-layer is pushed again, continuing the upload', async () => {
    const run = await t(['run', '--name', 'big2', source, 'sh', '-c', 'head -c 40000000 /dev/urandom > /big2']);
    assert.equal(run.code, 0, run.stderr);
    const ref = `${proxy.host}/big/two:v1`;
    assert.equal((await t(['commit', 'big2', ref])).code, 0);
    let patches = 0;
    proxy.stallWhen = (method) => method === 'PATCH' && ++patches === 2;
    const child = spawn(process.execPath, [bin, '--root', root, 'push', '--tls-verify=false', ref], { stdio: 'ignore' });
    await new Promise<void>((resolve) => (proxy.stalled = resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const before = proxy.log.length;
    const r = await t(['push', '--tls-verify=false', ref]);
    assert.equal(r.code, 0, r.stderr);
    const fresh = proxy.log.slice(before);
    assert.ok(fresh.some((q) => q.method === 'GET' && UPLOADS.test(q.path)), 'the open session was asked where it stands');
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1];
    assert.equal((await skopeoInspect(`${h.plain.host}/big/two:v1`)).Digest, digest);
    assert.deepEqual(fs.readdirSync(path.join(root, 'uploads')), [], 'no session left behind');
  });

  test('an image id without a destination is refused in one line', async () => {
    const id = (await t(['images', '-q', source])).stdout.trim();
    const r = await t(['push', id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /an image id cannot be pushed without a destination/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
