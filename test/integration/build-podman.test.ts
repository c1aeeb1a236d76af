import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { testStore, tsdock } from './helpers.js';
import { ImageStore } from '../../src/image/store/images.js';
import { layerDirs } from '../../src/image/layer-dirs.js';
import { listEntryDir, lookupImagePath, type ImageEntry } from '../../src/storage/imagefs.js';

/**
 * tsdock build against `podman build` (buildah's chroot isolation: no containers, cgroups or mounts of its own) of
 * the same Dockerfiles and base image: the config fields docker defines and the files, owner and mode included.
 * podman is one of scripts/install-deps.sh's optional packages (installed when apt can): without it this file skips.
 */
const hasPodman = spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot ? 'needs root for the harness packages' : !hasPodman ? 'podman is not installed (scripts/install-deps.sh could not install its optional podman)' : false;

/** `path type mode uid gid digest` lines of a tree, sorted; `list`/`stat`/`read` abstract the two stores. */
interface Tree {
  stat(p: string): fs.Stats | undefined;
  list(p: string): string[];
  read(p: string): Buffer;
}

function describeTree(tree: Tree, roots: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    const st = tree.stat(p);
    if (!st) return void out.push(`${p} missing`);
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file';
    const digest = type === 'file' ? crypto.createHash('sha256').update(tree.read(p)).digest('hex').slice(0, 12) : '';
    out.push(`${p} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${digest}`.trim());
    if (type === 'dir') for (const n of tree.list(p)) visit(path.posix.join(p, n));
  };
  roots.forEach(visit);
  return out.sort();
}

function hostTree(dir: string): Tree {
  return {
    stat: (p) => fs.lstatSync(path.join(dir, p), { throwIfNoEntry: false }),
    list: (p) => fs.readdirSync(path.join(dir, p)).sort(),
    read: (p) => fs.readFileSync(path.join(dir, p)),
  };
}

function imageTree(layers: string[]): Tree {
  const at = (p: string): ImageEntry | undefined => lookupImagePath(layers, p, { followFinal: false });
  return {
    stat: (p) => at(p)?.stat,
    list: (p) => [...listEntryDir(at(p)!).keys()],
    read: (p) => {
      const e = at(p)!;
      return fs.readFileSync(path.join(e.layerDir, e.relPath));
    },
  };
}

