import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

let h: HarnessData;

describe('images, tag, rmi, history, inspect, prune', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  let root: string;
  let ref: string;
  before(async () => {
    h = await getHarness();
    root = tempRoot('images').root;
    ref = h.fixtures.busyboxV2s2.ref;
    const r = await tsdock(['pull', ref], { root });
    assert.equal(r.code, 0, r.stderr);
  });

  test('images: docker columns, -q, --no-trunc, --digests, json and templates', async () => {
    let r = await tsdock(['images'], { root });
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.split('\n');
    assert.match(header!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const id = (await tsdock(['inspect', '--format', '{{.Id}}', ref], { root })).stdout.trim();
    assert.match(row!, new RegExp(`^${h.fixtures.busyboxV2s2.host}/busybox\\s+v2s2\\s+${id.slice(7, 19)}\\s+\\S.* ago\\s+[\\d.]+[kM]B$`));
    r = await tsdock(['images', '-q'], { root });
    assert.equal(r.stdout, `${id.slice(7, 19)}\n`);
    r = await tsdock(['images', '-q', '--no-trunc'], { root });
    assert.equal(r.stdout, `${id}\n`);
    r = await tsdock(['images', '--digests'], { root });
    assert.match(r.stdout.split('\n')[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(r.stdout.includes(h.fixtures.busyboxV2s2.digest));
    r = await tsdock(['images', '--format', 'json'], { root });
    const obj = JSON.parse(r.stdout.trim()) as Record<string, string>;
    assert.equal(obj.Repository, `${h.fixtures.busyboxV2s2.host}/busybox`);
    assert.equal(obj.Tag, 'v2s2');
    assert.equal(obj.ID, id.slice(7, 19));
    r = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.equal(r.stdout, `${ref}\n`);
    r = await tsdock(['images', '--format', 'table {{.Tag}}\t{{.ID}}'], { root });
    assert.match(r.stdout, /^TAG\s+IMAGE ID\nv2s2\s+[0-9a-f]{12}\n$/);
    r = await tsdock(['images', 'nothing-matches'], { root });
    assert.equal(r.stdout.split('\n').length, 2, 'header only');
  });

  test('tag adds a name; rmi of one of two tags only untags', async () => {
    let r = await tsdock(['tag', ref, 'myapp:1.0'], { root });
    assert.equal(r.code, 0, r.stderr);
    r = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['myapp:1.0', ref].sort());
    r = await tsdock(['image', 'inspect', '--format', '{{json .RepoTags}}', 'myapp:1.0'], { root });
    assert.deepEqual(JSON.parse(r.stdout), [ref, 'myapp:1.0']);
    r = await tsdock(['rmi', 'myapp:1.0'], { root });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Untagged: myapp:1.0\n');
    r = await tsdock(['tag', 'no-such-image', 'x:1'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such image: no-such-image\n');
    r = await tsdock(['tag', ref, 'x@sha256:' + 'a'.repeat(64)], { root });
    assert.notEqual(r.code, 0);
  });

  test('inspect: docker-shaped fields, unknown objects fail with exit 1', async () => {
    let r = await tsdock(['inspect', ref], { root });
    assert.equal(r.code, 0, r.stderr);
    const [img] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    for (const key of ['Id', 'RepoTags', 'RepoDigests', 'Created', 'Architecture', 'Os', 'Config', 'RootFS', 'Size', 'GraphDriver']) assert.ok(key in img!, key);
    assert.deepEqual((img!.Config as { Cmd: string[] }).Cmd, h.fixtures.busyboxV2s2.expect.cmd);
    r = await tsdock(['inspect', 'nope'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[]\n');
    assert.equal(r.stderr, 'Error: No such object: nope\n');
    r = await tsdock(['inspect', '--format', '{{.Nope}}', ref], { root });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: template: /);
  });

  test('history: newest first, image id on top, <missing> below', async () => {
    const r = await tsdock(['history', ref], { root });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(lines[1]!, /^[0-9a-f]{12}\s/);
    const q = await tsdock(['history', '-q', ref], { root });
    assert.equal(q.stdout.trim().split('\n').length, lines.length - 1);
  });

  test('rmi by id removes the image and its layers; image prune clears dangling ones', async () => {
    const { root: r2 } = tempRoot('rmi');
    assert.equal((await tsdock(['pull', h.fixtures.layered.ref], { root: r2 })).code, 0);
    const id = (await tsdock(['images', '-q'], { root: r2 })).stdout.trim();
    let r = await tsdock(['rmi', id], { root: r2 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Untagged: .*layered:latest\n/);
    assert.match(r.stdout, /Deleted: sha256:[0-9a-f]{64}\n/);
    assert.deepEqual(fs.readdirSync(path.join(r2, 'layers', 'sha256')), []);
    r = await tsdock(['rmi', id], { root: r2 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: No such image/);
    // a dangling image: pull two platforms of one tag, the first loses its tag
    const multi = h.fixtures.multiArchOci.ref;
    assert.equal((await tsdock(['pull', multi], { root: r2 })).code, 0);
    assert.equal((await tsdock(['pull', '--platform', 'linux/arm64', multi], { root: r2 })).code, 0);
    r = await tsdock(['images', '--filter', 'dangling=true', '-q'], { root: r2 });
    assert.equal(r.stdout.trim().split('\n').length, 1);
    r = await tsdock(['image', 'prune', '-f'], { root: r2 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted Images:/);
    assert.match(r.stdout, /Total reclaimed space: /);
    r = await tsdock(['images', '-q'], { root: r2 });
    assert.equal(r.stdout.trim().split('\n').length, 1);
    r = await tsdock(['image', 'prune', '-a', '-f'], { root: r2 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tsdock(['images', '-q'], { root: r2 })).stdout, '');
    assert.deepEqual(fs.readdirSync(path.join(r2, 'layers', 'sha256')), []);
  });
});
