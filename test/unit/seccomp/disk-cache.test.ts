import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileSeccomp, defaultProfile } from '../../../src/ocispec/seccomp/index.js';
import { cacheKey, cacheName, compileCached } from '../../../src/ocispec/seccomp/disk-cache.js';

test('compiled programs are kept by key: read back, keyed by capabilities and profile, bad or colliding entries compiled again', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-seccomp-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const opts = { arch: 'x86_64' as const, capabilities: ['CAP_CHOWN'] };
  const prog = compileCached(defaultProfile, opts, path.join(dir, 'c'));
  assert.deepEqual(prog, compileSeccomp(defaultProfile, opts));
  const key = `${cacheKey(defaultProfile, opts)}\n`;
  const file = path.join(dir, 'c', cacheName(key));
  assert.match(path.basename(file), /^[0-9a-f]{16}\.bpf$/);
  assert.equal((fs.statSync(file).mode & 0o777), 0o600);
  assert.deepEqual(fs.readFileSync(file), Buffer.concat([Buffer.from(key), prog]), 'the key, a newline, the program');
  // what is on disk is what a later process gets (a planted 8-byte program proves the read)
  fs.writeFileSync(file, Buffer.concat([Buffer.from(key), Buffer.alloc(8, 1)]));
  assert.deepEqual(compileCached(defaultProfile, opts, path.join(dir, 'c')), Buffer.alloc(8, 1));
  assert.notEqual(cacheKey(defaultProfile, { ...opts, capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] }), cacheKey(defaultProfile, opts));
  assert.notEqual(cacheKey({ ...defaultProfile, defaultAction: 'SCMP_ACT_KILL' }, opts), cacheKey(defaultProfile, opts));
  assert.notEqual(cacheName('a'), cacheName('b'));
  // an entry under the same name for another key (a collision) is not used: compiled again and replaced
  fs.writeFileSync(file, Buffer.concat([Buffer.from(key.replace('x86_64', 'aarch64')), Buffer.alloc(8, 1)]));
  assert.deepEqual(compileCached(defaultProfile, opts, path.join(dir, 'c')), prog);
  // a truncated entry is compiled again and replaced
  fs.writeFileSync(file, Buffer.concat([Buffer.from(key), Buffer.alloc(5)]));
  assert.deepEqual(compileCached(defaultProfile, opts, path.join(dir, 'c')), prog);
  assert.deepEqual(fs.readFileSync(file), Buffer.concat([Buffer.from(key), prog]));
});
