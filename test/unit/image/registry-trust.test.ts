// The trust store a TLS request carries (src/image/registry/trust.ts): none for a probe, the roots, then the
// NODE_EXTRA_CA_CERTS the launcher deferred (TSDOCK_EXTRA_CA_CERTS), each only when a server's chain needs it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { makeSelfSignedCert, opensslPresent } from '../../harness/certs.js';

const haveOpenssl = opensslPresent();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-trust-'));
const servers: http.Server[] = [];
let signed = ''; // a server whose certificate only the deferred file trusts
let plain = ''; // plain http
const seen: string[] = [];
let request: typeof import('../../../src/image/registry/http.js').request;
let trustNeeded: typeof import('../../../src/image/registry/trust.js').trustNeeded;

async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const handler: http.RequestListener = (req, res) => {
  let n = 0;
  req.on('data', (d: Buffer) => (n += d.length));
  req.on('end', () => {
    seen.push(`${req.method} ${req.url} ${n}`);
    res.end('ok');
  });
};

before(async () => {
  plain = await listen(http.createServer(handler));
  if (!haveOpenssl) return;
  const { keyPath: key, certPath: cert } = makeSelfSignedCert(dir);
  signed = await listen(https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, handler));
  // the deferred file: one unrelated root, then the server's certificate
  fs.writeFileSync(path.join(dir, 'extra.pem'), `${tls.rootCertificates[0]}\n${fs.readFileSync(cert, 'utf8')}`);
  process.env.TSDOCK_EXTRA_CA_CERTS = path.join(dir, 'extra.pem');
  ({ request } = await import('../../../src/image/registry/http.js'));
  ({ trustNeeded } = await import('../../../src/image/registry/trust.js'));
});

after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const body = async (r: Awaited<ReturnType<typeof request>>): Promise<string> => {
  let s = '';
  for await (const c of r.body) s += c;
  return s;
};

test('a chain the bundled roots do not verify is verified again with the deferred file; its origin keeps it', { skip: !haveOpenssl && 'needs openssl' }, async () => {
  const r = await request({ url: `https://${signed}/a` });
  assert.equal(r.status, 200);
  assert.equal(await body(r), 'ok');
  assert.equal(trustNeeded(`https://${signed}`), 'extras');
  // a stream body is sent once, with what its origin needed
  const up = await request({ method: 'PUT', url: `https://${signed}/up`, body: Readable.from([Buffer.alloc(1000)]), headers: { 'content-length': '1000' } });
  assert.equal(up.status, 200);
  await body(up);
  assert.deepEqual(seen.filter((l) => l.startsWith('PUT')), ['PUT /up 1000']);
});

test('a probe carries no trust store: a plain-http server fails the handshake without one, a TLS one is verified again', { skip: !haveOpenssl && 'needs openssl' }, async () => {
  await assert.rejects(request({ url: `https://${plain}/v2/`, probe: true, attempts: 1 }), (err: Error & { code?: string }) => !/CERT|SELF_SIGNED|VERIFY/.test(err.code ?? ''));
  const r = await request({ url: `https://${signed}/v2/`, probe: true, attempts: 1 });
  assert.equal(r.status, 200);
  await body(r);
});

test('verification off needs no store; a host\'s own CA list (certs.d) gets the deferred file too', { skip: !haveOpenssl && 'needs openssl' }, async () => {
  const r = await request({ url: `https://${signed}/b`, tls: { rejectUnauthorized: false } });
  assert.equal(r.status, 200);
  await body(r);
  // the host's own CA list (certs.d) replaces the roots; the deferred file is still added, as Node would
  const other = await request({ url: `https://${signed}/c`, tls: { ca: [tls.rootCertificates[1]!] } });
  assert.equal(other.status, 200, 'the deferred file vouches for it');
  await body(other);
});
