import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

let h: HarnessData;

/** A DOCKER_CONFIG directory whose config.json holds `auths` for one registry. */
function dockerConfig(host: string, user: string, password: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-dockercfg-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }));
  return dir;
}

/** An environment with no ambient credentials (empty docker config and tsdock auth file locations). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-noauth-'));
  process.once('exit', () => fs.rmSync(empty, { recursive: true, force: true }));
  return { DOCKER_CONFIG: empty, XDG_CONFIG_HOME: empty, REGISTRY_AUTH_FILE: path.join(empty, 'none.json'), ...extra };
}

describe('token (Bearer) auth, as Docker Hub does it', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  before(async () => {
    h = await getHarness();
  });

  test('anonymous pull of a private repository is denied with a clear error', async () => {
    const { root } = tempRoot('token-anon');
    const r = await tsdock(['pull', `${h.token.host}/private/busybox:latest`], { root, env: cleanEnv() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: authentication required for .*private\/busybox.*tsdock login/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const ls = await tsdock(['images', '-q'], { root });
    assert.equal(ls.stdout, '');
  });

  test('a wrong password is reported as such', async () => {
    const { root } = tempRoot('token-bad');
    const env = cleanEnv({ DOCKER_CONFIG: dockerConfig(h.token.host, h.token.username, 'wrong') });
    const r = await tsdock(['pull', `${h.token.host}/private/busybox:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .*(invalid username or password|access denied)/);
  });

  test('credentials from a docker config.json work', async () => {
    const { root } = tempRoot('token-ok');
    const env = cleanEnv({ DOCKER_CONFIG: dockerConfig(h.token.host, h.token.username, h.token.password) });
    const r = await tsdock(['pull', `${h.token.host}/private/busybox:latest`], { root, env });
    assert.equal(r.code, 0, r.stderr);
    const ls = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.equal(ls.stdout, `${h.token.host}/private/busybox:latest\n`);
  });
});

describe('basic auth over TLS', { skip: !isRoot && 'needs root to install a CA under /etc/docker/certs.d' }, () => {
  before(async () => {
    h = await getHarness();
  });

  test('without its CA the pull fails cleanly', async () => {
    const { root } = tempRoot('tls-noca');
    const env = cleanEnv({ DOCKER_CONFIG: dockerConfig(h.basicTls.host, h.basicTls.username, h.basicTls.password) });
    const r = await tsdock(['pull', `${h.basicTls.host}/private/busybox:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: tls verification failed for registry/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('with its CA in /etc/docker/certs.d and credentials it works', async () => {
    const { root } = tempRoot('tls-ca');
    const certs = path.join('/etc/docker/certs.d', h.basicTls.host);
    const created = !fs.existsSync(certs);
    fs.mkdirSync(certs, { recursive: true });
    fs.copyFileSync(h.basicTls.caCertPath, path.join(certs, 'ca.crt'));
    try {
      let r = await tsdock(['pull', `${h.basicTls.host}/private/busybox:latest`], { root, env: cleanEnv() });
      assert.equal(r.code, 1, 'anonymous is refused');
      assert.match(r.stderr, /authentication required/);
      const env = cleanEnv({ DOCKER_CONFIG: dockerConfig(h.basicTls.host, h.basicTls.username, h.basicTls.password) });
      r = await tsdock(['pull', `${h.basicTls.host}/private/busybox:latest`], { root, env });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      if (created) fs.rmSync(certs, { recursive: true, force: true });
      else fs.rmSync(path.join(certs, 'ca.crt'), { force: true });
    }
  });

  test('--tls-verify=false skips verification', async () => {
    const { root } = tempRoot('tls-noverify');
    const r = await tsdock(['pull', '--tls-verify=false', '--creds', `${h.basicTls.username}:${h.basicTls.password}`, `${h.basicTls.host}/private/busybox:latest`], { root, env: cleanEnv() });
    assert.equal(r.code, 0, r.stderr);
  });
});
