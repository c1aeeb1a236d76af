import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { asUserArgv, collect, endRootless, rootlessDirs, tempRoot, testUser, tsdock } from './helpers.js';

/** go-units' decimal sizes back to bytes ("3.993MB" → 3993000) */
function bytesOf(human: string): number {
  const m = /^([\d.]+)(B|kB|MB|GB|TB)$/.exec(human);
  assert.ok(m, `not a size: ${human}`);
  return Number(m[1]) * 1000 ** ['B', 'kB', 'MB', 'GB', 'TB'].indexOf(m[2]!);
}

/** `du -sbx` of every entry directly in `dir` (what df counts: each object, not the directory holding them) */
function duEntries(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  const names = fs.readdirSync(dir);
  if (!names.length) return 0;
  const out = execFileSync('du', ['-sbx', ...names.map((n) => path.join(dir, n))], { encoding: 'utf8' });
  return out.trim().split('\n').reduce((n, line) => n + Number(line.split('\t')[0]), 0);
}

function context(dockerfile: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-system-ctx-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

describe('system df, prune, reset; builder prune', { skip: !isRoot && 'needs root (run, bridge networks)' }, () => {
  let image = '';
  let root = '';
  let cleanup = () => {};
  const t = (args: string[], input?: string) => tsdock(args, { root, input });
  const ok = async (args: string[], input?: string) => {
    const r = await t(args, input);
    assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const lines = async (args: string[]) => (await ok(args)).trim().split('\n').filter(Boolean).sort();
  const inventory = async () => ({
    containers: await lines(['ps', '-aq', '--no-trunc']),
    images: await lines(['images', '-aq', '--no-trunc']),
    volumes: await lines(['volume', 'ls', '-q']),
    networks: await lines(['network', 'ls', '--format', '{{.Name}}']),
  });

  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, cleanup } = tempRoot('system'));
    await ok(['pull', '-q', image]);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
    await t(['network', 'prune', '-f']);
    cleanup();
  });

  test('system df: TYPE TOTAL ACTIVE SIZE RECLAIMABLE, sizes within 1% of du of the store', async () => {
    await ok(['volume', 'create', 'sysdf-vol']);
    await ok(['run', '-d', '--name', 'sysdf-run', '-v', 'sysdf-vol:/data', image, 'sleep', '1000']);
    await ok(['run', '--name', 'sysdf-stopped', '-v', '/anon', image, 'sh', '-c', 'head -c 300000 /dev/zero > /big; head -c 200000 /dev/zero > /anon/f']);
    // a build whose tag is gone: its RUN layer is held by the build cache only
    await ok(['build', '-q', '-t', 'sysdf-built', context(`FROM ${image}\nRUN head -c 150000 /dev/zero > /cached\n`)]);
    await ok(['rmi', 'sysdf-built']);

    const table = await ok(['system', 'df']);
    assert.match(table, /^TYPE {12}TOTAL {5}ACTIVE {4}SIZE {6}RECLAIMABLE\nImages {10}1 {9}1 {9}\S+ +\S+ \(\d+%\)\nContainers {6}2 {9}1 {9}\S+ +\S+ \(\d+%\)\nLocal Volumes {3}2 {9}2 {9}\S+ +\S+ \(\d+%\)\nBuild Cache {5}\d+ {9}0 {9}\S+ +\S+\n$/);
    const rows = new Map((await ok(['system', 'df', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).map((r) => [r.Type!, r]));
    const within = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= want * 0.01, `${what}: df ${got} vs du ${want}`);
    const layersAndBlobs = duEntries(path.join(root, 'layers', 'sha256')) + duEntries(path.join(root, 'blobs', 'sha256'));
    within(bytesOf(rows.get('Images')!.Size!) + bytesOf(rows.get('Build Cache')!.Size!), layersAndBlobs, 'images + build cache');
    assert.ok(bytesOf(rows.get('Build Cache')!.Size!) >= 150000, 'the cache-only RUN layer');
    within(bytesOf(rows.get('Containers')!.Size!), duEntries(path.join(root, 'containers')), 'containers');
    within(bytesOf(rows.get('Local Volumes')!.Size!), duEntries(path.join(root, 'volumes')), 'volumes');
    // the stopped container's 300 kB are reclaimable, the running one's not
    assert.ok(bytesOf(rows.get('Containers')!.Reclaimable!.split(' ')[0]!) >= 300000);
    assert.equal(rows.get('Images')!.Reclaimable, '0B (0%)', 'the one image is in use');

    const verbose = await ok(['system', 'df', '-v']);
    assert.match(verbose, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
    assert.match(verbose, /\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n/);
    assert.match(verbose, /\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/);
    assert.match(verbose, /sysdf-vol +1 +\S+\n/);
    assert.match(verbose, /\nBuild cache usage: \S+\n\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n/);
    const json = JSON.parse(await ok(['system', 'df', '-v', '--format', 'json'])) as Record<string, Array<Record<string, string>>>;
    assert.deepEqual(Object.keys(json), ['Images', 'Containers', 'Volumes', 'BuildCache']);
    assert.equal(json.Images![0]!.Containers, '2');
    assert.equal((await ok(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}'])).split('\n')[1], 'Containers=2');
    // system info is info: its container counts
    assert.equal(await ok(['system', 'info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}']), '2 1 0 1\n');
    assert.match(await ok(['system', 'info']), /^Server:\n Containers: 2\n {2}Running: 1\n {2}Paused: 0\n {2}Stopped: 1\n/);
    await ok(['rm', '-f', 'sysdf-run', 'sysdf-stopped']);
    await ok(['volume', 'prune', '-a', '-f']);
  });

  test('system prune: the prompt (n keeps everything, y removes), and what any container uses is kept', async () => {
    const net = `sysnet${process.pid}`;
    await ok(['network', 'create', net]);
    await ok(['network', 'create', `${net}-unused`]);
    await ok(['volume', 'create', 'sysp-used']);
    await ok(['volume', 'create', 'sysp-unused']);
    await ok(['build', '-q', '-t', 'sysp-other', context(`FROM ${image}\nRUN echo other > /other\n`)]);
    await ok(['run', '-d', '--name', 'sysp-run', '--label', 'keep=1', '--network', net, image, 'sleep', '1000']);
    await ok(['create', '--name', 'sysp-stopped', '--label', 'keep=1', '--network', net, '-v', 'sysp-used:/data', image, 'true']);
    await ok(['run', '--name', 'sysp-gone', '-v', '/anon', image, 'true']);
    const start = await inventory();

    const no = await t(['system', 'prune', '-a', '--volumes', '--filter', 'label!=keep'], 'n\n');
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stdout, /^WARNING! This will remove:\n {2}- all stopped containers\n[^]*\n {2}Items to be pruned will be filtered with:\n {2}- label!=keep\n\nAre you sure you want to continue\? \[y\/N\] $/);
    assert.deepEqual(await inventory(), start, 'answered n: nothing removed');

    const yes = await ok(['system', 'prune', '-a', '--volumes', '--filter', 'label!=keep'], 'y\n');
    assert.match(yes, /Deleted Containers:\n[0-9a-f]{64}\n\n/);
    assert.match(yes, new RegExp(`Deleted Networks:\n${net}-unused\n\n`));
    assert.match(yes, /Deleted Volumes:\n[^]*sysp-unused\n/);
    assert.match(yes, /Deleted Images:\nuntagged: sysp-other:latest\n/);
    assert.match(yes, /Total reclaimed space: \S+\n$/);
    const end = await inventory();
    assert.deepEqual(end.containers.length, 2, 'the running and the stopped (labelled keep) container stay');
    assert.deepEqual(end.volumes, ['sysp-used'], "the stopped container's volume stays, the unused named and anonymous ones go");
    assert.deepEqual(end.networks, ['bridge', net].sort(), 'the network both use stays');
    assert.deepEqual(end.images, [(await ok(['inspect', '--format', '{{.Id}}', image])).trim()], 'their image stays, the other one goes');
    // nothing unused is left: a second prune finds nothing
    assert.equal(await ok(['system', 'prune', '-a', '--volumes', '-f', '--filter', 'label!=keep']), 'Total reclaimed space: 0B\n');
    await ok(['start', '-a', 'sysp-stopped']);

    // without the filter the stopped container goes, and what only it used with it
    await ok(['system', 'prune', '-a', '--volumes', '-f']);
    assert.deepEqual((await inventory()).containers.length, 1);
    assert.deepEqual((await inventory()).volumes, []);
    assert.deepEqual((await inventory()).images.length, 1, 'the running container keeps its image');
    await ok(['rm', '-f', 'sysp-run']);
    await ok(['network', 'rm', net]);
  });

  test('--filter on the prune verbs: until= and label= as docker, errors for unknown keys', async () => {
    await ok(['network', 'create', '--label', 'drop=1', 'sysf-drop']);
    await ok(['network', 'create', 'sysf-keep']);
    assert.equal(await ok(['network', 'prune', '-f', '--filter', 'until=1h']), '', 'both made just now: not before until=1h');
    assert.equal(await ok(['network', 'prune', '-f', '--filter', 'label=drop']), 'Deleted Networks:\nsysf-drop\n');
    await ok(['network', 'rm', 'sysf-keep']);
    await ok(['create', '--name', 'sysf-c', '--label', 'x=1', image, 'true']);
    assert.equal(await ok(['container', 'prune', '-f', '--filter', 'label=x=2']), 'Total reclaimed space: 0B\n');
    assert.match(await ok(['container', 'prune', '-f', '--filter', 'label=x=1']), /^Deleted Containers:\n[0-9a-f]{64}\n\n/);
    assert.match(await ok(['image', 'prune', '-a', '-f', '--filter', 'until=1s']), /Total reclaimed space/);
    let r = await t(['image', 'prune', '-f', '--filter', 'name=x']);
    assert.deepEqual([r.code, r.stderr], [1, "Error: invalid filter 'name'\n"]);
    r = await t(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error: the "until" filter is not supported with "--volumes"\n']);
    // pull it back for the tests below (image prune -a removed the unused image)
    await ok(['pull', '-q', image]);
  });

  test('builder prune drops the build cache: the next build prints no "Using cache"', async () => {
    const ctx = context(`FROM ${image}\nRUN echo one > /one\nENV A=1\nRUN echo two > /two\n`);
    await ok(['build', '-t', 'sysb', ctx]);
    assert.match(await ok(['build', '-t', 'sysb', ctx]), /Using cache/);
    // the tagged image holds every cached layer: no entry is dangling, prune without -a keeps them all (only an
    // intermediate no entry names may go)
    const cacheCount = async () => (await ok(['system', 'df', '--format', '{{.Type}} {{.TotalCount}}'])).split('\n')[3];
    const entries = await cacheCount();
    assert.notEqual(entries, 'Build Cache 0');
    await ok(['builder', 'prune', '-f']);
    assert.equal(await cacheCount(), entries);
    assert.match(await ok(['build', '-t', 'sysb', ctx]), /Using cache/);
    const no = await ok(['builder', 'prune', '-a'], 'n\n');
    assert.match(no, /^WARNING! This will remove all build cache\.\nAre you sure you want to continue\? \[y\/N\] $/);
    assert.match(await ok(['build', '-t', 'sysb', ctx]), /Using cache/);
    assert.match(await ok(['builder', 'prune', '-a', '-f']), /^Deleted build cache objects:\n(sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: \S+\n$/);
    assert.equal(await cacheCount(), 'Build Cache 0');
    assert.doesNotMatch(await ok(['build', '-t', 'sysb', ctx]), /Using cache/);
    // rmi of the tag leaves the cache's layers dangling: builder prune (no -a) collects them
    await ok(['rmi', 'sysb']);
    const before = await cacheCount();
    await ok(['builder', 'prune', '-f', '--keep-storage', '1GB']);
    assert.equal(await cacheCount(), before, 'the cache weighs less than --keep-storage: nothing goes');
    const pruned = await ok(['builder', 'prune', '-f']);
    assert.match(pruned, /Deleted build cache objects:/);
    assert.notEqual(pruned.match(/Total reclaimed space: (\S+)/)?.[1], '0B');
  });

  test('system reset -f: an empty store, and nothing left on the host (veths, leases, nft rules, cgroups, bridges)', async () => {
    const net = `sysr${process.pid}`;
    await ok(['network', 'create', '--subnet', '10.231.77.0/24', net]);
    const onNet = (await ok(['run', '-d', '--network', net, image, 'sleep', '1000'])).trim();
    const onDefault = (await ok(['run', '-d', image, 'sleep', '1000'])).trim();
    await ok(['create', '-v', 'sysr-vol:/data', image, 'true']);
    await ok(['build', '-q', '-t', 'sysr-built', context(`FROM ${image}\nRUN echo r > /r\n`)]);
    const bridge = (await ok(['network', 'inspect', '--format', '{{index .Options "com.docker.network.bridge.name"}}', net])).trim();
    const leases = ['/run/tsdock/net/leases'].find((d) => fs.existsSync(path.join(d, `${onNet}.json`)));
    assert.ok(leases, 'the running container has a lease');
    const hostIfs = [onNet, onDefault].flatMap((id) => (JSON.parse(fs.readFileSync(path.join(leases, `${id}.json`), 'utf8')) as { endpoints: Array<{ hostIf: string }> }).endpoints.map((e) => e.hostIf));
    const cgroups = (id: string) => fs.readdirSync('/sys/fs/cgroup').flatMap((h) => [path.join('/sys/fs/cgroup', h, 'tsdock', id)]).filter((p) => fs.existsSync(p));
    assert.ok(cgroups(onNet).length > 0, 'the running container has a cgroup');

    const no = await t(['system', 'reset'], 'n\n');
    assert.equal(no.code, 0);
    assert.match(no.stdout, /^WARNING! this will remove all containers, images, volumes, networks and build cache\n/);
    assert.equal((await inventory()).containers.length, 3, 'answered n: nothing removed');

    await ok(['system', 'reset', '-f']);
    assert.deepEqual(fs.readdirSync(root), [], 'an empty store');
    for (const id of [onNet, onDefault]) {
      assert.equal(fs.existsSync(path.join(leases, `${id}.json`)), false, `lease of ${id}`);
      assert.deepEqual(cgroups(id), [], `cgroups of ${id}`);
    }
    for (const i of [...hostIfs, bridge]) assert.equal(fs.existsSync(`/sys/class/net/${i}`), false, `host interface ${i}`);
    assert.doesNotMatch(execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }), /10\.231\.77\./, 'no nft rule for the removed network');
    // the store works again afterwards
    await ok(['pull', '-q', image]);
    assert.equal((await inventory()).images.length, 1);
  });
});

const user = testUser();

describe('system df, prune, reset rootless', { skip: user.skip }, () => {
  let image = '';
  let root = '';
  let runtime = '';
  const asUser = (args: string[]) => collect(asUserArgv(user.name, runtime, root, args));
  const ok = async (args: string[]) => {
    const r = await asUser(args);
    assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, runtime } = rootlessDirs('system-rootless', user));
    await ok(['pull', '-q', image]);
  });
  after(() => endRootless(asUser, runtime));

  test('df agrees with du, prune keeps what a running and a stopped container use, reset empties the store', async () => {
    await ok(['volume', 'create', 'rl-vol']);
    await ok(['volume', 'create', 'rl-unused']);
    await ok(['create', '--name', 'rl-stopped', '--label', 'keep=1', '-v', 'rl-vol:/data', image, 'true']);
    await ok(['run', '-d', '--name', 'rl-run', '--label', 'keep=1', image, 'sleep', '1000']);
    await ok(['run', '--name', 'rl-gone', image, 'sh', '-c', 'head -c 100000 /dev/zero > /f']);
    const rows = new Map((await ok(['system', 'df', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).map((r) => [r.Type!, r]));
    assert.deepEqual([rows.get('Containers')!.TotalCount, rows.get('Containers')!.Active], ['3', '1']);
    const within = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= want * 0.01, `${what}: df ${got} vs du ${want}`);
    within(bytesOf(rows.get('Containers')!.Size!), duEntries(path.join(root, 'containers')), 'containers');
    within(bytesOf(rows.get('Images')!.Size!), duEntries(path.join(root, 'layers', 'sha256')) + duEntries(path.join(root, 'blobs', 'sha256')), 'images');

    const pruned = await ok(['system', 'prune', '-a', '--volumes', '-f', '--filter', 'label!=keep']);
    assert.match(pruned, /Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Volumes:\nrl-unused\n\n/);
    assert.equal((await ok(['ps', '-aq'])).trim().split('\n').length, 2);
    assert.equal(await ok(['volume', 'ls', '-q']), 'rl-vol\n');
    assert.equal((await ok(['images', '-q'])).trim().split('\n').length, 1);

    await ok(['system', 'reset', '-f']);
    assert.deepEqual(fs.readdirSync(root), []);
    assert.equal(fs.statSync(root).uid, user.uid, 'the root stays the user\'s');
    await ok(['pull', '-q', image]);
  });
});