describe('build matches podman build', { skip }, () => {
  const store = testStore('build-podman');
  let pm = '';
  const podman = (args: string[], input?: string) => {
    const r = spawnSync('podman', ['--root', path.join(pm, 'root'), '--runroot', path.join(pm, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8', input, env: { ...process.env, TMPDIR: path.join(pm, 'tmp') } });
    assert.equal(r.status, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(() => {
    pm = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-podman-'));
    fs.mkdirSync(path.join(pm, 'tmp'));
  });
  after(() => {
    if (!pm) return;
    spawnSync('podman', ['--root', path.join(pm, 'root'), '--runroot', path.join(pm, 'run'), '--storage-driver', 'vfs', 'rmi', '-a', '-f'], { stdio: 'ignore' });
    fs.rmSync(pm, { recursive: true, force: true });
  });

  const both = async (dir: string, tag: string) => {
    const r = await tsdock(['build', '-q', '-t', tag, dir], { root: store.root });
    assert.equal(r.code, 0, r.stderr);
    podman(['build', '--isolation', 'chroot', '--format', 'docker', '--network', 'host', '--tls-verify=false', '-q', '-t', tag, dir]);
  };

  const compare = async (tag: string, roots: string[]) => {
    const t = JSON.parse(await store.ok(['image', 'inspect', '--format', '{{json .Config}}', tag])) as Record<string, unknown>;
    const p = JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config}}', tag])) as Record<string, unknown>;
    const pHealth = JSON.parse(podman(['image', 'inspect', '--format', '{{json .HealthCheck}}', tag])) as unknown;
    const labels = { ...(p.Labels as Record<string, string>) };
    delete labels['io.buildah.version'];
    for (const key of ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'StopSignal']) {
      assert.deepEqual(t[key] || null, p[key] || null, `Config.${key}`);
    }
    assert.deepEqual(t.Labels ?? {}, labels, 'Config.Labels');
    assert.deepEqual(t.Healthcheck ?? null, pHealth, 'Healthcheck');

    const img = await new ImageStore(store.root).resolve(tag);
    const ours = describeTree(imageTree(await layerDirs(new ImageStore(store.root), img.layers)), roots);
    const mount = podman(['image', 'mount', tag]).trim();
    try {
      assert.deepEqual(ours, describeTree(hostTree(mount), roots));
    } finally {
      podman(['image', 'unmount', tag]);
    }
  };

  test('a multi-stage Dockerfile: config and files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-podman-ctx-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const files: Record<string, string> = { 'src/a.txt': 'a\n', 'src/sub/b.txt': 'b\n', 'one.txt': '1\n', 'two.txt': '2\n', 'ign.txt': 'x\n', '.dockerignore': 'ign.txt\n' };
    files.Dockerfile = [
      `ARG BASE=${store.image}`,
      'FROM $BASE AS build',
      'ARG V=1.2',
      'ENV APP_HOME=/app VERSION=$V',
      'WORKDIR $APP_HOME',
      'COPY src/ ./src/',
      'COPY *.txt /nums/',
      'RUN echo "v=$VERSION" > /app/version && chown 1000:1000 /app/version && rm /app/src/a.txt',
      'RUN echo "hello ${VERSION}" > /etc/greeting',
      'FROM $BASE',
      'SHELL ["/bin/sh", "-ec"]',
      'LABEL maintainer=me version="1.0" desc="a b"',
      'EXPOSE 80 443/tcp 53/udp',
      'ENV PATH=/opt/bin:$PATH LANG=C.UTF-8',
      'COPY --from=build /app /srv/app',
      'COPY --from=build /nums /srv/nums',
      'COPY --from=build /etc/greeting /etc/',
      'COPY --chown=app:app --chmod=600 src/a.txt /home/app/a.txt',
      'RUN mkdir -p /srv/made && touch /srv/made/f && rm /srv/nums/two.txt',
      'WORKDIR relative',
      'USER app:app',
      'VOLUME ["/data", "/cache"]',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK --interval=30s --timeout=3s --start-period=1s --retries=4 CMD wget -q -O- localhost || exit 1',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo", "hi"]',
      '',
    ].join('\n');
    for (const [name, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), body);
    }
    await both(dir, 'cmp-multi:1');
    // not /relative: docker creates a WORKDIR that does not exist (tsdock too), buildah 1.28 leaves it to the runtime
    await compare('cmp-multi:1', ['/srv', '/home/app', '/etc/greeting', '/app']);
  });

  test('ONBUILD triggers of the base run in the child build', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-podman-ctx-'));
    process.once('exit', () => fs.rmSync(parent, { recursive: true, force: true }));
    fs.writeFileSync(path.join(parent, 'Dockerfile'), `FROM ${store.image}\nONBUILD COPY . /src/\nONBUILD RUN ls /src > /listing\nCMD ["cat", "/listing"]\n`);
    await both(parent, 'onbuild-parent:1');
    const child = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-podman-ctx-'));
    process.once('exit', () => fs.rmSync(child, { recursive: true, force: true }));
    fs.writeFileSync(path.join(child, 'Dockerfile'), 'FROM onbuild-parent:1\nENV CHILD=1\n');
    fs.writeFileSync(path.join(child, 'x.txt'), 'x\n');
    await both(child, 'onbuild-child:1');
    await compare('onbuild-child:1', ['/src', '/listing']);
    assert.equal(await store.ok(['run', '--rm', 'onbuild-child:1']), 'Dockerfile\nx.txt\n');
  });
});
