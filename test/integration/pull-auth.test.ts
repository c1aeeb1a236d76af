import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, tempRoot, tsdock } from './helpers.js';

/** bin/tsdock run as a program (its sh line, then native/build/tsdock-launch), not by node as tsdock() runs it */
function program(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

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

  test('NODE_EXTRA_CA_CERTS is trusted when bin/tsdock runs as a program (its launcher defers the file from Node\'s start)', async () => {
    const { root } = tempRoot('tls-extra-ca');
    const env = { ...process.env, NO_COLOR: '1', ...cleanEnv({ DOCKER_CONFIG: dockerConfig(h.basicTls.host, h.basicTls.username, h.basicTls.password) }) };
    const ref = `${h.basicTls.host}/private/busybox:latest`;
    // another CA's file: still refused, so it is the file's own certificate that is trusted below
    const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-otherca-')), 'other.crt');
    fs.writeFileSync(other, tls.rootCertificates[0]!);
    let r = await program(['--root', root, 'pull', ref], { ...env, NODE_EXTRA_CA_CERTS: other });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: tls verification failed for registry/);
    r = await program(['--root', root, 'pull', '-q', ref], { ...env, NODE_EXTRA_CA_CERTS: h.basicTls.caCertPath });
    assert.equal(r.code, 0, r.stderr);
    // the launcher moved it (TSDOCK_EXTRA_CA_CERTS), and the loader put it back for what tsdock starts: `-e NAME`
    // passes the caller's value on
    r = await program(['--root', root, 'run', '--rm', '--network', 'none', '-e', 'NODE_EXTRA_CA_CERTS', '-e', 'TSDOCK_EXTRA_CA_CERTS', ref, 'sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS $TSDOCK_EXTRA_CA_CERTS"'], { ...env, NODE_EXTRA_CA_CERTS: h.basicTls.caCertPath });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${h.basicTls.caCertPath} ${h.basicTls.caCertPath}\n`);
    fs.rmSync(path.dirname(other), { recursive: true, force: true });
  });

  test('--tls-verify=false skips verification', async () => {
    const { root } = tempRoot('tls-noverify');
    const r = await tsdock(['pull', '--tls-verify=false', '--creds', `${h.basicTls.username}:${h.basicTls.password}`, `${h.basicTls.host}/private/busybox:latest`], { root, env: cleanEnv() });
    assert.equal(r.code, 0, r.stderr);
  });
});
