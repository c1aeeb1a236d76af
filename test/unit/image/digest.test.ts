import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, UsageError } from '../../../src/errors.js';
import { DigestVerifier, parseDigest, sha256Digest, verifyBytes } from '../../../src/image/digest.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function sink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

test('sha256Digest and parseDigest', () => {
  assert.equal(sha256Digest(Buffer.alloc(0)), EMPTY);
  assert.deepEqual(parseDigest(EMPTY), { algorithm: 'sha256', hex: EMPTY.slice(7) });
  assert.throws(() => parseDigest('sha256:abc'), UsageError);
  assert.throws(() => parseDigest('nope'), UsageError);
});

test('verifyBytes throws IntegrityError on mismatch', () => {
  verifyBytes(Buffer.alloc(0), EMPTY, 'thing');
  assert.throws(() => verifyBytes(Buffer.from('x'), EMPTY, 'config of foo'), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.match(err.message, /^digest mismatch for config of foo: expected sha256:e3b0.*, got sha256:2d71/);
    return true;
  });
});

test('DigestVerifier passes data through and checks the digest at the end', async () => {
  const data = Buffer.from('hello world');
  const v = new DigestVerifier({ expected: sha256Digest(data), size: data.length, what: 'blob' });
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([data.subarray(0, 5), data.subarray(5)]), v, new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }));
  assert.equal(Buffer.concat(chunks).toString(), 'hello world');
  assert.equal(v.digest, sha256Digest(data));
  assert.equal(v.bytes, data.length);
});

test('DigestVerifier rejects a wrong digest and a wrong size', async () => {
  await assert.rejects(pipeline(Readable.from([Buffer.from('abc')]), new DigestVerifier({ expected: EMPTY, what: 'layer x' }), sink()), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.match(err.message, /digest mismatch for layer x: expected sha256:e3b0/);
    return true;
  });
  await assert.rejects(pipeline(Readable.from([Buffer.from('abcdef')]), new DigestVerifier({ size: 3, what: 'layer y' }), sink()), /size mismatch for layer y/);
  await assert.rejects(pipeline(Readable.from([Buffer.from('ab')]), new DigestVerifier({ size: 3, what: 'layer z' }), sink()), /expected 3 bytes, got 2/);
});
