import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { IntegrityError, NotFoundError } from '../../../src/errors.js';
import { readStream } from '../../../src/image/registry/http.js';
import { RegistryClient, type RegistryClientOptions } from '../../../src/image/registry/client.js';
import { NetworkError, RegistryError } from '../../../src/image/registry/errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;
const servers: http.Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/v2/') return void res.end('{}');
    handler(req, res, url);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

const ENV = { TSDOCK_REGISTRIES_CONF: '/nonexistent/registries.conf', REGISTRY_AUTH_FILE: '/nonexistent/auth.json', DOCKER_CONFIG: '/nonexistent', HOME: '/nonexistent' };
const sha = (b: Buffer): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
const BLOB = crypto.randomBytes(100_000);
const BLOB_DIGEST = sha(BLOB);
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));

function client(host: string, extra: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ registry: host, repository: 'foo', env: ENV, certDirs: [], credentials: { username: 'u', password: 'p' }, retry: { delayMs: 5 }, ...extra });
}

test('blob redirects to another origin drop authorization; same-origin redirects keep it', async () => {
  const seen: Record<string, string | undefined> = {};
  const storage = await serve((req, res, url) => {
    seen[url.pathname] = req.headers.authorization;
    res.end(BLOB);
  });
  const host = await serve((req, res, url) => {
    if (!req.headers.authorization) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
      return void res.end();
    }
    seen[url.pathname] = req.headers.authorization;
    if (url.pathname === `/v2/foo/blobs/${BLOB_DIGEST}`) {
      res.writeHead(307, { location: '/v2/foo/blobs/moved' });
      return void res.end();
    }
    res.writeHead(302, { location: `http://${storage}/bucket/blob?sig=1` });
    res.end();
  });
  const { stream, size } = await client(host).getBlob(BLOB_DIGEST);
  assert.equal(size, BLOB.length);
  assert.deepEqual(await readStream(stream, 1e6, 'blob'), BLOB);
  assert.match(seen['/v2/foo/blobs/moved'] ?? '', /^Basic /);
  assert.equal(seen['/bucket/blob'], undefined);
  assert.ok('/bucket/blob' in seen);
});

test('redirect loops stop after 10 hops', async () => {
  let hops = 0;
  const host = await serve((_req, res) => {
    hops++;
    res.writeHead(302, { location: `/v2/foo/blobs/loop${hops}` });
    res.end();
  });
  await assert.rejects(client(host, { retry: { attempts: 1 } }).getBlob(BLOB_DIGEST), /too many redirects/);
  assert.equal(hops, 11);
});

test('retries 503 then succeeds; gives up after 3 attempts', async () => {
  let hits = 0;
  const host = await serve((_req, res, url) => {
    hits++;
    if (url.pathname.endsWith('/flaky') && hits < 3) {
      res.writeHead(503);
      return void res.end('busy');
    }
    if (url.pathname.endsWith('/down')) {
      res.writeHead(503, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'try later' }] }));
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
    res.end(MANIFEST);
  });
  const c = client(host);
  assert.deepEqual((await c.getManifest('flaky')).bytes, MANIFEST);
  assert.equal(hits, 3);
  hits = 0;
  await assert.rejects(c.getManifest('down'), (err: unknown) => {
    assert.ok(err instanceof RegistryError);
    assert.equal(err.status, 503);
    assert.match(err.message, /unavailable: try later/);
    return true;
  });
  assert.equal(hits, 3);
});

test('retries a reset connection', async () => {
  let hits = 0;
  const host = await serve((req, res) => {
    if (++hits === 1) return void req.socket.destroy();
    res.end(MANIFEST);
  });
  assert.deepEqual((await client(host).getManifest('latest')).bytes, MANIFEST);
  assert.equal(hits, 2);
});

test('digest mismatches are IntegrityErrors', async () => {
  const other = `sha256:${'0'.repeat(64)}`;
  const host = await serve((_req, res, url) => {
    if (url.pathname.endsWith('/badheader')) res.setHeader('docker-content-digest', other);
    res.end(url.pathname.includes('/blobs/') ? BLOB : MANIFEST);
  });
  const c = client(host);
  await assert.rejects(c.getManifest(other), (err: unknown) => err instanceof IntegrityError && /digest mismatch for manifest .*@sha256:0{64}/.test(err.message));
  await assert.rejects(c.getManifest('badheader'), IntegrityError);
  assert.equal((await c.getManifest('latest')).digest, sha(MANIFEST));
  await assert.rejects(c.getBlobBytes(other, 1e6), IntegrityError);
  await assert.rejects(c.getBlobBytes(BLOB_DIGEST, 10), /too large/);
});

test('404 is NotFoundError for manifests and blobs', async () => {
  const host = await serve((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });
  const c = client(host);
  await assert.rejects(c.getManifest('latest'), (err: unknown) => err instanceof NotFoundError && err.message === `manifest unknown: ${host}/foo:latest`);
  await assert.rejects(c.getBlob(BLOB_DIGEST), (err: unknown) => err instanceof NotFoundError && err.message === `blob unknown: ${host}/foo@${BLOB_DIGEST}`);
  assert.equal(await c.headManifest('latest'), undefined);
  assert.equal(await c.blobExists(BLOB_DIGEST), false);
});

test('range resume, with and without server support', async () => {
  const host = await serve((req, res, url) => {
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (m && !url.pathname.includes('norange')) {
      const start = Number(m[1]);
      res.writeHead(206, { 'content-range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}` });
      return void res.end(BLOB.subarray(start));
    }
    res.end(BLOB);
  });
  const c = client(host);
  const r = await c.getBlob(BLOB_DIGEST, { offset: 1000 });
  assert.equal(r.size, BLOB.length - 1000);
  assert.equal(r.totalSize, BLOB.length);
  assert.deepEqual(await readStream(r.stream, 1e6, 'x'), BLOB.subarray(1000));
  const other = client(host, { repository: 'norange' });
  const r2 = await other.getBlob(BLOB_DIGEST, { offset: 70_000 });
  assert.equal(r2.size, BLOB.length - 70_000);
  assert.deepEqual(await readStream(r2.stream, 1e6, 'x'), BLOB.subarray(70_000));
});

test('tlsVerify=true refuses plain http even on loopback', async () => {
  const host = await serve((_req, res) => res.end());
  await assert.rejects(client(host, { tlsVerify: true }).getManifest('latest'), (err: unknown) => err instanceof NetworkError && /cannot reach registry/.test(err.message));
});

test('a stalled body fails with an idle timeout; abort cancels', async () => {
  const host = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '10' });
    res.write('abc');
  });
  const { stream } = await client(host, { timeouts: { idleMs: 150 } }).getBlob(BLOB_DIGEST);
  await assert.rejects(readStream(stream, 100, 'x'), (err: unknown) => err instanceof NetworkError && err.code === 'ETIMEDOUT');
  const ac = new AbortController();
  const { stream: s2 } = await client(host, { signal: ac.signal }).getBlob(BLOB_DIGEST);
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(readStream(s2, 100, 'x'), (err: unknown) => (err as Error).name === 'AbortError');
});
