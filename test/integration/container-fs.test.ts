import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tempRoot, tsdock, tsdockRaw } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Names in a tar, listed by the system tar. */
async function tarList(file: string): Promise<string[]> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('container file systems: diff, export, cp, commit, top', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let host: string;
  const t = (args: string[], input?: string) => tsdock(args, { root, input });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('container-fs').root;
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-cfs-host-'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('diff lists A, C and D sorted by path; bind-mount targets are not changes', async () => {
    const r = await t(['run', '--name', 'd1', img, 'sh', '-c', 'mkdir -p /new/sub && echo x > /new/sub/f && echo y >> /etc/passwd && rm /bin/vi && rm -rf /home']);
    assert.equal(r.code, 0, r.stderr);
    const d = await t(['diff', 'd1']);
    assert.equal(d.code, 0, d.stderr);
    const lines = d.stdout.trim().split('\n');
    for (const want of ['C /bin', 'D /bin/vi', 'C /etc', 'C /etc/passwd', 'A /new', 'A /new/sub', 'A /new/sub/f']) assert.ok(lines.includes(want), `${want} in\n${d.stdout}`);
    const sorted = [...lines].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1));
    assert.deepEqual(lines, sorted);
    assert.ok(!lines.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l) && l.startsWith('A')), d.stdout);
  });

  test('export writes the merged file system (deletions applied), to stdout or -o', async () => {
    const file = path.join(host, 'd1.tar');
    const r = await t(['export', '-o', file, 'd1']);
    assert.equal(r.code, 0, r.stderr);
    const names = await tarList(file);
    assert.ok(names.includes('new/sub/f'), 'the container file is there');
    assert.ok(names.includes('bin/busybox'), 'the image files are there');
    assert.ok(!names.includes('bin/vi'), 'a deleted file is not');
    assert.ok(!names.some((n) => n.startsWith('home')), 'a deleted directory is not');
    const x = fs.mkdtempSync(path.join(host, 'x-'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-xf', file, '-C', x]);
    assert.equal(fs.readFileSync(path.join(x, 'new/sub/f'), 'utf8'), 'x\n');
    assert.match(fs.readFileSync(path.join(x, 'etc/passwd'), 'utf8'), /\ny\n$/);
    const raw = await tsdockRaw(['export', 'd1'], root);
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.length > 1024 && raw.stdout.length % 512 === 0);
  });

  test('cp both ways, also with a running container and tar streams', async () => {
    const id = (await t(['run', '-d', '--name', 'c1', img, 'sleep', '100'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(host, 'in.txt'), 'hello in\n');
    let r = await t(['cp', path.join(host, 'in.txt'), 'c1:/tmp/']);
    assert.equal(r.code, 0, r.stderr);
    const cat = await t(['exec', 'c1', 'cat', '/tmp/in.txt']);
    assert.equal(cat.stdout, 'hello in\n', cat.stderr);
    fs.mkdirSync(path.join(host, 'tree/a'), { recursive: true });
    fs.writeFileSync(path.join(host, 'tree/a/b'), 'bee');
    r = await t(['cp', path.join(host, 'tree'), 'c1:/opt']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t(['exec', 'c1', 'cat', '/opt/a/b'])).stdout, 'bee');
    r = await t(['cp', 'c1:/etc/passwd', path.join(host, 'passwd.out')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(path.join(host, 'passwd.out'), 'utf8'), /^root:/);
    r = await t(['cp', 'c1:/opt', path.join(host, 'optcopy')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(host, 'optcopy/a/b'), 'utf8'), 'bee');
    const tarOut = await tsdockRaw(['cp', 'c1:/opt', '-'], root);
    assert.equal(tarOut.code, 0, tarOut.stderr);
    fs.writeFileSync(path.join(host, 'opt.tar'), tarOut.stdout);
    assert.ok((await tarList(path.join(host, 'opt.tar'))).includes('opt/a/b'));
    const notDir = await tsdockRaw(['cp', '-', 'c1:/srv'], root, tarOut.stdout);
    assert.equal(notDir.code, 1, 'a tar stream needs an existing directory');
    const tarIn = await tsdockRaw(['cp', '-', 'c1:/tmp'], root, tarOut.stdout);
    assert.equal(tarIn.code, 0, tarIn.stderr);
    assert.equal((await t(['exec', 'c1', 'cat', '/tmp/opt/a/b'])).stdout, 'bee');
    const missing = await t(['cp', 'c1:/nope', path.join(host, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Could not find the file \/nope/);
  });

  test('cp -a keeps ids; default copies in as root', async () => {
    fs.writeFileSync(path.join(host, 'owned'), 'o');
    fs.chownSync(path.join(host, 'owned'), 1234, 4321);
    assert.equal((await t(['cp', path.join(host, 'owned'), 'c1:/tmp/plain'])).code, 0);
    assert.equal((await t(['cp', '-a', path.join(host, 'owned'), 'c1:/tmp/kept'])).code, 0);
    const ids = await t(['exec', 'c1', 'stat', '-c', '%u:%g', '/tmp/plain', '/tmp/kept']);
    assert.equal(ids.stdout, '0:0\n1234:4321\n', ids.stderr);
  });

  test('a container symlink to /etc/shadow: cp in writes the container file, cp out reads it, the host file stays', async () => {
    const before = fs.readFileSync('/etc/shadow');
    const beforeSt = fs.statSync('/etc/shadow');
    const r = await t(['run', '--name', 'evil', img, 'sh', '-c', 'echo container-shadow > /etc/shadow && ln -s /etc/shadow /evil && ln -s ../../../../../../etc/shadow /evil2 && mkdir /d && ln -s / /d/up']);
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(host, 'payload'), 'PWNED\n');
    for (const dst of ['evil:/evil', 'evil:/evil2', 'evil:/d/up/etc/shadow']) {
      const c = await t(['cp', path.join(host, 'payload'), dst]);
      assert.equal(c.code, 0, `${dst}: ${c.stderr}`);
    }
    assert.deepEqual(fs.readFileSync('/etc/shadow'), before, 'host /etc/shadow unchanged, byte for byte');
    assert.equal(fs.statSync('/etc/shadow').mtimeMs, beforeSt.mtimeMs);
    const link = await t(['cp', 'evil:/evil', path.join(host, 'shadow.link')]);
    assert.equal(link.code, 0, link.stderr);
    assert.equal(fs.readlinkSync(path.join(host, 'shadow.link')), '/etc/shadow', 'docker copies a symlink as a link');
    const out = await t(['cp', '-L', 'evil:/evil', path.join(host, 'shadow.out')]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.readFileSync(path.join(host, 'shadow.out'), 'utf8'), 'PWNED\n', 'the container /etc/shadow (written through its own symlink)');
    const upper = path.join(root, 'containers', (await t(['inspect', '--format', '{{.Id}}', 'evil'])).stdout.trim(), 'upper');
    assert.equal(fs.readFileSync(path.join(upper, 'etc/shadow'), 'utf8'), 'PWNED\n');
    assert.ok(fs.lstatSync(path.join(upper, 'evil')).isSymbolicLink(), 'the symlink itself is untouched');
    // a tar stream carrying a symlink and a file through it stays inside too
    const tarDir = fs.mkdtempSync(path.join(host, 'tarsrc-'));
    fs.symlinkSync('/etc', path.join(tarDir, 'l'));
    const { execFileSync } = await import('node:child_process');
    const tarBytes = execFileSync('tar', ['-cf', '-', '-C', tarDir, 'l']);
    const tarIn = await tsdockRaw(['cp', '-', 'evil:/tmp'], root, tarBytes);
    assert.equal(tarIn.code, 0, tarIn.stderr);
    assert.deepEqual(fs.readFileSync('/etc/shadow'), before);
    // then a tar with l -> /etc followed by l/shadow: refused, nothing written through the link
    const other = fs.mkdtempSync(path.join(host, 'tarsrc2-'));
    fs.mkdirSync(path.join(other, 'l'));
    fs.writeFileSync(path.join(other, 'l/shadow'), 'PWNED\n');
    const archive = path.join(host, 'through.tar');
    execFileSync('tar', ['-cf', archive, '-C', tarDir, 'l']);
    execFileSync('tar', ['-rf', archive, '-C', other, 'l/shadow']);
    const through = await tsdockRaw(['cp', '-', 'evil:/'], root, fs.readFileSync(archive));
    assert.equal(through.code, 1, 'writing through a symlink of the archive is refused');
    assert.match(through.stderr, /not a directory/);
    assert.deepEqual(fs.readFileSync('/etc/shadow'), before, 'host /etc/shadow unchanged, byte for byte');
  });

  test('commit makes a runnable image with the new layer, -c changes, message and author', async () => {
    const r = await t(['run', '--name', 'base', img, 'sh', '-c', 'echo committed > /created && rm /bin/vi']);
    assert.equal(r.code, 0, r.stderr);
    const c = await t(['commit', '-m', 'my message', '--author', 'Ann <a@b>', '-c', 'ENV FOO=bar', '-c', 'CMD ["cat", "/created"]', '-c', 'WORKDIR /tmp', '-c', 'LABEL a=b', '-c', 'EXPOSE 8080', 'base', 'committed:v1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const run = await t(['run', '--rm', 'committed:v1', 'cat', '/created']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'committed\n');
    const def = await t(['run', '--rm', 'committed:v1']);
    assert.equal(def.stdout, 'committed\n', def.stderr);
    const env = await t(['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $FOO $(pwd); ls /bin/vi 2>&1 || true']);
    assert.match(env.stdout, /^bar \/tmp\n/);
    assert.match(env.stdout, /No such file/);
    const insp = await t(['image', 'inspect', '--format', '{{.Author}}|{{json .Config.Labels}}|{{json .Config.ExposedPorts}}|{{len .RootFS.Layers}}', 'committed:v1']);
    assert.equal(insp.code, 0, insp.stderr);
    const [author, labels, ports, n] = insp.stdout.trim().split('|');
    assert.equal(author, 'Ann <a@b>');
    assert.equal(labels, '{"a":"b"}');
    assert.equal(ports, '{"8080/tcp":{}}');
    const baseLayers = (await t(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', img])).stdout.trim();
    assert.equal(Number(n), Number(baseLayers) + 1);
    const hist = await t(['history', '--no-trunc', '--format', '{{.Comment}}', 'committed:v1']);
    assert.equal(hist.stdout.split('\n')[0], 'my message');
    // and commit of a commit
    assert.equal((await t(['run', '--name', 'second', 'committed:v1', 'sh', '-c', 'echo two > /two'])).code, 0);
    const c2 = await t(['commit', 'second', 'committed:v2']);
    assert.equal(c2.code, 0, c2.stderr);
    assert.equal((await t(['run', '--rm', 'committed:v2', 'cat', '/created', '/two'])).stdout, 'committed\ntwo\n');
  });

  test('vfs containers: diff (best effort), cp and commit work on the private copy', async () => {
    const v = (args: string[]) => tsdock(['--storage-driver', 'vfs', ...args], { root });
    const r = await v(['run', '--name', 'vfs1', img, 'sh', '-c', 'echo v > /vfsfile && rm /bin/vi']);
    assert.equal(r.code, 0, r.stderr);
    const d = (await v(['diff', 'vfs1'])).stdout.split('\n');
    assert.ok(d.includes('A /vfsfile'), d.join('\n'));
    assert.ok(d.includes('D /bin/vi'), d.join('\n'));
    assert.equal((await v(['cp', 'vfs1:/vfsfile', path.join(host, 'vfs.out')])).code, 0);
    assert.equal(fs.readFileSync(path.join(host, 'vfs.out'), 'utf8'), 'v\n');
    const c = await v(['commit', 'vfs1', 'fromvfs']);
    assert.equal(c.code, 0, c.stderr);
    const run = await t(['run', '--rm', 'fromvfs', 'sh', '-c', 'cat /vfsfile; ls /bin/vi 2>/dev/null || echo gone']);
    assert.equal(run.stdout, 'v\ngone\n', run.stderr);
  });

  test('export refuses to write a tar to a terminal', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} --root ${root} export d1`, '/dev/null'], { encoding: 'utf8' });
    assert.match(r.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
    assert.notEqual(r.status, 0);
  });

  test('top lists the container processes with docker columns', async () => {
    const r = await t(['run', '-d', '--name', 'topper', img, 'sh', '-c', 'sleep 101 & sleep 102; true']);
    assert.equal(r.code, 0, r.stderr);
    await sleep(300);
    const top = await t(['top', 'topper']);
    assert.equal(top.code, 0, top.stderr);
    const lines = top.stdout.trim().split('\n');
    assert.deepEqual(lines[0]!.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.equal(lines.length, 4, top.stdout);
    assert.ok(lines.some((l) => l.endsWith('sleep 101')));
    assert.ok(lines.some((l) => l.endsWith('sleep 102')));
    const custom = await t(['top', 'topper', '-o', 'pid,comm']);
    assert.equal(custom.code, 0, custom.stderr);
    assert.equal(custom.stdout.trim().split('\n').length, 4);
    assert.equal((await t(['stop', '-t', '0', 'topper'])).code, 0);
    const stopped = await t(['top', 'topper']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /is not running/);
  });

  test('a container symlink naming a host path: cp writes that path inside the container, never on the host', async () => {
    const marker = path.join(host, `marker-${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(marker, 'keep');
    fs.writeFileSync(path.join(host, 'p2'), 'changed');
    assert.equal((await t(['run', '--name', 'dangling', img, 'ln', '-s', marker, '/m'])).code, 0);
    const noParent = await t(['cp', path.join(host, 'p2'), 'dangling:/m']);
    assert.equal(noParent.code, 1, "the target's directory does not exist in the container");
    assert.equal(fs.readFileSync(marker, 'utf8'), 'keep');
    assert.equal((await t(['run', '--name', 'abs', img, 'sh', '-c', `mkdir -p ${path.dirname(marker)} && ln -s ${marker} /m`])).code, 0);
    assert.equal((await t(['cp', path.join(host, 'p2'), 'abs:/m'])).code, 0);
    assert.equal(fs.readFileSync(marker, 'utf8'), 'keep');
    assert.equal((await t(['cp', '-L', 'abs:/m', path.join(host, 'm.out')])).stdout, '');
    assert.equal(fs.readFileSync(path.join(host, 'm.out'), 'utf8'), 'changed');
  });
});
