import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAuth, encodeAuth, getCredentials } from '../../../src/image/registry/credentials.js';
import { removeCredentials, saveCredentials } from '../../../src/image/registry/credentials-store.js';
import { serverHost } from '../../../src/image/login.js';

test('config.json auth: base64 of user:password, colons in the password kept', () => {
  assert.equal(encodeAuth('u', 'p'), 'dTpw');
  assert.deepEqual(decodeAuth(encodeAuth('me', 'a:b:c')), { username: 'me', password: 'a:b:c' });
  assert.equal(decodeAuth(Buffer.from('nocolon').toString('base64')), undefined);
});

test('login servers: URLs and docker.io spellings come down to the host', () => {
  assert.equal(serverHost(undefined), 'docker.io');
  assert.equal(serverHost('https://quay.io/v2/'), 'quay.io');
  assert.equal(serverHost('index.docker.io'), 'docker.io');
  assert.equal(serverHost('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('save then read back then remove, in a 0600 file that keeps other keys', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-creds-'));
  try {
    const env = { DOCKER_CONFIG: path.join(dir, 'd'), XDG_CONFIG_HOME: dir, HOME: dir };
    const file = path.join(dir, 'd', 'config.json');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ auths: { 'https://reg:5000/v1/': { auth: encodeAuth('old', 'x') }, 'other.io': { auth: encodeAuth('o', 'p') } }, proxies: { a: 1 } }));
    assert.equal(await saveCredentials('reg:5000', { username: 'new', password: 'pw' }, env), file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: Record<string, unknown>; proxies: unknown };
    assert.deepEqual(Object.keys(doc.auths).sort(), ['other.io', 'reg:5000'], 'the old spelling of the same host is replaced');
    assert.deepEqual(doc.proxies, { a: 1 });
    assert.deepEqual(await getCredentials('reg:5000', env), { username: 'new', password: 'pw' });
    await saveCredentials('docker.io', { username: 'hub', password: 'h' }, env);
    assert.ok('https://index.docker.io/v1/' in (JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: object }).auths);
    assert.deepEqual(await removeCredentials('reg:5000', env), ['reg:5000']);
    assert.equal(await getCredentials('reg:5000', env), undefined);
    assert.deepEqual(await removeCredentials('reg:5000', env), []);
    assert.deepEqual((await removeCredentials(undefined, env)).sort(), ['https://index.docker.io/v1/', 'other.io']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
