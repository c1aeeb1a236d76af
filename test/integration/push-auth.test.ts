import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skopeoInspect } from '../harness/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

/** An environment whose docker config dir (and tsdock auth file) start empty. */
function freshEnv(): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-test-login-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, env: { DOCKER_CONFIG: path.join(dir, 'docker'), XDG_CONFIG_HOME: dir, REGISTRY_AUTH_FILE: path.join(dir, 'none.json') } };
}

describe('login, logout and authenticated push', { skip: !isRoot && 'needs root for the harness registries' }, () => {
  let h: HarnessData;
  const { root } = tempRoot('push-auth');
  let source = '';

  before(async () => {
    h = await getHarness();
    source = h.fixtures.busyboxV2s2.ref;
    const r = await tsdock(['pull', '--tls-verify=false', source], { root });
    assert.equal(r.code, 0, r.stderr);
  });

  test('basic auth over TLS: login --password-stdin, push, logout, then push fails in one line', async () => {
    const { env, dir } = freshEnv();
    const host = h.basicTls.host;
    const tls = ['--cert-dir', h.basicTls.certsDir];
    const t = (args: string[], input?: string) => tsdock(args, { root, env, ...(input !== undefined ? { input } : {}) });

    const bad = await t(['login', ...tls, '-u', h.basicTls.username, '--password-stdin', host], 'wrong\n');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: .*invalid username or password/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.ok(!fs.existsSync(path.join(dir, 'docker', 'config.json')), 'nothing saved before the registry accepted');

    const ok = await t(['login', ...tls, '-u', h.basicTls.username, '--password-stdin', host], `${h.basicTls.password}\n`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const file = path.join(dir, 'docker', 'config.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[host]!.auth, 'base64').toString(), `${h.basicTls.username}:${h.basicTls.password}`);

    const dest = `${host}/pushed/busybox:v1`;
    assert.equal((await t(['tag', source, dest])).code, 0);
    const pushed = await t(['push', ...tls, dest]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /^[0-9a-f]{12}: Pushed$/m);
    const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed.stdout)![1];
    const creds = `${h.basicTls.username}:${h.basicTls.password}`;
    assert.equal((await skopeoInspect(dest, { creds, certDir: h.basicTls.certDir, tlsVerify: true })).Digest, digest);

    const out = await t(['logout', host]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Removing login credentials for ${host}\n`);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).auths, {});
    assert.equal((await t(['logout', host])).stdout, `Not logged in to ${host}\n`);

    const denied = await t(['push', ...tls, dest]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^Error: authentication required for .*pushed\/busybox/);
    assert.equal(denied.stderr.trim().split('\n').length, 1);
  });

  test('token auth: login, push with pull,push scopes, pulled back by another store', async () => {
    const { env } = freshEnv();
    const host = h.token.host;
    const login = await tsdock(['login', '--tls-verify=false', '-u', h.token.username, '--password-stdin', host], { root, env, input: h.token.password });
    assert.equal(login.code, 0, login.stderr);
    const dest = `${host}/private/pushed:v1`;
    assert.equal((await tsdock(['tag', source, dest], { root })).code, 0);
    const pushed = await tsdock(['push', '--tls-verify=false', dest], { root, env });
    assert.equal(pushed.code, 0, pushed.stderr);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)![1];
    // another repository of the same registry: mounted, with a token that also carries the source's pull scope
    const second = await tsdock(['push', '--tls-verify=false', dest, `${host}/private/second:v1`], { root, env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^[0-9a-f]{12}: Mounted from private\/pushed$/m);
    const other = tempRoot('push-auth-back');
    const back = await tsdock(['pull', '--tls-verify=false', dest], { root: other.root, env });
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`Digest: ${digest}`));
    const ids = await Promise.all([root, other.root].map(async (r) => (await tsdock(['images', '-q', '--no-trunc', dest], { root: r })).stdout));
    assert.equal(ids[0], ids[1]);
    other.cleanup();
  });

  test('a credential helper named by credsStore stores, serves and erases the credentials', async () => {
    const { env, dir } = freshEnv();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const helper = path.join(bin, 'docker-credential-tsdocktest');
    fs.writeFileSync(helper, `#!/bin/sh\nd=${dir}\ncase "$1" in\n store) cat > "$d/stored.json" ;;\n get) cat >/dev/null; if [ -f "$d/stored.json" ]; then cat "$d/stored.json"; else echo "credentials not found in native keychain"; exit 1; fi ;;\n erase) cat > "$d/erased"; rm -f "$d/stored.json" ;;\nesac\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, 'docker', 'config.json'), JSON.stringify({ credsStore: 'tsdocktest' }));
    const henv = { ...env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const host = h.basicTls.host;
    const tls = ['--cert-dir', h.basicTls.certsDir];
    const login = await tsdock(['login', ...tls, '-u', h.basicTls.username, '-p', h.basicTls.password, host], { root, env: henv });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /Using --password via the CLI is insecure/);
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'stored.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(stored, { ServerURL: host, Username: h.basicTls.username, Secret: h.basicTls.password });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, object> };
    assert.deepEqual(config.auths, { [host]: {} }, 'no secret in the file');
    const pushed = await tsdock(['push', ...tls, source, `${host}/helper/busybox:v1`], { root, env: henv });
    assert.equal(pushed.code, 0, pushed.stderr);
    const out = await tsdock(['logout', '--all'], { root, env: henv });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'erased'), 'utf8'), host);
    assert.ok(!fs.existsSync(path.join(dir, 'stored.json')));
  });
});
