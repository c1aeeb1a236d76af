import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/errors.js';
import { getCredentials } from '../../../src/image/registry/credentials.js';

let dir: string;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-creds-'));
  fs.mkdirSync(path.join(dir, 'docker'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(
    path.join(dir, 'docker', 'config.json'),
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'plain.example.com': { auth: b64('plain:pw:with:colons') },
        'https://scheme.example.com/v2/': { username: 'su', password: 'sp' },
        'idt.example.com': { auth: b64('tokuser:'), identitytoken: 'refresh-me' },
        'empty.example.com': {},
        'bad.example.com': { auth: b64('nocolon') },
      },
      credHelpers: { 'helper.example.com': 'test' },
    }),
  );
  const script = `#!/bin/sh
read server
if [ "$1" != get ]; then exit 2; fi
case "$server" in
  helper.example.com) echo '{"ServerURL":"helper.example.com","Username":"hu","Secret":"hs"}' ;;
  store.example.com) echo '{"ServerURL":"store.example.com","Username":"<token>","Secret":"idtok"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'bin', 'docker-credential-test'), script, { mode: 0o755 });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGISTRY_AUTH_FILE: path.join(dir, 'none.json'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, ...extra };
}

test('docker config auths, docker.io under index.docker.io/v1', async () => {
  assert.deepEqual(await getCredentials('docker.io', env()), { username: 'hubuser', password: 'hubpass' });
  assert.deepEqual(await getCredentials('registry-1.docker.io', env()), { username: 'hubuser', password: 'hubpass' });
  assert.deepEqual(await getCredentials('plain.example.com', env()), { username: 'plain', password: 'pw:with:colons' });
  assert.deepEqual(await getCredentials('scheme.example.com', env()), { username: 'su', password: 'sp' });
  assert.deepEqual(await getCredentials('idt.example.com', env()), { username: 'tokuser', password: '', identityToken: 'refresh-me' });
  assert.equal(await getCredentials('empty.example.com', env()), undefined);
  assert.equal(await getCredentials('unknown.example.com', env()), undefined);
  await assert.rejects(getCredentials('bad.example.com', env()), UsageError);
});

test('credential helper via credHelpers', async () => {
  assert.deepEqual(await getCredentials('helper.example.com', env()), { username: 'hu', password: 'hs' });
});

test('credsStore, identity tokens and not-found answers', async () => {
  const cfg = path.join(dir, 'store');
  fs.mkdirSync(cfg, { recursive: true });
  fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ credsStore: 'test', auths: { 'store.example.com': {} } }));
  const e = env({ DOCKER_CONFIG: cfg });
  assert.deepEqual(await getCredentials('store.example.com', e), { username: '', password: '', identityToken: 'idtok' });
  assert.equal(await getCredentials('other.example.com', e), undefined);
  fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ credsStore: 'missing' }));
  await assert.rejects(getCredentials('store.example.com', e), /docker-credential-missing not found in PATH/);
});

test("tsdock's auth file comes first; an authFile option replaces it", async () => {
  const own = path.join(dir, 'auth.json');
  fs.writeFileSync(own, JSON.stringify({ auths: { 'docker.io': { auth: b64('own:pw') } } }));
  assert.deepEqual(await getCredentials('docker.io', env({ REGISTRY_AUTH_FILE: own })), { username: 'own', password: 'pw' });
  assert.deepEqual(await getCredentials('docker.io', env(), { authFile: own }), { username: 'own', password: 'pw' });
  const xdg = path.join(dir, 'xdg');
  fs.mkdirSync(path.join(xdg, 'tsdock'), { recursive: true });
  fs.writeFileSync(path.join(xdg, 'tsdock', 'auth.json'), JSON.stringify({ auths: { 'plain.example.com': { auth: b64('x:y') } } }));
  assert.deepEqual(await getCredentials('plain.example.com', env({ REGISTRY_AUTH_FILE: '', XDG_CONFIG_HOME: xdg })), { username: 'x', password: 'y' });
  fs.writeFileSync(own, '{not json');
  await assert.rejects(getCredentials('docker.io', env({ REGISTRY_AUTH_FILE: own })), (err: unknown) => err instanceof UsageError && err.message.includes(own));
});
