import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/errors.js';
import { makeSelfSignedCert, opensslPresent } from '../../harness/certs.js';
import { mayUseBasicOver } from '../../../src/image/registry/auth.js';
import { RegistryClient, type RegistryClientOptions } from '../../../src/image/registry/client.js';
import { NetworkError } from '../../../src/image/registry/errors.js';
import { sniffTls } from '../../../src/image/registry/sniff.js';
import { cachedScheme, isLoopbackHost, loadHostCerts, transportPolicy } from '../../../src/image/registry/tls.js';

let dir: string;
let tlsHost = '';
let plainHost = '';
const servers: http.Server[] = [];
const ENV = { TSDOCK_REGISTRIES_CONF: '/nonexistent/registries.conf', HOME: '/nonexistent' };
const handler: http.RequestListener = (req, res) => {
  res.writeHead(req.url === '/v2/' ? 200 : 200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
  res.end(JSON.stringify({ schemaVersion: 2, manifests: [] }));
};
const haveOpenssl = opensslPresent();

async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-tls-'));
  plainHost = await listen(http.createServer(handler));
  if (!haveOpenssl) return;
  const { keyPath: key, certPath: cert } = makeSelfSignedCert(dir);
  tlsHost = await listen(https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, handler));
  fs.mkdirSync(path.join(dir, 'certs.d', tlsHost), { recursive: true });
  fs.copyFileSync(cert, path.join(dir, 'certs.d', tlsHost, 'ca.crt'));
});

after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function client(host: string, extra: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({ registry: host, repository: 'x', env: ENV, certDirs: [], credentials: null, retry: { delayMs: 5 }, ...extra });
}

test('loopback plain http: https is asked first (a ClientHello sniff), http is used and remembered', async () => {
  await client(plainHost).getManifest('latest');
  assert.equal(cachedScheme(plainHost), 'http');
  assert.deepEqual(transportPolicy(plainHost, { certDirs: [] }).schemes, ['http', 'https']);
});

test('loopback https is still verified: an unknown CA fails with a clear error, tlsVerify=false skips it', { skip: !haveOpenssl }, async () => {
  await assert.rejects(client(tlsHost).getManifest('latest'), /tls verification failed for registry .*certs\.d/);
  await client(tlsHost, { tlsVerify: false }).getManifest('latest');
  assert.equal(cachedScheme(tlsHost), 'https');
  await client(tlsHost, { certDirs: [path.join(dir, 'certs.d')] }).getManifest('latest');
});

test('tlsVerify=true needs the CA from certs.d', { skip: !haveOpenssl }, async () => {
  await assert.rejects(client(tlsHost, { tlsVerify: true }).getManifest('latest'), NetworkError);
  await client(tlsHost, { tlsVerify: true, certDirs: [path.join(dir, 'certs.d')] }).getManifest('latest');
});

test('client certificates need their key', () => {
  const base = path.join(dir, 'clientcerts');
  fs.mkdirSync(path.join(base, 'reg.example.com'), { recursive: true });
  fs.writeFileSync(path.join(base, 'reg.example.com', 'client.cert'), 'cert');
  assert.throws(() => loadHostCerts('reg.example.com', [base]), (err: unknown) => err instanceof UsageError && /missing key client\.key/.test(err.message));
  fs.writeFileSync(path.join(base, 'reg.example.com', 'client.key'), 'key');
  fs.writeFileSync(path.join(base, 'reg.example.com', 'extra.crt'), 'ca');
  const certs = loadHostCerts('reg.example.com', [base, path.join(dir, 'nonexistent')]);
  assert.equal(certs.cert?.toString(), 'cert');
  assert.equal(certs.key?.toString(), 'key');
  assert.equal(certs.ca.length, 1);
});

test('policy: non-loopback hosts are https-only unless insecure or tlsVerify=false', () => {
  assert.deepEqual(transportPolicy('reg.example.com', { certDirs: [] }), { schemes: ['https'], known: 'https', tls: {} });
  assert.deepEqual(transportPolicy('reg.example.com', { certDirs: [], insecure: true }).schemes, ['https', 'http']);
  assert.equal(transportPolicy('reg.example.com', { certDirs: [], tlsVerify: false }).tls.rejectUnauthorized, false);
  assert.deepEqual(transportPolicy('localhost:5000', { certDirs: [], tlsVerify: true }).schemes, ['https']);
});

