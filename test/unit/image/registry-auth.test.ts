import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenCache } from '../../../src/image/registry/auth.js';
import { RegistryClient, type RegistryClientOptions } from '../../../src/image/registry/client.js';
import { AuthError } from '../../../src/image/registry/errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;
const servers: http.Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => handler(req, res, new URL(req.url!, 'http://x')));
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
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 }, layers: [] }));
const MANIFEST_DIGEST = `sha256:${crypto.createHash('sha256').update(MANIFEST).digest('hex')}`;
const CONFIG = Buffer.from('{}');
const CONFIG_DIGEST = `sha256:${crypto.createHash('sha256').update(CONFIG).digest('hex')}`;

function client(host: string, extra: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ registry: host, repository: 'foo/bar', env: ENV, certDirs: [], retry: { delayMs: 5 }, tokenCache: new TokenCache(), ...extra });
}

function content(res: http.ServerResponse, url: URL): void {
  if (url.pathname.startsWith('/v2/foo/bar/manifests/')) {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': MANIFEST_DIGEST });
    res.end(MANIFEST);
  } else if (url.pathname === `/v2/foo/bar/blobs/${CONFIG_DIGEST}`) {
    res.end(CONFIG);
  } else {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
  }
}

async function bearerRegistry(opts: { user?: string; pass?: string } = {}) {
  const state = { tokenHits: 0, queries: [] as string[], authHeaders: [] as (string | undefined)[] };
  const host = await serve((req, res, url) => {
    const challenge = `Bearer realm="http://${host}/token",service="fake-registry"`;
    if (url.pathname === '/token') {
      state.tokenHits++;
      state.queries.push(url.search);
      state.authHeaders.push(req.headers.authorization);
      if (opts.user) {
        const expected = `Basic ${Buffer.from(`${opts.user}:${opts.pass}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'tok-1', expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    content(res, url);
  });
  return { host, state };
}

test('bearer flow: token fetched once and reused for manifests and blobs', async () => {
  const { host, state } = await bearerRegistry();
  const c = client(host, { credentials: null });
  const m = await c.getManifest('latest');
  assert.equal(m.digest, MANIFEST_DIGEST);
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(m.bytes, MANIFEST);
  await c.getManifest(MANIFEST_DIGEST);
  assert.deepEqual(await c.getBlobBytes(CONFIG_DIGEST, 1024), CONFIG);
  assert.equal(state.tokenHits, 1);
  const q = new URLSearchParams(state.queries[0]);
  assert.equal(q.get('service'), 'fake-registry');
  assert.equal(q.get('scope'), 'repository:foo/bar:pull');
  assert.equal(state.authHeaders[0], undefined);
});

test('bearer flow sends basic credentials to the token endpoint', async () => {
  const { host, state } = await bearerRegistry({ user: 'alice', pass: 's3cret' });
  const c = client(host, { credentials: { username: 'alice', password: 's3cret' } });
  await c.getManifest('latest');
  assert.equal(new URLSearchParams(state.queries[0]).get('account'), 'alice');
  const wrong = client(host, { credentials: { username: 'alice', password: 'nope' } });
  await assert.rejects(wrong.getManifest('latest'), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.message, `access denied to ${host}/foo/bar: invalid username or password`);
    return true;
  });
  const anon = client(host, { credentials: null });
  await assert.rejects(anon.getManifest('latest'), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.message, `authentication required for ${host}/foo/bar (no credentials found; run tsdock login)`);
    return true;
  });
});

test('an expired token is renewed once after a 401', async () => {
  let valid = 'tok-a';
  let hits = 0;
  const host = await serve((req, res, url) => {
    if (url.pathname === '/token') {
      hits++;
      res.end(JSON.stringify({ token: valid }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${valid}`) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token"` });
      res.end();
      return;
    }
    content(res, url);
  });
  const c = client(host, { credentials: null });
  await c.getManifest('latest');
  valid = 'tok-b';
  await c.getManifest('latest');
  assert.equal(hits, 2);
});

test('basic challenge', async () => {
  const good = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
  const host = await serve((req, res, url) => {
    if (req.headers.authorization !== good) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' });
      res.end();
      return;
    }
    content(res, url);
  });
  assert.equal((await client(host, { credentials: { username: 'bob', password: 'pw' } }).getManifest('v1')).digest, MANIFEST_DIGEST);
  await assert.rejects(client(host, { credentials: { username: 'bob', password: 'x' } }).getManifest('v1'), /access denied to .*: invalid username or password/);
  await assert.rejects(client(host, { credentials: null }).getManifest('v1'), /authentication required for .* \(no credentials found; run tsdock login\)/);
});

test('credentials are looked up from the environment', async () => {
  const good = `Basic ${Buffer.from('env:pw').toString('base64')}`;
  const host = await serve((req, res, url) => {
    if (req.headers.authorization !== good) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' });
      res.end();
      return;
    }
    content(res, url);
  });
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-auth-'));
  try {
    const authFile = path.join(dir, 'auth.json');
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth: Buffer.from('env:pw').toString('base64') } } }));
    const c = client(host, { env: { ...ENV, REGISTRY_AUTH_FILE: authFile } });
    assert.equal((await c.getManifest('latest')).digest, MANIFEST_DIGEST);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('403 is access denied with the registry message', async () => {
  const host = await serve((_req, res) => {
    if (_req.url === '/v2/') return void res.end('{}');
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
  });
  await assert.rejects(client(host, { credentials: null }).getManifest('latest'), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.message, `access denied to ${host}/foo/bar: denied: requested access to the resource is denied`);
    return true;
  });
});

test('identity tokens use the oauth2 refresh_token grant', async () => {
  const forms: URLSearchParams[] = [];
  const host = await serve((req, res, url) => {
    if (url.pathname === '/token') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        forms.push(new URLSearchParams(body));
        res.end(JSON.stringify(req.method === 'POST' ? { access_token: 'tok-1' } : {}));
      });
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="svc"` });
      return void res.end();
    }
    content(res, url);
  });
  await client(host, { credentials: { username: '', password: '', identityToken: 'refresh-1' } }).getManifest('latest');
  assert.equal(forms.length, 1);
  assert.equal(forms[0]!.get('grant_type'), 'refresh_token');
  assert.equal(forms[0]!.get('refresh_token'), 'refresh-1');
  assert.equal(forms[0]!.get('service'), 'svc');
  assert.equal(forms[0]!.get('scope'), 'repository:foo/bar:pull');
});
