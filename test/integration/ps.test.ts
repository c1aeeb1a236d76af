import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock, type RunResult } from './helpers.js';

/** `ps --format json` keys: docker's ContainerContext fields in Go's sorted order. */
const PS_JSON_KEYS = ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status'];

describe('ps, inspect, rm, rename, logs, wait, container prune', { skip: !isRoot && 'needs root (run)' }, () => {
  let root: string;
  let img: string;
  const cli = (args: string[], input?: string): Promise<RunResult> => tsdock(args, { root, input });
  const ok = async (args: string[]): Promise<string> => {
    const r = await cli(args);
    assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const ids = async (...args: string[]) => (await ok(['ps', '-a', '-q', ...args])).trim().split('\n').filter(Boolean);
  const idOf = async (name: string) => (await ok(['inspect', '-f', '{{.Id}}', name])).trim();

  before(async () => {
    const h = await getHarness();
    root = tempRoot('ps').root;
    img = h.fixtures.busyboxV2s2.ref;
    assert.equal((await cli(['pull', '-q', img])).code, 0);
    // foreground runs without --rm leave exited containers behind; created one after another (newest last)
    let r = await cli(['run', '--name', 'first', '--label', 'tier=db', img, 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3, r.stderr);
    r = await cli(['run', '--name', 'second', img, 'echo', 'a rather long command line']);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(['run', '--name', 'third', '-v', 'psvol:/data', img, 'true']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('ps -a: docker columns, newest first, Exited (3) ... ago; ps alone shows no stopped containers', async () => {
    const out = await ok(['ps', '-a']);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s{3}IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.equal(lines.length, 4);
    assert.deepEqual(lines.slice(1).map((l) => l.trim().split(/\s+/).pop()), ['third', 'second', 'first']);
    const first = lines[3]!;
    assert.match(first, /^[0-9a-f]{12}\s{3}/);
    assert.ok(first.includes(`"sh -c 'exit 3'"`), first);
    assert.match(first, /(Less than a second|\d+ seconds?) ago\s+Exited \(3\) (Less than a second|\d+ seconds?) ago\s+first$/);
    // an argument with spaces is single-quoted; COMMAND is cut to 20 characters, the last one an ellipsis
    assert.ok(lines[2]!.includes(`"echo 'a rather long…"`), lines[2]);
    assert.equal(await ok(['ps']), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
    const idsAndNames = (text: string) => text.trimEnd().split('\n').map((l) => `${l.slice(0, 12)} ${l.split(/\s+/).pop()}`);
    assert.deepEqual(idsAndNames(await ok(['container', 'ls', '-a'])), idsAndNames(out));
  });

  test('-q, --no-trunc, -n/-l, filters', async () => {
    const all = await ids();
    assert.equal(all.length, 3);
    for (const id of all) assert.match(id, /^[0-9a-f]{12}$/);
    const full = await ids('--no-trunc');
    assert.deepEqual(full.map((id) => id.slice(0, 12)), all);
    for (const id of full) assert.match(id, /^[0-9a-f]{64}$/);
    assert.deepEqual((await ok(['ps', '-q', '-l'])).trim().split('\n'), [all[0]], '-l: the latest, whatever its state');
    assert.deepEqual((await ok(['ps', '-q', '-n', '2'])).trim().split('\n'), all.slice(0, 2));
    assert.deepEqual(await ids('--filter', 'status=exited'), all);
    assert.deepEqual((await ok(['ps', '-q', '--filter', 'status=exited'])).trim().split('\n'), all, 'status= implies -a');
    assert.deepEqual(await ids('--filter', 'status=running'), []);
    assert.deepEqual(await ids('--filter', 'exited=3'), [all[2]]);
    assert.deepEqual(await ids('--filter', 'exited=0', '--filter', 'exited=3'), all);
    assert.deepEqual(await ids('--filter', 'name=sec'), [all[1]]);
    assert.deepEqual(await ids('--filter', 'name=^/first$'), [all[2]]);
    assert.deepEqual(await ids('--filter', 'label=tier'), [all[2]]);
    assert.deepEqual(await ids('--filter', 'label=tier=web'), []);
    assert.deepEqual(await ids('--filter', `id=${all[1]}`), [all[1]]);
    assert.deepEqual(await ids('--filter', `ancestor=${img}`), all);
    assert.deepEqual(await ids('--filter', 'ancestor=no-such-image'), []);
    assert.deepEqual(await ids('--filter', 'volume=psvol'), [all[0]]);
    assert.deepEqual(await ids('--filter', 'status=exited', '--filter', 'name=first'), [all[2]]);
    assert.deepEqual(await ids('--filter', 'since=first'), all.slice(0, 2));
    assert.deepEqual(await ids('--filter', 'before=third'), all.slice(1));
    let r = await cli(['ps', '--filter', 'bogus=1']);
    assert.deepEqual([r.code, r.stderr], [1, "Error: invalid filter 'bogus'\n"]);
    r = await cli(['ps', '--filter', 'status=sleeping']);
    assert.deepEqual([r.code, r.stderr], [1, "Error: invalid filter 'status=sleeping'\n"]);
  });

  test('--format json and templates', async () => {
    const rows = (await ok(['ps', '-a', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(rows.length, 3);
    assert.deepEqual(Object.keys(rows[2]!), PS_JSON_KEYS);
    const first = rows[2]!;
    assert.equal(first.Names, 'first');
    assert.equal(first.State, 'exited');
    assert.match(first.Status!, /^Exited \(3\) /);
    assert.equal(first.Command, `"sh -c 'exit 3'"`);
    assert.equal(first.Labels, 'tier=db');
    // docker's default network: bridge rootful; rootless containers have none (no rootless networking yet)
    assert.equal(first.Networks, process.getuid?.() === 0 ? 'bridge' : 'none');
    assert.equal(rows[0]!.Mounts, 'psvol');
    assert.equal(rows[0]!.LocalVolumes, '1');
    assert.equal(await ok(['ps', '-a', '--filter', 'name=first', '--format', '{{.Names}}|{{.State}}|{{.Image}}']), `first|exited|${img}\n`);
    assert.equal(await ok(['ps', '-a', '-n', '1', '--format', 'table {{.Names}}\t{{.Status}}']).then((s) => s.split('\n')[0]), 'NAMES     STATUS');
  });

  test('inspect: container fields; containers before images; --type', async () => {
    const [obj] = JSON.parse(await ok(['inspect', 'first'])) as Array<Record<string, any>>;
    assert.equal(obj!.Name, '/first');
    assert.match(obj!.Id, /^[0-9a-f]{64}$/);
    assert.equal(obj!.State.Status, 'exited');
    assert.equal(obj!.State.ExitCode, 3);
    assert.equal(obj!.State.Running, false);
    assert.equal(obj!.Path, 'sh');
    assert.deepEqual(obj!.Args, ['-c', 'exit 3']);
    assert.match(obj!.Image, /^sha256:[0-9a-f]{64}$/);
    assert.equal(obj!.Config.Image, img);
    assert.equal(obj!.Config.Labels.tier, 'db');
    assert.equal(obj!.Platform, 'linux');
    assert.ok((process.getuid?.() === 0 ? 'bridge' : 'none') in obj!.NetworkSettings.Networks);
    assert.equal(obj!.LogPath, path.join(root, 'containers', obj!.Id, 'ctr.log'));
    assert.equal(await ok(['inspect', '-f', '{{.State.ExitCode}} {{.Name}}', obj!.Id.slice(0, 10)]), '3 /first\n');
    assert.equal(await ok(['container', 'inspect', '--format', '{{.Config.Labels.missing}}', 'first']), '<no value>\n');
    const sized = JSON.parse(await ok(['inspect', '-s', 'first'])) as Array<{ SizeRw: number; SizeRootFs: number }>;
    assert.ok(sized[0]!.SizeRootFs > 0 && sized[0]!.SizeRw >= 0);
    // an image is still found by inspect; --type keeps to one kind
    assert.match(await ok(['inspect', '-f', '{{.Id}}', img]), /^sha256:/);
    let r = await cli(['inspect', '--type', 'image', 'first']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error: No such image: first\n']);
    r = await cli(['inspect', 'first', 'nothing-here']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such object: nothing-here\n');
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 1);
    r = await cli(['container', 'inspect', 'nothing-here']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error: No such container: nothing-here\n']);
  });

  test('logs: a hand-written k8s-file log, stdout and stderr apart, -t, --tail, --since', async () => {
    const id = await idOf('second');
    const log = path.join(root, 'containers', id, 'ctr.log');
    fs.writeFileSync(
      log,
      [
        '2024-01-02T15:04:05.1Z stdout F line one',
        '2024-01-02T15:04:06.123456789Z stderr F oops',
        '2024-01-02T15:04:07Z stdout P par',
        '2024-01-02T15:04:08Z stdout F tial',
        '',
      ].join('\n'),
    );
    let r = await cli(['logs', 'second']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'line one\npartial\n', 'oops\n']);
    r = await cli(['logs', '-t', '--tail', '2', 'second']);
    assert.deepEqual([r.stdout, r.stderr], ['2024-01-02T15:04:07.000000000Z partial\n', '2024-01-02T15:04:06.123456789Z oops\n']);
    r = await cli(['logs', '--since', '2024-01-02T15:04:06Z', '--until', '2024-01-02T15:04:06.5Z', 'second']);
    assert.deepEqual([r.stdout, r.stderr], ['', 'oops\n']);
    // the container has exited: -f prints what there is and ends
    r = await cli(['container', 'logs', '-f', '-n', '1', 'second']);
    assert.deepEqual([r.code, r.stdout], [0, 'partial\n']);
    r = await cli(['logs', 'nothing-here']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error: No such container: nothing-here\n']);
    r = await cli(['logs', '--since', 'whenever', 'second']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: invalid value for "since"/);
  });

  test('wait prints exit codes in order; unknown containers fail', async () => {
    assert.equal(await ok(['wait', 'first', 'second']), '3\n0\n');
    const r = await cli(['wait', 'first', 'nothing-here']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '3\n', 'Error: No such container: nothing-here\n']);
  });

  test('rename: the new name is taken, the old one released; conflicts fail', async () => {
    assert.equal(await ok(['rename', 'second', 'renamed']), '');
    assert.equal(await ok(['ps', '-a', '--filter', 'name=renamed', '--format', '{{.Names}}']), 'renamed\n');
    assert.equal((await cli(['inspect', '--type', 'container', 'second'])).code, 1);
    let r = await cli(['rename', 'renamed', 'first']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Conflict\. The container name "\/first" is already in use by container "[0-9a-f]{64}"/);
    r = await cli(['container', 'rename', 'renamed', 'bad name']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Invalid container name \(bad name\)/);
    assert.equal(fs.existsSync(path.join(root, 'names', 'second')), false);
    assert.equal(await ok(['rename', 'renamed', 'second']), '');
  });

  test('volumes in use by a container cannot be removed; rm, rm of unknown names', async () => {
    let r = await cli(['volume', 'rm', 'psvol']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: remove psvol: volume is in use - \[[0-9a-f]{64}\]/);
    // several arguments: each is reported, exit 1 when one failed
    r = await cli(['rm', 'third', 'nothing-here']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, 'third\n', 'Error: No such container: nothing-here\n']);
    assert.equal((await ids()).length, 2);
    assert.equal(fs.existsSync(path.join(root, 'names', 'third')), false, 'the name is released');
    assert.equal(await ok(['volume', 'rm', 'psvol']), 'psvol\n');
    // the name can be used again
    r = await cli(['run', '--name', 'third', img, 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ok(['container', 'rm', 'third']), 'third\n');
  });

  test('container prune removes every stopped container', async () => {
    const before = await ids('--no-trunc');
    assert.equal(before.length, 2);
    assert.equal((await ok(['container', 'prune'])).includes('Total reclaimed space'), false, 'no confirmation: nothing pruned');
    assert.equal((await ids()).length, 2);
    const r = await cli(['container', 'prune'], 'y\n');
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.slice(r.stdout.indexOf('[y/N] ') + 6).split('\n');
    assert.equal(out[0], 'Deleted Containers:');
    assert.deepEqual(out.slice(1, 3).sort(), [...before].sort());
    assert.equal(out[3], '');
    assert.match(out[4]!, /^Total reclaimed space: \d+(\.\d+)?[kMG]?B$/);
    assert.deepEqual(await ids(), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'names')), []);
    assert.equal(await ok(['container', 'prune', '-f']), 'Total reclaimed space: 0B\n');
  });
});
