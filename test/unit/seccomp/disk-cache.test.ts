import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileSeccomp, defaultProfile } from '../../../src/ocispec/seccomp/index.js';
import { cacheKey, compileCached } from '../../../src/ocispec/seccomp/disk-cache.js';

test('compiled programs are kept by digest: read back, keyed by capabilities and profile, bad entries compiled again', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-seccomp-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const opts = { arch: 'x86_64' as const, capabilities: ['CAP_CHOWN'] };
  const prog = compileCached(defaultProfile, opts, path.join(dir, 'c'));
  assert.deepEqual(prog, compileSeccomp(defaultProfile, opts));
  const file = path.join(dir, 'c', `${cacheKey(defaultProfile, opts)}.bpf`);
  assert.equal((fs.statSync(file).mode & 0o777), 0o600);
  // what is on disk is what a later process gets (a planted 8-byte program proves the read)
  fs.writeFileSync(file, Buffer.alloc(8, 1));
  assert.deepEqual(compileCached(defaultProfile, opts, path.join(dir, 'c')), Buffer.alloc(8, 1));
  assert.notEqual(cacheKey(defaultProfile, { ...opts, capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] }), cacheKey(defaultProfile, opts));
  assert.notEqual(cacheKey({ ...defaultProfile, defaultAction: 'SCMP_ACT_KILL' }, opts), cacheKey(defaultProfile, opts));
  // a truncated entry is compiled again and replaced
  fs.writeFileSync(file, Buffer.alloc(5));
  assert.deepEqual(compileCached(defaultProfile, opts, path.join(dir, 'c')), prog);
  assert.deepEqual(fs.readFileSync(file), prog);
});