test('isLoopbackHost and where basic credentials may go', () => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000', '::1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['10.0.0.1', 'example.com', '128.0.0.1:5000', '[::2]:5000', 'localhost.example.com']) assert.equal(isLoopbackHost(h), false, h);
  // only localhost itself: a *.localhost name resolves wherever the resolver in use says; not an IP either
  for (const h of ['registry.localhost', 'evil.localhost:5000', 'a.b.LOCALHOST', '127.300.0.1', '127.0.0.1.example.com']) assert.equal(isLoopbackHost(h), false, h);
  assert.equal(mayUseBasicOver(new URL('http://127.0.0.1:5000/')), true);
  assert.equal(mayUseBasicOver(new URL('https://example.com/')), true);
  assert.equal(mayUseBasicOver(new URL('http://example.com/')), false);
});

test('the scheme a host answered on is kept in the scheme-cache file for the next process; a stale http entry falls through to https', { skip: !haveOpenssl }, async () => {
  const file = path.join(dir, 'run', 'registry-schemes.json');
  await client(plainHost, { schemeCacheFile: file }).getManifest('latest');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { [plainHost]: 'http' });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  // another process's file says http for the TLS registry's port: http is tried first, https answers
  const fresh = await listen(https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, handler));
  const stale = path.join(dir, 'run', 'stale.json');
  fs.writeFileSync(stale, JSON.stringify({ [fresh]: 'http' }));
  assert.deepEqual(transportPolicy(fresh, { certDirs: [], tlsVerify: false, schemeCacheFile: stale }).schemes, ['http', 'https']);
  await client(fresh, { tlsVerify: false, schemeCacheFile: stale }).getManifest('latest');
  assert.deepEqual(JSON.parse(fs.readFileSync(stale, 'utf8')), { [fresh]: 'https' });
});

test('sniffTls: a ClientHello over a plain socket tells an http port from a TLS one; no answer is unknown', { skip: !haveOpenssl }, async () => {
  assert.equal(await sniffTls(plainHost), 'http');
  assert.equal(await sniffTls(tlsHost), 'tls');
  // nothing listening, and a server that never answers: unknown (the https attempt then goes ahead)
  const closed = await listen(http.createServer());
  servers.pop()!.close();
  assert.equal(await sniffTls(closed), 'unknown');
  const silent = net.createServer((s) => s.on('data', () => {}));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    assert.equal(await sniffTls(`127.0.0.1:${(silent.address() as AddressInfo).port}`, 200), 'unknown');
  } finally {
    silent.close();
  }
});

test('a scheme not in doubt (remembered, or https only) needs no ping: the first request goes straight, the others wait for its answer', async () => {
  const seen: string[] = [];
  const counting = await listen(
    http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, res);
    }),
  );
  const file = path.join(dir, 'run', 'unpinged.json');
  await client(counting, { schemeCacheFile: file }).getManifest('latest');
  assert.deepEqual(seen.splice(0), ['GET /v2/', 'GET /v2/x/manifests/latest']);
  // the next process: http remembered, so no ping; two requests at once, the second after the first's answer
  const next = client(counting, { schemeCacheFile: file });
  await Promise.all([next.getManifest('latest'), next.getManifest('v2')]);
  assert.deepEqual(seen.splice(0), ['GET /v2/x/manifests/latest', 'GET /v2/x/manifests/v2']);
  // remembered, but nothing listens there any more: the ping decides, and says why
  const gone = path.join(dir, 'run', 'gone.json');
  const closed = await listen(http.createServer());
  servers.pop()!.close();
  fs.writeFileSync(gone, JSON.stringify({ [closed]: 'http' }));
  await assert.rejects(client(closed, { schemeCacheFile: gone }).getManifest('latest'), (err: unknown) => err instanceof NetworkError && /cannot reach registry/.test(err.message));
});
