import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../src/errors.js';
import { findRegistry, isBlocked, isInsecure, loadRegistriesConf, parseRegistriesConf, registriesConfPath } from '../../../src/config/registries.js';

const v2 = `
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
location = "127.0.0.1:5001"
insecure = true

[[registry]]
prefix = "example.com/blocked"
location = "example.com/blocked"
blocked = true

[[registry]]
prefix = "*.internal"
location = "mirror.internal"
insecure = true

[[registry.mirror]]
location = "ignored.example.com"
`;

test('parses the v2 format', () => {
  const conf = parseRegistriesConf(v2, 'x.conf');
  assert.deepEqual(conf.unqualifiedSearchRegistries, ['quay.io', 'docker.io']);
  assert.equal(isInsecure(conf, '127.0.0.1:5001'), true);
  assert.equal(isInsecure(conf, '127.0.0.1:5002'), false);
  assert.equal(isInsecure(conf, 'reg.internal'), true);
  assert.equal(isBlocked(conf, 'example.com', 'blocked/app'), true);
  assert.equal(isBlocked(conf, 'example.com', 'ok/app'), false);
  assert.equal(findRegistry(conf, 'example.com/blocked/x')?.blocked, true);
});

test('parses the v1 format', () => {
  const conf = parseRegistriesConf(`
[registries.search]
registries = ["registry.fedoraproject.org"]
[registries.insecure]
registries = ["old.example.com"]
[registries.block]
registries = ["evil.example.com"]
`);
  assert.deepEqual(conf.unqualifiedSearchRegistries, ['registry.fedoraproject.org']);
  assert.equal(isInsecure(conf, 'old.example.com'), true);
  assert.equal(isBlocked(conf, 'evil.example.com', 'x'), true);
});

test('malformed files are UsageErrors naming the file', () => {
  assert.throws(() => parseRegistriesConf('unqualified-search-registries = [', '/etc/x.conf'), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /^invalid registries configuration \/etc\/x\.conf: /);
    return true;
  });
  assert.throws(() => parseRegistriesConf('unqualified-search-registries = "quay.io"', 'f'), /must be a list of strings/);
  assert.throws(() => parseRegistriesConf('[[registry]]\ninsecure = "yes"\nlocation="a"', 'f'), /insecure must be true or false/);
  assert.throws(() => parseRegistriesConf('[[registry]]\ninsecure = true', 'f'), /needs a location/);
});

test('loadRegistriesConf: env override, missing file → defaults', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-regconf-'));
  try {
    const file = path.join(dir, 'registries.conf');
    assert.deepEqual(loadRegistriesConf({ TSDOCK_REGISTRIES_CONF: file }), { unqualifiedSearchRegistries: [], registries: [] });
    fs.writeFileSync(file, v2);
    const conf = loadRegistriesConf({ TSDOCK_REGISTRIES_CONF: file });
    assert.equal(conf.path, file);
    assert.equal(conf.unqualifiedSearchRegistries[0], 'quay.io');
    if (process.getuid?.() !== 0) {
      fs.mkdirSync(path.join(dir, 'containers'));
      fs.writeFileSync(path.join(dir, 'containers', 'registries.conf'), 'unqualified-search-registries = ["user.example.com"]');
      assert.deepEqual(loadRegistriesConf({ XDG_CONFIG_HOME: dir }).unqualifiedSearchRegistries, ['user.example.com']);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the user's own registries.conf: as a plain user, and inside their user namespace (uid 0 there); root's is the system file", { skip: process.getuid?.() !== 0 && 'runs as root (uid 0 is the case)' }, () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-regconf-'));
  try {
    fs.mkdirSync(path.join(home, 'containers'));
    fs.writeFileSync(path.join(home, 'containers', 'registries.conf'), '');
    assert.equal(registriesConfPath({ XDG_CONFIG_HOME: home, TSDOCK_USERNS: '1' }), path.join(home, 'containers', 'registries.conf'));
    assert.equal(registriesConfPath({ XDG_CONFIG_HOME: home }), '/etc/containers/registries.conf');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
