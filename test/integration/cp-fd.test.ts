import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, listTree, tempRoot, tsdock, tsdockRaw } from './helpers.js';
import { copyFromContainer, copyToContainer } from '../../src/api/cp.js';
import { exportContainer } from '../../src/api/export.js';
import { containerDiff } from '../../src/api/diff.js';
import type { Context } from '../../src/context.js';
import { TarReader } from '../../src/storage/tarreader.js';
import { ByteSource } from '../../src/storage/bytesource.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Every entry of a tar: name → body (files) or '' */
async function readTar(bytes: Buffer): Promise<Map<string, string>> {
  const src = new PassThrough();
  src.end(bytes);
  const reader = new TarReader(new ByteSource(src));
  const out = new Map<string, string>();
  for (;;) {
    const e = await reader.next();
    if (!e) return out;
    let body = '';
    if (e.type === 'file') for await (const c of reader.body()) body += Buffer.from(c).toString('latin1');
    out.set(e.path.replace(/\/$/, ''), e.type === 'symlink' ? `-> ${e.linkpath}` : body);
  }
}

/** mounts of the container (in our namespace, or held by an executor process in its own): what cp must not leave behind */
function leftovers(id: string): string[] {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
  const holders = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'tsdock-exec' && fs.readFileSync(`/proc/${p}/mountinfo`, 'utf8').includes(id);
      } catch {
        return false;
      }
    });
  return [...mounts, ...holders.map((p) => `tsdock-exec ${p} holds the container's mounts`)];
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('cp sees what the container sees and never follows a path it can swap', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let host: string;
  const t = (args: string[], input?: string) => tsdock(args, { root, input });
  const ok = async (args: string[]) => {
    const r = await t(args);
    assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const idOf = async (name: string) => (await ok(['inspect', '--format', '{{.Id}}', name])).trim();

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('cp-fd').root;
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-cpfd-host-'));
    await ok(['pull', '-q', img]);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', '-v', ...ids]);
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('cp into a directory the overlay has already looked up (exec -w /tmp) is seen inside', async () => {
    await ok(['run', '-d', '--name', 'cached', img, 'sleep', '100']);
    await ok(['exec', '-w', '/tmp', 'cached', 'ls']);
    fs.writeFileSync(path.join(host, 'f'), 'fresh\n');
    await ok(['cp', path.join(host, 'f'), 'cached:/tmp/f']);
    assert.equal(await ok(['exec', 'cached', 'cat', '/tmp/f']), 'fresh\n');
    await ok(['exec', 'cached', 'sh', '-c', 'echo inside > /tmp/made']);
    await ok(['cp', 'cached:/tmp/made', path.join(host, 'made')]);
    assert.equal(fs.readFileSync(path.join(host, 'made'), 'utf8'), 'inside\n');
  });

  test('cp into and out of a volume, a bind mount and a tmpfs of a running container', async () => {
    const bind = fs.mkdtempSync(path.join(host, 'bind-'));
    await ok(['run', '-d', '--name', 'mounts', '-v', 'cpvol:/vol', '-v', `${bind}:/bind`, '--tmpfs', '/tm', img, 'sleep', '100']);
    fs.writeFileSync(path.join(host, 'in'), 'payload\n');
    for (const dir of ['/vol', '/bind', '/tm']) {
      await ok(['cp', path.join(host, 'in'), `mounts:${dir}/in`]);
      assert.equal(await ok(['exec', 'mounts', 'cat', `${dir}/in`]), 'payload\n', dir);
      await ok(['exec', 'mounts', 'sh', '-c', `echo from${dir} > ${dir}/out`]);
      const dest = path.join(host, `out-${path.basename(dir)}`);
      await ok(['cp', `mounts:${dir}/out`, dest]);
      assert.equal(fs.readFileSync(dest, 'utf8'), `from${dir}\n`);
    }
    assert.equal(fs.readFileSync(path.join(bind, 'in'), 'utf8'), 'payload\n', 'the bind source on the host got the file');
    // the whole root as the container sees it: its volumes' contents, but not the contents of its /proc and /sys
    const all = await tsdockRaw(['cp', 'mounts:/', '-'], root);
    assert.equal(all.code, 0, all.stderr);
    const names = await readTar(all.stdout);
    assert.equal(names.get('vol/in'), 'payload\n');
    assert.ok(names.has('proc') && names.has('sys') && names.has('bin/busybox'));
    assert.ok(![...names.keys()].some((n) => n.startsWith('proc/') || n.startsWith('sys/')), 'no /proc or /sys contents');
    const vol = path.join(root, 'volumes', 'cpvol', '_data', 'in');
    assert.equal(fs.readFileSync(vol, 'utf8'), 'payload\n', 'the volume got it');
    // tar streams through the volume too
    const tarOut = await tsdockRaw(['cp', 'mounts:/vol', '-'], root);
    assert.equal(tarOut.code, 0, tarOut.stderr);
    const entries = await readTar(tarOut.stdout);
    assert.equal(entries.get('vol/in'), 'payload\n');
    const tarIn = await tsdockRaw(['cp', '-', 'mounts:/bind'], root, tarOut.stdout);
    assert.equal(tarIn.code, 0, tarIn.stderr);
    assert.equal(fs.readFileSync(path.join(bind, 'vol/out'), 'utf8'), 'from/vol\n');
  });

  test('cp into and out of the volume and bind mount of a stopped container, nothing left mounted', async () => {
    const bind = fs.mkdtempSync(path.join(host, 'sbind-'));
    await ok(['run', '--name', 'stopped', '-v', 'svol:/vol', '-v', `${bind}:/bind`, img, 'sh', '-c', 'echo v > /vol/made; echo b > /bind/made']);
    const id = await idOf('stopped');
    fs.writeFileSync(path.join(host, 'sin'), 'to-stopped\n');
    for (const dir of ['/vol', '/bind']) {
      await ok(['cp', path.join(host, 'sin'), `stopped:${dir}/sin`]);
      const dest = path.join(host, `sout-${path.basename(dir)}`);
      await ok(['cp', `stopped:${dir}/made`, dest]);
      assert.equal(fs.readFileSync(dest, 'utf8'), dir === '/vol' ? 'v\n' : 'b\n');
    }
    assert.equal(fs.readFileSync(path.join(bind, 'sin'), 'utf8'), 'to-stopped\n');
    assert.equal(fs.readFileSync(path.join(root, 'volumes', 'svol', '_data', 'sin'), 'utf8'), 'to-stopped\n');
    assert.ok(!fs.existsSync(path.join(root, 'containers', id, 'upper', 'vol', 'sin')), 'not written under the mount point');
    assert.deepEqual(leftovers(id), []);
    // a created (never started) container: its rootfs and volumes are mounted for the copy too
    const created = (await ok(['create', '--name', 'fresh', '-v', 'svol:/vol', '--tmpfs', '/tmp', img, 'cat', '/vol/sin', '/etc/copied'])).trim();
    await ok(['cp', path.join(host, 'sin'), 'fresh:/etc/copied']);
    // a --tmpfs is not mounted for the copy (docker's rule): the file goes to the rootfs under it, not lost
    await ok(['cp', path.join(host, 'sin'), 'fresh:/tmp/x']);
    await ok(['cp', 'fresh:/tmp/x', path.join(host, 'tm-x')]);
    assert.equal(fs.readFileSync(path.join(host, 'tm-x'), 'utf8'), 'to-stopped\n');
    assert.deepEqual(leftovers(created), []);
    const started = await t(['start', '-a', 'fresh']);
    assert.equal(started.stdout, 'to-stopped\nto-stopped\n', started.stderr);
  });

  test('a cp of a stopped container that is interrupted or killed leaves no holder and no mount behind', async () => {
    const id = await idOf('stopped');
    for (const sig of ['SIGINT', 'SIGKILL'] as const) {
      // a tar stream that never ends: the copy waits with the container's mounts held
      const child = spawn(process.execPath, [bin, '--root', root, 'cp', '-', 'stopped:/tmp'], { stdio: ['pipe', 'ignore', 'pipe'] });
      child.stdin.on('error', () => {});
      const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      assert.ok(await until(() => leftovers(id).length > 0, 10_000), 'the holder came up');
      child.kill(sig);
      const code = await closed;
      assert.notEqual(code, 0, `${sig}: the copy did not succeed`);
      assert.ok(await until(() => leftovers(id).length === 0, 5000), `${sig}: ${leftovers(id).join(', ')}`);
      child.stdin.destroy();
    }
    // the container still starts (its upper/work dirs are free again)
    assert.equal((await t(['start', '-a', 'stopped'])).code, 0);
  });

  test('a symlink is copied as a link (out and in); -L copies its target', async () => {
    await ok(['run', '--name', 'links', img, 'sh', '-c', 'echo target > /t && ln -s /t /l && ln -s /etc/shadow /evil && mkdir /w && ln -s / /w/up && ln -s /loop /loop']);
    const loop = await t(['cp', 'links:/loop/x', path.join(host, 'loop')]);
    assert.equal(loop.code, 1);
    assert.match(loop.stderr, /\/loop\/x in container links: too many levels of symbolic links/);
    await ok(['cp', 'links:/w/up/t', path.join(host, 'through-up')]);
    assert.equal(fs.readFileSync(path.join(host, 'through-up'), 'utf8'), 'target\n', 'a directory symlink on the way is followed inside the container');
    await ok(['cp', 'links:/l', path.join(host, 'l')]);
    assert.ok(fs.lstatSync(path.join(host, 'l')).isSymbolicLink());
    assert.equal(fs.readlinkSync(path.join(host, 'l')), '/t');
    await ok(['cp', 'links:/evil', path.join(host, 'evil')]);
    assert.equal(fs.readlinkSync(path.join(host, 'evil')), '/etc/shadow', 'the link, not the host file');
    await ok(['cp', '-L', 'links:/l', path.join(host, 'lfollowed')]);
    assert.equal(fs.readFileSync(path.join(host, 'lfollowed'), 'utf8'), 'target\n');
    const tarOut = await tsdockRaw(['cp', 'links:/l', '-'], root);
    assert.equal((await readTar(tarOut.stdout)).get('l'), '-> /t');
    fs.symlinkSync('/etc/passwd', path.join(host, 'hl'));
    await ok(['cp', path.join(host, 'hl'), 'links:/hl']);
    await ok(['cp', 'links:/hl', path.join(host, 'hl.back')]);
    assert.equal(fs.readlinkSync(path.join(host, 'hl.back')), '/etc/passwd');
    const diff = await ok(['diff', 'links']);
    assert.match(diff, /^A \/hl$/m);
  });

  test('race: a container swaps a directory for a symlink to / while 1000 copies go in and out', { timeout: 120_000 }, async (t0) => {
    const can = `tsdock-canary-${crypto.randomBytes(4).toString('hex')}`;
    const hostCan = path.join('/tmp', can);
    fs.mkdirSync(path.join(hostCan, 'dir'), { recursive: true });
    t0.after(() => fs.rmSync(hostCan, { recursive: true, force: true }));
    fs.writeFileSync(path.join(hostCan, 'secret'), 'HOST-SECRET\n');
    fs.writeFileSync(path.join(hostCan, 'target'), 'HOST-TARGET\n');
    fs.writeFileSync(path.join(hostCan, 'dir', 'hostonly'), 'HOST-SECRET\n');
    // the host canary has the names the container's directory has: a walk that strays reads or writes them
    fs.mkdirSync(path.join(hostCan, 'dir', 'payload-dir'));
    for (let i = 1; i <= 60; i++) fs.writeFileSync(path.join(hostCan, 'dir', `f${i}`), 'HOST-SECRET\n');
    const canaryBefore = listTree(hostCan).sort();
    const rootBefore = fs.readdirSync('/').sort();
    const cwdBefore = fs.readdirSync(process.cwd()).sort();
    const setup = `mkdir -p /w/d/tmp/${can}/dir /tmp/${can}/dir && echo in-d > /w/d/tmp/${can}/secret && echo in-root > /tmp/${can}/secret && for i in $(seq 60); do echo in-d > /w/d/tmp/${can}/dir/f$i; done && cd /w`;
    await ok(['run', '-d', '--name', 'racer', img, 'sh', '-c', `${setup} && while :; do mv d d.tmp; ln -s / d; rm d; mv d.tmp d; done`]);
    await sleep(200);
    const ctx: Context = { root, runRoot: path.join(root, 'run'), rootful: true, cwd: host, env: process.env, stdout: process.stdout, stderr: process.stderr };
    const payload = path.join(host, 'payload');
    fs.writeFileSync(payload, 'PAYLOAD\n');
    const payloadDir = path.join(host, 'payload-dir');
    fs.mkdirSync(payloadDir, { recursive: true });
    for (let i = 1; i <= 60; i++) fs.writeFileSync(path.join(payloadDir, `new${i}`), 'PAYLOAD\n');
    const outDir = fs.mkdtempSync(path.join(host, 'race-out-'));
    let okIn = 0;
    let okOut = 0;
    const seen: string[] = [];
    const errors = new Map<string, number>();
    // blocks of reads, then writes (a read never disturbs the container's loop; a stalled loop hits one block only)
    const reads = Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? 2 : 3 + (i % 2)));
    const writes = Array.from({ length: 80 }, (_, i) => i % 2);
    const order = Array.from({ length: 5 }, () => [...reads, ...writes]).flat();
    for (const [i, kind] of order.entries()) {
      const base = `/w/d/tmp/${can}`;
      try {
        switch (kind) {
          case 0:
            await copyToContainer({ container: 'racer', src: payload, dstPath: `${base}/target` }, ctx);
            okIn++;
            break;
          case 1:
            await copyToContainer({ container: 'racer', src: payloadDir, dstPath: `${base}/dir/` }, ctx);
            okIn++;
            break;
          case 2: {
            const dest = path.join(outDir, `secret-${i}`);
            await copyFromContainer({ container: 'racer', srcPath: `${base}/secret`, dest }, ctx);
            seen.push(fs.readFileSync(dest, 'utf8'));
            fs.rmSync(dest);
            okOut++;
            break;
          }
          case 3: {
            const dest = path.join(outDir, `dir-${i}`);
            await copyFromContainer({ container: 'racer', srcPath: `${base}/dir`, dest }, ctx);
            for (const f of listTree(dest)) seen.push(`${f}=${fs.statSync(path.join(dest, f)).isFile() ? fs.readFileSync(path.join(dest, f), 'utf8') : ''}`);
            fs.rmSync(dest, { recursive: true });
            okOut++;
            break;
          }
          default: {
            const chunks: Buffer[] = [];
            const out = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
            await copyFromContainer({ container: 'racer', srcPath: `${base}/dir`, dest: '-', out }, ctx);
            for (const [name, body] of await readTar(Buffer.concat(chunks))) seen.push(`${name}=${body}`);
            okOut++;
          }
        }
      } catch (err) {
        // a copy may fail while the directory is away (ENOENT); it must never reach the host
        const key = `${kind}: ${String(err).slice(0, 80)}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
        assert.match(String(err), /Could not find|no such file|ENOENT|not a directory|ENOTDIR/i, String(err));
      }
    }
    for (let i = 0; i < 6; i++) {
      const r = i % 2 === 0 ? await t(['cp', payload, `racer:/w/d/tmp/${can}/target`]) : await t(['cp', `racer:/w/d/tmp/${can}/secret`, path.join(outDir, `cli-${i}`)]);
      if (r.code !== 0) assert.match(r.stderr, /Could not find|no such file|not a directory/i);
    }
    await ok(['rm', '-f', 'racer']);
    assert.ok(okIn >= 10 && okOut >= 20, `enough copies succeeded (${okIn} in, ${okOut} out; ${JSON.stringify([...errors])})`);
    assert.deepEqual(listTree(hostCan).sort(), canaryBefore, 'nothing appeared in the host canary directory');
    assert.equal(fs.readFileSync(path.join(hostCan, 'target'), 'utf8'), 'HOST-TARGET\n', 'the host target is untouched');
    assert.equal(fs.readFileSync(path.join(hostCan, 'secret'), 'utf8'), 'HOST-SECRET\n');
    assert.deepEqual(fs.readdirSync('/').sort(), rootBefore, 'no new files in /');
    assert.deepEqual(fs.readdirSync(process.cwd()).sort(), cwdBefore, 'no new files in the cwd');
    const leaked = [...seen, ...listTree(outDir).map((f) => fs.readFileSync(path.join(outDir, f), 'utf8').toString())].filter((s) => /HOST-SECRET|hostonly/.test(s));
    assert.deepEqual(leaked, [], 'no copy read a host file');
  });

  test('race: export and diff of a container swapping a directory for a symlink to / read only the container', { timeout: 120_000 }, async (t0) => {
    const can = `tsdock-canary-${crypto.randomBytes(4).toString('hex')}`;
    const hostCan = path.join('/tmp', can);
    fs.mkdirSync(hostCan, { recursive: true });
    t0.after(() => fs.rmSync(hostCan, { recursive: true, force: true }));
    fs.writeFileSync(path.join(hostCan, 'hostonly'), 'HOST-SECRET\n');
    for (let i = 1; i <= 60; i++) fs.writeFileSync(path.join(hostCan, `f${i}`), 'HOST-SECRET\n');
    await ok(['run', '-d', '--name', 'exporter', img, 'sh', '-c', `mkdir -p /w/d/tmp/${can} && for i in $(seq 60); do echo in-d > /w/d/tmp/${can}/f$i; done && cd /w && while :; do mv d d.tmp; ln -s / d; rm d; mv d.tmp d; done`]);
    await sleep(200);
    const ctx: Context = { root, runRoot: path.join(root, 'run'), rootful: true, cwd: host, env: process.env, stdout: process.stdout, stderr: process.stderr };
    const leaks: string[] = [];
    for (let i = 0; i < 15; i++) {
      const chunks: Buffer[] = [];
      const out = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
      await exportContainer({ container: 'exporter', out }, ctx);
      for (const [name, body] of await readTar(Buffer.concat(chunks))) if (name.startsWith('w/') && (/hostonly|^w\/d(\.tmp)?\/(proc|sys|root|home)\b/.test(name) || body.includes('HOST-SECRET'))) leaks.push(name);
    }
    for (let i = 0; i < 100; i++) {
      for (const c of await containerDiff('exporter', ctx)) if (/hostonly|^\/w\/d(\.tmp)?\/(proc|sys|root|home|usr)\b/.test(c.path)) leaks.push(c.path);
    }
    const commit = await t(['commit', 'exporter', 'racecommit']);
    assert.equal(commit.code, 0, commit.stderr);
    const layerTar = execFileSync('sh', ['-c', `${process.execPath} ${bin} --root ${root} run --rm racecommit sh -c 'ls -R /w 2>/dev/null'`]).toString();
    if (/hostonly/.test(layerTar)) leaks.push('commit: hostonly');
    await ok(['rm', '-f', 'exporter']);
    assert.deepEqual(leaks, [], 'nothing from the host');
  });
});
