import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pushCompressed } from '../../../src/image/push-compressed.js';
import type { RegistryClient } from '../../../src/image/registry/client.js';

/** A registry's upload side in memory: what each session received, in order. */
function fakeRegistry(resumeAt?: number) {
  const log: string[] = [];
  const received: Buffer[] = [];
  let finished: { digest: string; bytes: Buffer } | undefined;
  const read = async (r: Readable): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };
  const uploads = {
    start: async () => (log.push('POST'), { mounted: false as const, location: 'http://r/u/1' }),
    status: async (location: string) => (log.push(`GET ${location}`), resumeAt === undefined ? undefined : { offset: resumeAt, location }),
    patch: async (location: string, chunk: Readable, start: number, length: number) => {
      const bytes = await read(chunk);
      assert.equal(bytes.length, length);
      log.push(`PATCH ${start}+${length}`);
      received.push(bytes);
      return location;
    },
    finish: async (_location: string, digest: string, body?: Readable, length = 0) => {
      const bytes = body ? await read(body) : Buffer.alloc(0);
      assert.equal(bytes.length, length);
      log.push(`PUT ${length}`);
      received.push(bytes);
      finished = { digest, bytes: Buffer.concat(received) };
    },
  };
  const client = { target: 'r/repo', uploads: () => uploads } as unknown as RegistryClient;
  return { client, log, finished: () => finished };
}

const data = crypto.randomBytes(200_000);
const layer = { diffId: `sha256:${'d'.repeat(64)}`, tar: () => Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]) };
const sessionDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-unit-pushgz-'));

test('a layer gzip\'d while it streams goes in full chunks, the last short one, then the digest', async () => {
  const reg = fakeRegistry();
  const dir = sessionDir();
  const r = await pushCompressed(reg.client, layer, { sessionDir: dir, chunk: 65536, monolithicMax: 0 });
  const whole = reg.finished()!.bytes;
  assert.equal(r.size, whole.length);
  assert.equal(r.digest, `sha256:${crypto.createHash('sha256').update(whole).digest('hex')}`);
  assert.equal(reg.finished()!.digest, r.digest);
  const patches = reg.log.filter((l) => l.startsWith('PATCH'));
  assert.deepEqual(patches.slice(0, 3), ['PATCH 0+65536', 'PATCH 65536+65536', 'PATCH 131072+65536']);
  assert.equal(reg.log.at(-1), 'PUT 0');
  assert.deepEqual(fs.readdirSync(dir), [], 'the session file is gone once pushed');
});

test('a small layer goes whole in the closing PUT', async () => {
  const reg = fakeRegistry();
  const r = await pushCompressed(reg.client, layer, { sessionDir: sessionDir(), chunk: 1 << 20 });
  assert.deepEqual(reg.log, ['POST', `PUT ${r.size}`]);
});

test('a session a killed push left open is continued: the same gzip bytes, only the rest sent', async () => {
  const first = fakeRegistry();
  const whole = await pushCompressed(first.client, layer, { sessionDir: sessionDir(), chunk: 65536, monolithicMax: 0 });
  const dir = sessionDir();
  const reg = fakeRegistry(65536);
  const file = fs.readdirSync(dir);
  assert.deepEqual(file, []);
  // what pushCompressed keeps while a session is open: its location, under a name of the target and the diff id
  const key = crypto.createHash('sha256').update(`r/repo\ngzip ${layer.diffId}`).digest('hex');
  fs.writeFileSync(path.join(dir, `${key}.json`), JSON.stringify({ location: 'http://r/u/1' }));
  const r = await pushCompressed(reg.client, layer, { sessionDir: dir, chunk: 65536, monolithicMax: 0 });
  assert.deepEqual(r, whole);
  assert.equal(reg.log[0], 'GET http://r/u/1');
  assert.ok(!reg.log.includes('POST'));
  assert.equal(reg.log[1], 'PATCH 65536+65536');
  assert.deepEqual(Buffer.concat([first.finished()!.bytes.subarray(0, 65536), reg.finished()!.bytes]), first.finished()!.bytes);
});
