import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempRoot, tsdock } from './helpers.js';
import { VolumeStore } from '../../src/volume/store.js';

/** Fields of `volume inspect`, in docker's order. */
const INSPECT_KEYS = ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope'];
/** Fields of `volume ls --format json` (Go's sorted keys). */
const LS_JSON_KEYS = ['Availability', 'Driver', 'Group', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size', 'Status'];

async function ok(args: string[], root: string, input?: string): Promise<string> {
  const r = await tsdock(args, { root, input });
  assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '', `tsdock ${args.join(' ')} wrote to stderr`);
  return r.stdout;
}

describe('volume create, ls, inspect, rm, prune', () => {
  test('create prints the name; ls shows docker columns in natural order; -q, json and templates', async () => {
    const { root, cleanup } = tempRoot('volume-ls');
    assert.equal(await ok(['volume', 'create', 'vol10'], root), 'vol10\n');
    assert.equal(await ok(['volume', 'create', '--label', 'tier=db', '--label', 'flag', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'vol2'], root), 'vol2\n');
    assert.equal(await ok(['volume', 'create', '--name', 'by-flag'], root), 'by-flag\n');
    const random = (await ok(['volume', 'create'], root)).trim();
    assert.match(random, /^[0-9a-f]{64}$/);

    // natural order: vol2 before vol10 (the random hex name sorts by plain byte order against by-flag)
    const order = [...[random, 'by-flag'].sort(), 'vol2', 'vol10'];
    assert.equal(await ok(['volume', 'ls'], root), ['DRIVER    VOLUME NAME', ...order.map((n) => `local     ${n}`), ''].join('\n'));
    assert.equal(await ok(['volume', 'list', '-q'], root), order.map((n) => `${n}\n`).join(''));
    const json = (await ok(['volume', 'ls', '--format', 'json'], root))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json.length, 4);
    const vol2 = json.find((o) => o.Name === 'vol2')!;
    assert.deepEqual(Object.keys(vol2), LS_JSON_KEYS);
    assert.equal(vol2.Driver, 'local');
    assert.equal(vol2.Scope, 'local');
    assert.equal(vol2.Labels, 'flag=,tier=db');
    assert.equal(vol2.Mountpoint, path.join(root, 'volumes', 'vol2', '_data'));
    assert.equal(vol2.Size, 'N/A');
    assert.equal(await ok(['volume', 'ls', '--format', '{{.Name}}:{{.Driver}}:{{.Scope}}', '-f', 'name=vol'], root), 'vol2:local:local\nvol10:local:local\n');
    assert.equal(await ok(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Labels}}', '-f', 'label=tier'], root), 'VOLUME NAME   LABELS\nvol2          flag=,tier=db\n');
    assert.equal(await ok(['volume', 'ls', '-q', '--format', '{{.Mountpoint}}', '-f', 'name=^vol10$'], root), `${path.join(root, 'volumes', 'vol10', '_data')}\n`);
    cleanup();
  });

  test('ls filters: name, label, label!, driver, dangling; bad filters fail', async () => {
    const { root, cleanup } = tempRoot('volume-filter');
    await ok(['volume', 'create', '--label', 'env=prod', '--label', 'team=a', 'prod-a'], root);
    await ok(['volume', 'create', '--label', 'env=dev', 'dev-b'], root);
    await ok(['volume', 'create', 'plain'], root);
    const q = async (...filters: string[]) => (await ok(['volume', 'ls', '-q', ...filters.flatMap((f) => ['--filter', f])], root)).trim().split('\n').filter(Boolean);
    assert.deepEqual(await q('label=env'), ['dev-b', 'prod-a']);
    assert.deepEqual(await q('label=env=prod'), ['prod-a']);
    assert.deepEqual(await q('label=env', 'label=team=a'), ['prod-a']);
    assert.deepEqual(await q('label!=env'), ['plain']);
    assert.deepEqual(await q('name=a', 'name=plain'), ['plain', 'prod-a']);
    assert.deepEqual(await q('driver=local'), ['dev-b', 'plain', 'prod-a']);
    assert.deepEqual(await q('driver=other'), []);
    assert.deepEqual(await q('dangling=true'), ['dev-b', 'plain', 'prod-a'], 'no containers: every volume is dangling');
    assert.deepEqual(await q('dangling=false'), []);
    let r = await tsdock(['volume', 'ls', '-f', 'colour=red'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error: invalid filter 'colour'\n");
    r = await tsdock(['volume', 'ls', '-f', 'dangling=maybe'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error: invalid filter 'dangling=maybe'\n");
    r = await tsdock(['volume', 'ls', '-f', 'noequals'], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: bad format of filter/);
    cleanup();
  });

  test('inspect: docker-shaped objects, --format, missing volumes exit 1', async () => {
    const { root, cleanup } = tempRoot('volume-inspect');
    await ok(['volume', 'create', '--label', 'b=2', '--label', 'a=1', '-o', 'type=none', '-o', 'device=/srv', '-o', 'o=bind', 'data'], root);
    await ok(['volume', 'create', 'other'], root);
    const [v, ...rest] = JSON.parse(await ok(['volume', 'inspect', 'data'], root)) as Array<Record<string, unknown>>;
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(v!), INSPECT_KEYS);
    assert.match(v!.CreatedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(v!.Driver, 'local');
    assert.deepEqual(v!.Labels, { a: '1', b: '2' });
    assert.deepEqual(Object.keys(v!.Labels as object), ['a', 'b'], 'sorted like a Go map');
    assert.deepEqual(v!.Options, { device: '/srv', o: 'bind', type: 'none' });
    assert.equal(v!.Mountpoint, path.join(root, 'volumes', 'data', '_data'));
    assert.equal(v!.Name, 'data');
    assert.equal(v!.Scope, 'local');
    const plain = JSON.parse(await ok(['volume', 'inspect', 'other'], root))[0] as Record<string, unknown>;
    assert.deepEqual(plain.Labels, {});
    assert.deepEqual(plain.Options, {});
    assert.equal(await ok(['volume', 'inspect', '--format', '{{.Name}} {{.Labels.a}} {{.Labels}} {{json .Options}}', 'data', 'other'], root), 'data 1 map[a:1 b:2] {"device":"/srv","o":"bind","type":"none"}\nother <no value> map[] {}\n');
    assert.equal(await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'other'], root), `${path.join(root, 'volumes', 'other', '_data')}\n`);

    let r = await tsdock(['volume', 'inspect', 'nope'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[]\n');
    assert.equal(r.stderr, 'Error: No such volume: nope\n');
    r = await tsdock(['volume', 'inspect', '--format', '{{.Name}}', 'nope', 'data'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'data\n');
    assert.equal(r.stderr, 'Error: No such volume: nope\n');
    r = await tsdock(['volume', 'inspect'], { root });
    assert.equal(r.code, 125, 'a missing argument is a usage error');
    cleanup();
  });

  test('create: docker errors for bad names, drivers, options and labels; existing names are returned as they are', async () => {
    const { root, cleanup } = tempRoot('volume-create');
    let r = await tsdock(['volume', 'create', 'x'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: invalid volume name "x": volume name is too short, names should be at least two alphanumeric characters\n');
    r = await tsdock(['volume', 'create', '../escape'], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: invalid volume name "\.\.\/escape": "\.\.\/escape" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
    r = await tsdock(['volume', 'create', '-d', 'convoy', 'dd'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: error looking up volume plugin convoy: plugin "convoy" not found\n');
    r = await tsdock(['volume', 'create', '-o', 'colour=red', 'dd'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: invalid option: "colour"\n');
    r = await tsdock(['volume', 'create', '--label', '=v', 'dd'], { root });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid label '=v': empty name/);
    r = await tsdock(['volume', 'create', '--name', 'aa', 'bb'], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conflicting options/);
    assert.equal(fs.existsSync(path.join(root, 'volumes')) ? fs.readdirSync(path.join(root, 'volumes')).length : 0, 0);

    await ok(['volume', 'create', '--label', 'first=yes', 'same'], root);
    const before = JSON.parse(await ok(['volume', 'inspect', 'same'], root));
    assert.equal(await ok(['volume', 'create', '--label', 'second=yes', 'same'], root), 'same\n');
    assert.deepEqual(JSON.parse(await ok(['volume', 'inspect', 'same'], root)), before);
    cleanup();
  });

  test('concurrent creates of one name all succeed with one volume', async () => {
    const { root, cleanup } = tempRoot('volume-race');
    const results = await Promise.all(Array.from({ length: 5 }, () => tsdock(['volume', 'create', 'raced'], { root })));
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'raced\n');
    }
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), ['raced']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
    cleanup();
  });

  test('rm prints each removed name; missing volumes fail with exit 1 unless -f', async () => {
    const { root, cleanup } = tempRoot('volume-rm');
    await ok(['volume', 'create', 'one'], root);
    await ok(['volume', 'create', 'two'], root);
    fs.writeFileSync(path.join(root, 'volumes', 'one', '_data', 'file'), 'data');
    let r = await tsdock(['volume', 'rm', 'one', 'missing', 'two'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'one\ntwo\n');
    assert.equal(r.stderr, 'Error: No such volume: missing\n');
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), []);
    r = await tsdock(['volume', 'remove', 'one'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such volume: one\n');
    assert.equal(await ok(['volume', 'rm', '-f', 'one'], root), 'one\n');
    r = await tsdock(['volume', 'rm'], { root });
    assert.equal(r.code, 125);
    cleanup();
  });

  test('prune: anonymous unused volumes by default, all with -a, label filters, the prompt', async () => {
    const { root, cleanup } = tempRoot('volume-prune');
    const store = new VolumeStore(root);
    const anon = await store.createVolume(undefined, { anonymous: true });
    fs.writeFileSync(path.join(anon.Mountpoint, 'f'), '12345');
    const anonKept = await store.createVolume(undefined, { anonymous: true, labels: { keep: 'yes' } });
    await ok(['volume', 'create', 'named'], root);
    await ok(['volume', 'create', '--label', 'keep=yes', 'named-kept'], root);

    // anonymous volumes carry docker's label
    assert.equal(await ok(['volume', 'inspect', '--format', '{{json .Labels}}', anon.Name], root), '{"com.docker.volume.anonymous":""}\n');

    // the prompt: anything but y/Y cancels
    let out = await ok(['volume', 'prune'], root, 'n\n');
    assert.equal(out, 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    assert.equal((await store.listVolumes()).length, 4);

    out = await ok(['volume', 'prune', '--filter', 'label!=keep'], root, 'y\n');
    assert.equal(out, `WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] Deleted Volumes:\n${anon.Name}\n\nTotal reclaimed space: 5B\n`);
    assert.deepEqual((await store.listVolumes()).map((v) => v.Name).sort(), [anonKept.Name, 'named', 'named-kept'].sort());

    assert.equal(await ok(['volume', 'prune', '-f', '--filter', 'label=nothing'], root), 'Total reclaimed space: 0B\n');
    assert.equal(await ok(['volume', 'prune', '-a', '-f', '--filter', 'label=keep=yes'], root), `Deleted Volumes:\n${[anonKept.Name, 'named-kept'].sort().join('\n')}\n\nTotal reclaimed space: 0B\n`);
    out = await ok(['volume', 'prune', '-a'], root, 'Y\n');
    assert.match(out, /^WARNING! This will remove all local volumes not used by at least one container\.\n/);
    assert.match(out, /Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n$/);
    assert.deepEqual(await store.listVolumes(), []);

    const r = await tsdock(['volume', 'prune', '-f', '--filter', 'dangling=true'], { root });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error: invalid filter 'dangling'\n");
    cleanup();
  });

  test('the man pages and completion know the volume verbs', () => {
    const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
    for (const page of ['tsdock-volume.1', 'tsdock-volume-create.1', 'tsdock-volume-ls.1', 'tsdock-volume-inspect.1', 'tsdock-volume-rm.1', 'tsdock-volume-prune.1']) {
      assert.ok(fs.existsSync(path.join(repo, 'man', page)), page);
    }
    assert.match(fs.readFileSync(path.join(repo, 'completion', 'tsdock.bash'), 'utf8'), /volume\)/);
  });
});
