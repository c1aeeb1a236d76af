// Test images. Layouts are authored with third-party tools (GNU tar for layer tars, umoci for OCI layouts,
// skopeo for conversion/recompression and pushing), from Debian's busybox-static binary. Built layouts are cached
// under $TSDOCK_HARNESS_CACHE (default <tmpdir>/tsdock-harness-cache/<key>), keyed by the busybox binary and
// this file, so only the first harness of a run pays for the build. Hostile and corrupt images are crafted
// per harness with the naive tar writer in ./tar.ts and pushed with pushRaw().
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
  readdirSync,
  statSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { run } from './proc.js';
import {
  corruptBlob,
  getManifest,
  hostArch,
  MT,
  patchLayoutConfig,
  pushRaw,
  readLayoutBlob,
  readLayoutImage,
  retag,
  writeLayoutIndexImage,
  type PushedImage,
} from './oci.js';
import type { RegistryInfo } from './registry.js';
import { skopeoCopy } from './skopeo.js';
import { makeTar, type TarEntry } from './tar.js';

// Bump when the fixture recipe changes in a way the source hash would not catch (e.g. tool behaviour).
const RECIPE_VERSION = 3;
const EPOCH = 1700000000;
const CREATED = '2023-11-14T22:13:20Z';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ---------------------------------------------------------------------------------------------------------
// Public types

export interface ImageFixture {
  /** `127.0.0.1:<port>/<repo>:<tag>` */
  ref: string;
  host: string;
  repo: string;
  tag: string;
  /** Digest of the top-level manifest/index exactly as the registry serves it. */
  digest: string;
  /** `127.0.0.1:<port>/<repo>@<digest>` */
  digestRef: string;
  /** Media type of the top-level manifest (Content-Type served by the registry). */
  mediaType: string;
}

export interface BusyboxExpect {
  os: 'linux';
  architecture: string;
  cmd: string[];
  env: string[];
  layerCount: number;
  layerMediaType: string;
  /** Regular files that exist. */
  files: string[];
  /** Symlinks to busybox (relative targets) that exist, e.g. /bin/sh -> busybox, /usr/bin/env -> ../../bin/busybox. */
  applets: Record<string, string>;
  users: { root: { uid: 0; gid: 0 }; app: { uid: 1000; gid: 1000; home: '/home/app' } };
  /** Directories with non-default ownership/mode. */
  dirs: Record<string, { mode: number; uid: number; gid: number }>;
  /** Layer tar entries are written as `./bin/...` (leading ./, GNU tar --format=gnu). */
  entryPrefix: './';
}

export interface LayeredExpect {
  layerCount: number;
  /** How each layer was produced (index = layer index). */
  layers: string[];
  /** mtime of every entry in the hand-made layers (1 and 2). */
  mtime: number;
  /** File present in layer 1 and deleted by `etc/.wh.removed.txt` in layer 2: must NOT exist. */
  whiteoutRemoved: string;
  /** Sibling of the whiteout that must survive (whiteouts are per-name, not per-dir). */
  whiteoutSiblingKept: string;
  /** Directory made opaque in layer 2 (`opq/.wh..wh..opq`): only opaqueKept survives. */
  opaqueDir: string;
  opaqueKept: string;
  opaqueGone: string[];
  /** Whiteout written by `umoci insert --whiteout` (layer 3). */
  umociWhiteoutRemoved: string;
  umociWhiteoutSiblingKept: string;
  /**
   * Opaque dir written by `umoci insert --opaque` (layer 4). umoci emits the `.wh..wh..opq` entry (mode 0,
   * mtime 0) BEFORE the directory's own entry. Layers 3 and 4 (umoci insert) have no end-of-archive zero blocks.
   */
  umociOpaqueDir: string;
  umociOpaqueKept: string[];
  umociOpaqueGone: string[];
  /** Two names, one inode (GNU tar emits the second as a hardlink entry). Content: hardlinkContent. */
  hardlinks: [string, string];
  hardlinkContent: string;
  symlinks: {
    relative: { path: string; target: string };
    absolute: { path: string; target: string };
    dangling: { path: string; target: string };
  };
  setuid: { path: string; mode: number };
  setgid: { path: string; mode: number };
  sticky: { path: string; mode: number };
  /** Read-only directory containing a file (extractors must chmod dirs after filling them). */
  readOnlyDir: { path: string; mode: number; child: string };
  /** >100-char paths: GNU ././@LongLink (layer 1), PAX path record (layer 2). */
  longPathGnu: string;
  longPathPax: string;
  /** >100-char path in umoci's (Go archive/tar) layer 4. */
  longPathUmoci: string;
  owned: { path: string; uid: number; gid: number; dir: string };
  /** path → exact content of regular files to check. */
  contents: Record<string, string>;
  /** path → full mode (incl. setuid/setgid/sticky bits, without the file-type bits). */
  modes: Record<string, number>;
}

export interface MultiArchPlatform {
  os: string;
  architecture: string;
  variant?: string;
  /** Digest of this platform's manifest inside the index/list. */
  digest: string;
  mediaType: string;
  /** /arch contains this text ("amd64\n" / "arm64\n"). */
  marker: { path: '/arch'; content: string };
}

export interface MultiArchFixture extends ImageFixture {
  platforms: MultiArchPlatform[];
}

export interface HostileFixture extends ImageFixture {
  kind: 'path-traversal' | 'symlink-escape' | 'hardlink-absolute' | 'hardlink-traversal';
  description: string;
  /** The tar entries of the single layer, in order (names written verbatim). */
  entries: Array<{ name: string; type: string; linkname?: string }>;
  /** Host paths that must not exist after any pull/unpack attempt. */
  mustNotExist: string[];
  /** symlink-escape: existing, empty host directory the symlink points at; must stay empty. */
  hostDir?: string;
  /** hardlink-*: host file the link names; its inode must never appear inside the store. */
  hostTarget?: string;
  layerDigest: string;
  diffId: string;
}

export interface CorruptFixture extends ImageFixture {
  /** The layer whose blob file on the registry disk was overwritten (same length, different bytes). */
  layerDigest: string;
  blobPath: string;
  /** The layer is gzip level 0 (stored blocks) so decompression only fails at the trailer CRC. */
  compression: 'gzip-stored';
}

export interface Fixtures {
  /** busybox, Docker schema2 manifest, gzip layer. Also tagged `busybox:latest`. */
  busyboxV2s2: ImageFixture & { expect: BusyboxExpect };
  /** Same content, OCI manifest (umoci's, no top-level mediaType field), gzip layer. */
  busyboxOci: ImageFixture & { expect: BusyboxExpect };
  /** Same content, OCI manifest with a zstd layer (application/vnd.oci.image.layer.v1.tar+zstd). */
  zstd: ImageFixture & { expect: BusyboxExpect };
  multiArchOci: MultiArchFixture;
  multiArchDocker: MultiArchFixture;
  layered: ImageFixture & { expect: LayeredExpect };
  hostile: {
    traversal: HostileFixture;
    symlinkEscape: HostileFixture;
    hardlinkAbsolute: HostileFixture;
    hardlinkTraversal: HostileFixture;
  };
  corrupt: CorruptFixture;
}

// ---------------------------------------------------------------------------------------------------------
// Static expectations

const LONG_GNU = `/long/gnu-${'g'.repeat(48)}/${'h'.repeat(48)}/long-file.txt`;
const LONG_PAX = `/long/pax-${'p'.repeat(120)}.txt`;
const LONG_UMOCI = `/umoci-opq/deep-${'u'.repeat(60)}/${'v'.repeat(60)}.txt`;

export const LAYERED_EXPECT: LayeredExpect = {
  layerCount: 5,
  layers: [
    'busybox base (GNU tar --format=gnu, ./-prefixed names; same blob as the busybox fixtures)',
    'GNU tar --format=gnu (././@LongLink), plus an appended uid/gid 1000 part (home/app, no parent dir entry)',
    'GNU tar --format=posix (PAX path record): etc/.wh.removed.txt, opq/.wh..wh..opq',
    'umoci insert --whiteout: umoci/.wh.gone.txt (mode 0, mtime 0), no end-of-archive blocks',
    'umoci insert --opaque: umoci-opq/.wh..wh..opq BEFORE umoci-opq/, USTAR prefix long name, no end-of-archive blocks',
  ],
  mtime: EPOCH,
  whiteoutRemoved: '/etc/removed.txt',
  whiteoutSiblingKept: '/etc/kept.txt',
  opaqueDir: '/opq',
  opaqueKept: '/opq/new.txt',
  opaqueGone: ['/opq/old.txt', '/opq/sub', '/opq/sub/deep.txt'],
  umociWhiteoutRemoved: '/umoci/gone.txt',
  umociWhiteoutSiblingKept: '/umoci/stay.txt',
  umociOpaqueDir: '/umoci-opq',
  umociOpaqueKept: ['/umoci-opq/new2.txt', '/umoci-opq/zz-empty-dir', LONG_UMOCI],
  umociOpaqueGone: ['/umoci-opq/old2.txt'],
  hardlinks: ['/data/a', '/data/b'],
  hardlinkContent: 'hardlinked content\n',
  symlinks: {
    relative: { path: '/links/rel', target: '../data/a' },
    absolute: { path: '/links/abs', target: '/data/a' },
    dangling: { path: '/links/dangling', target: '/nonexistent/target' },
  },
  setuid: { path: '/usr/local/bin/suid', mode: 0o4755 },
  setgid: { path: '/usr/local/bin/sgid', mode: 0o2755 },
  sticky: { path: '/shared', mode: 0o1777 },
  readOnlyDir: { path: '/rodir', mode: 0o555, child: '/rodir/file.txt' },
  longPathGnu: LONG_GNU,
  longPathPax: LONG_PAX,
  longPathUmoci: LONG_UMOCI,
  owned: { path: '/home/app/owned.txt', uid: 1000, gid: 1000, dir: '/home/app' },
  contents: {
    '/etc/kept.txt': 'kept\n',
    '/opq/new.txt': 'new\n',
    '/data/a': 'hardlinked content\n',
    '/data/b': 'hardlinked content\n',
    '/umoci/stay.txt': 'stay\n',
    '/umoci-opq/new2.txt': 'new2\n',
    '/usr/local/bin/suid': '#!/bin/sh\necho suid\n',
    '/rodir/file.txt': 'in a read-only dir\n',
    '/home/app/owned.txt': 'owned by app\n',
    [LONG_GNU]: 'gnu longlink\n',
    [LONG_PAX]: 'pax path\n',
    [LONG_UMOCI]: 'umoci long path\n',
  },
  modes: {
    '/data/a': 0o644,
    '/data/ro.txt': 0o444,
    '/usr/local/bin/suid': 0o4755,
    '/usr/local/bin/sgid': 0o2755,
    '/shared': 0o1777,
    '/rodir': 0o555,
    '/home/app/owned.txt': 0o640,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Building the cached OCI layouts

export interface FixtureLayouts {
  dir: string;
  /** OCI layout with tags busybox, layered, amd64, arm64, multi (index). */
  main: string;
  /** OCI layout with tag busybox recompressed to zstd by skopeo. */
  zstd: string;
  busybox: { applets: Record<string, string>; architecture: string };
}

export function findBusybox(): string {
  const candidates = [process.env.TSDOCK_BUSYBOX, '/bin/busybox', '/usr/bin/busybox'].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(c) && isStaticElf(c)) return c;
  throw new Error(
    `no statically linked busybox found (tried ${candidates.join(', ')}); install busybox-static (scripts/install-deps.sh)`,
  );
}

/** True for an ELF executable without a PT_INTERP program header (i.e. statically linked). */
function isStaticElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false; // ELF64 only
    const le = h[5] === 1;
    const phoff = Number(le ? h.readBigUInt64LE(32) : h.readBigUInt64BE(32));
    const phentsize = le ? h.readUInt16LE(54) : h.readUInt16BE(54);
    const phnum = le ? h.readUInt16LE(56) : h.readUInt16BE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const type = le ? ph.readUInt32LE(i * phentsize) : ph.readUInt32BE(i * phentsize);
      if (type === 3) return false; // PT_INTERP
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

const TAR_COMMON = ['--sort=name', `--mtime=@${EPOCH}`, '--numeric-owner', '--no-acls', '--no-xattrs', '--no-selinux'];

async function tarCreate(out: string, cwd: string, members: string[], opts: { format: 'gnu' | 'posix'; owner?: number; exclude?: string[]; append?: boolean }): Promise<void> {
  const owner = opts.owner ?? 0;
  const args = [
    opts.append ? '-rf' : '-cf',
    out,
    `--format=${opts.format}`,
    ...TAR_COMMON,
    `--owner=${owner}`,
    `--group=${owner}`,
    ...(opts.format === 'posix' ? ['--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'] : []),
    ...(opts.exclude ?? []).map((e) => `--exclude=${e}`),
    '-C',
    cwd,
    ...members,
  ];
  await run('tar', args);
}

function write(file: string, content: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

async function buildBusyboxRootfs(root: string, busybox: string): Promise<Record<string, string>> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'home/app', 'proc', 'sys', 'dev', 'var', 'run']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  copyFileSync(busybox, path.join(root, 'bin/busybox'));
  chmodSync(path.join(root, 'bin/busybox'), 0o755);
  const { stdout } = await run(busybox, ['--list-full']);
  const applets: Record<string, string> = {};
  for (const rel of stdout.split('\n').map((l) => l.trim())) {
    if (!rel.includes('/') || rel === 'bin/busybox') continue;
    const dir = path.dirname(rel);
    const target = path.relative(path.join('/', dir), '/bin/busybox');
    mkdirSync(path.join(root, dir), { recursive: true });
    symlinkSync(target, path.join(root, rel));
    applets['/' + rel] = target;
  }
  write(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  write(path.join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n');
  write(path.join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n', 0o640);
  write(path.join(root, 'etc/hostname'), 'busybox\n');
  chmodSync(path.join(root, 'tmp'), 0o1777);
  chmodSync(path.join(root, 'root'), 0o700);
  chmodSync(path.join(root, 'home/app'), 0o755);
  return applets;
}

async function buildLayeredTars(work: string): Promise<{ l1: string; l2: string; umociOpaqueSrc: string }> {
  const r1 = path.join(work, 'layered-1');
  write(path.join(r1, 'etc/removed.txt'), 'deleted by a whiteout in layer 2\n');
  write(path.join(r1, 'etc/kept.txt'), 'kept\n');
  write(path.join(r1, 'opq/old.txt'), 'old\n');
  write(path.join(r1, 'opq/sub/deep.txt'), 'deep\n');
  write(path.join(r1, 'data/a'), 'hardlinked content\n');
  linkSync(path.join(r1, 'data/a'), path.join(r1, 'data/b'));
  write(path.join(r1, 'data/ro.txt'), 'read only\n', 0o444);
  mkdirSync(path.join(r1, 'links'), { recursive: true });
  symlinkSync('../data/a', path.join(r1, 'links/rel'));
  symlinkSync('/data/a', path.join(r1, 'links/abs'));
  symlinkSync('/nonexistent/target', path.join(r1, 'links/dangling'));
  write(path.join(r1, 'usr/local/bin/suid'), '#!/bin/sh\necho suid\n', 0o4755);
  write(path.join(r1, 'usr/local/bin/sgid'), '#!/bin/sh\necho sgid\n', 0o2755);
  mkdirSync(path.join(r1, 'shared'));
  chmodSync(path.join(r1, 'shared'), 0o1777);
  write(path.join(r1, 'rodir/file.txt'), 'in a read-only dir\n');
  chmodSync(path.join(r1, 'rodir'), 0o555);
  write(path.join(r1, LONG_GNU.slice(1)), 'gnu longlink\n');
  write(path.join(r1, 'umoci/gone.txt'), 'gone\n');
  write(path.join(r1, 'umoci/stay.txt'), 'stay\n');
  write(path.join(r1, 'umoci-opq/old2.txt'), 'old2\n');
  write(path.join(r1, 'home/app/owned.txt'), 'owned by app\n', 0o640);
  const l1 = path.join(work, 'layered-1.tar');
  await tarCreate(l1, r1, ['.'], { format: 'gnu', exclude: ['./home'] });
  // uid/gid 1000 part, appended to the same archive with a different owner.
  await tarCreate(l1, r1, ['home/app'], { format: 'gnu', owner: 1000, append: true });
  chmodSync(path.join(r1, 'rodir'), 0o755); // so non-root can clean the staging dir up

  const r2 = path.join(work, 'layered-2');
  write(path.join(r2, 'etc/.wh.removed.txt'), '');
  write(path.join(r2, 'opq/.wh..wh..opq'), '');
  write(path.join(r2, 'opq/new.txt'), 'new\n');
  write(path.join(r2, LONG_PAX.slice(1)), 'pax path\n');
  const l2 = path.join(work, 'layered-2.tar');
  await tarCreate(l2, r2, ['etc', 'long', 'opq'], { format: 'posix' });

  const umociOpaqueSrc = path.join(work, 'umoci-opq-src');
  write(path.join(umociOpaqueSrc, 'new2.txt'), 'new2\n');
  write(path.join(umociOpaqueSrc, LONG_UMOCI.slice('/umoci-opq/'.length)), 'umoci long path\n');
  // umoci 0.4.7's insert never closes its tar writer: no end-of-archive blocks and, if the last entry is a
  // non-empty file, no padding after its data (Go's archive/tar, hence docker, then fails). Ending the walk
  // with an empty directory keeps the stream block-aligned, which Go (and docker) accept.
  mkdirSync(path.join(umociOpaqueSrc, 'zz-empty-dir'), { recursive: true });
  return { l1, l2, umociOpaqueSrc };
}

async function umoci(args: string[]): Promise<void> {
  await run('umoci', ['--log', 'error', ...args]);
}

async function buildLayouts(dir: string, busybox: string): Promise<FixtureLayouts> {
  const work = path.join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const main = path.join(dir, 'oci');
  const zstd = path.join(dir, 'oci-zstd');
  const arch = hostArch();
  const hist = ['--history.created', CREATED];

  // busybox
  const rootfs = path.join(work, 'busybox-rootfs');
  const applets = await buildBusyboxRootfs(rootfs, busybox);
  const bbTar = path.join(work, 'busybox.tar');
  await tarCreate(bbTar, rootfs, ['.'], { format: 'gnu', exclude: ['./home/app'] });
  await tarCreate(bbTar, rootfs, ['./home/app'], { format: 'gnu', owner: 1000, append: true });
  await umoci(['init', '--layout', main]);
  await umoci(['new', '--image', `${main}:busybox`]);
  await umoci(['raw', 'add-layer', '--image', `${main}:busybox`, ...hist, '--history.created_by', 'busybox-static rootfs (GNU tar)', bbTar]);
  await umoci([
    'config', '--image', `${main}:busybox`, '--config.cmd', 'sh', '--config.env', PATH_ENV,
    '--architecture', arch, '--os', 'linux', '--created', CREATED, ...hist, '--history.created_by', 'CMD ["sh"]',
  ]);

  // layered
  const { l1, l2, umociOpaqueSrc } = await buildLayeredTars(work);
  await umoci(['raw', 'add-layer', '--image', `${main}:busybox`, '--tag', 'layered', ...hist, '--history.created_by', 'layer 1: GNU tar --format=gnu', l1]);
  await umoci(['raw', 'add-layer', '--image', `${main}:layered`, ...hist, '--history.created_by', 'layer 2: GNU tar --format=posix (whiteout, opaque)', l2]);
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  await umoci(['insert', ...rootless, '--image', `${main}:layered`, ...hist, '--history.created_by', 'umoci insert --whiteout', '--whiteout', '/umoci/gone.txt']);
  await umoci(['insert', ...rootless, '--image', `${main}:layered`, ...hist, '--history.created_by', 'umoci insert --opaque', '--opaque', umociOpaqueSrc, '/umoci-opq']);

  // multi-arch: busybox base layer + one marker layer each
  for (const a of ['amd64', 'arm64'] as const) {
    const mdir = path.join(work, `marker-${a}`);
    write(path.join(mdir, 'arch'), `${a}\n`);
    const mtar = path.join(work, `marker-${a}.tar`);
    await tarCreate(mtar, mdir, ['arch'], { format: 'gnu' });
    await umoci(['raw', 'add-layer', '--image', `${main}:busybox`, '--tag', a, ...hist, '--history.created_by', `marker ${a}`, mtar]);
    await umoci(['config', '--image', `${main}:${a}`, '--architecture', a, '--os', 'linux', '--no-history']);
  }
  // Guard against umoci's truncated-tar bug (see buildLayeredTars): every layer must be block-aligned.
  for (const l of readLayoutImage(main, 'layered').manifest.layers) {
    const size = zlib.gunzipSync(readLayoutBlob(main, l.digest)).length;
    if (size % 512 !== 0) throw new Error(`layer ${l.digest} of layered is truncated (${size} bytes)`);
  }
  patchLayoutConfig(main, 'arm64', (c) => {
    c.variant = 'v8';
  });
  writeLayoutIndexImage(main, 'multi', [
    { tag: 'amd64', platform: { architecture: 'amd64', os: 'linux' } },
    { tag: 'arm64', platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ]);
  await umoci(['gc', '--layout', main]);

  // zstd: skopeo 1.9 only recompresses when the destination asks for compression (oci: does, docker:// just
  // reuses the gzip blob), so recompress into a second layout and push that with --preserve-digests.
  await skopeoCopy(`oci:${main}:busybox`, `oci:${zstd}:busybox`, { compressFormat: 'zstd' });
  const z = readLayoutImage(zstd, 'busybox');
  if (z.manifest.layers[0]?.mediaType !== MT.ociLayerZstd) {
    throw new Error(`skopeo did not produce a zstd layer: ${JSON.stringify(z.manifest.layers)}`);
  }
  rmrf(work);
  return { dir, main, zstd, busybox: { applets, architecture: arch } };
}

/** rm -rf that also copes with read-only directories when not root. */
function rmrf(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    const walk = (d: string): void => {
      try {
        chmodSync(d, 0o755);
        for (const n of readdirSync(d, { withFileTypes: true })) if (n.isDirectory()) walk(path.join(d, n.name));
      } catch {
        /* ignore */
      }
    };
    walk(p);
    rmSync(p, { recursive: true, force: true });
  }
}

/** Drop half-built dirs of dead processes and cache entries unused for a day. */
function pruneCache(cacheRoot: string): void {
  for (const n of readdirSync(cacheRoot)) {
    const p = path.join(cacheRoot, n);
    try {
      const m = /^\.build-(\d+)-/.exec(n);
      if (m) {
        try {
          process.kill(Number(m[1]), 0);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmrf(p);
        }
      } else if (Date.now() - statSync(p).mtimeMs > 24 * 3600_000) {
        rmrf(p);
      }
    } catch {
      /* racing with another process: ignore */
    }
  }
}

let layoutsPromise: Promise<FixtureLayouts> | undefined;

/** Build (or reuse from the cache) the OCI layouts. Safe to call concurrently from several processes. */
export function buildFixtureLayouts(): Promise<FixtureLayouts> {
  layoutsPromise ??= (async () => {
    const busybox = findBusybox();
    const key = createHash('sha256')
      .update(`recipe ${RECIPE_VERSION}\n`)
      .update(readFileSync(busybox))
      .update(readFileSync(fileURLToPath(import.meta.url)))
      .update(`uid ${process.getuid?.()}\n`)
      .digest('hex')
      .slice(0, 20);
    const cacheRoot = process.env.TSDOCK_HARNESS_CACHE ?? path.join(os.tmpdir(), 'tsdock-harness-cache');
    const final = path.join(cacheRoot, key);
    const metaPath = path.join(final, 'layouts.json');
    if (existsSync(metaPath)) {
      try {
        const now = new Date();
        utimesSync(final, now, now); // mark as recently used for pruneCache()
      } catch {
        /* read-only cache is fine */
      }
      return JSON.parse(readFileSync(metaPath, 'utf8')) as FixtureLayouts;
    }
    mkdirSync(cacheRoot, { recursive: true });
    pruneCache(cacheRoot);
    const tmp = path.join(cacheRoot, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const built = await buildLayouts(tmp, busybox);
      const meta: FixtureLayouts = {
        ...built,
        dir: final,
        main: path.join(final, path.basename(built.main)),
        zstd: path.join(final, path.basename(built.zstd)),
      };
      writeFileSync(path.join(tmp, 'layouts.json'), JSON.stringify(meta));
      try {
        renameSync(tmp, final);
      } catch (e) {
        // Another process won the race; use its (identical) result.
        if (!existsSync(metaPath)) throw e;
      }
      return meta;
    } finally {
      rmrf(tmp);
    }
  })();
  layoutsPromise.catch(() => {
    layoutsPromise = undefined;
  });
  return layoutsPromise;
}

// ---------------------------------------------------------------------------------------------------------
// Pushing

async function describe(host: string, repo: string, tag: string): Promise<ImageFixture> {
  const m = await getManifest(host, repo, tag);
  return {
    ref: `${host}/${repo}:${tag}`,
    host,
    repo,
    tag,
    digest: m.digest,
    digestRef: `${host}/${repo}@${m.digest}`,
    mediaType: m.mediaType,
  };
}

async function multiArch(host: string, repo: string, tag: string): Promise<MultiArchFixture> {
  const base = await describe(host, repo, tag);
  const m = await getManifest(host, repo, tag);
  const list = m.json.manifests as Array<{ mediaType: string; digest: string; platform: { os: string; architecture: string; variant?: string } }>;
  return {
    ...base,
    platforms: list.map((e) => ({
      os: e.platform.os,
      architecture: e.platform.architecture,
      ...(e.platform.variant ? { variant: e.platform.variant } : {}),
      digest: e.digest,
      mediaType: e.mediaType,
      marker: { path: '/arch' as const, content: `${e.platform.architecture}\n` },
    })),
  };
}

function fromPushed(p: PushedImage): ImageFixture {
  return { ref: p.ref, host: p.host, repo: p.repo, tag: p.tag, digest: p.digest, digestRef: `${p.host}/${p.repo}@${p.digest}`, mediaType: p.mediaType };
}

function busyboxExpect(layouts: FixtureLayouts, layerMediaType: string): BusyboxExpect {
  return {
    os: 'linux',
    architecture: layouts.busybox.architecture,
    cmd: ['sh'],
    env: [PATH_ENV],
    layerCount: 1,
    layerMediaType,
    files: ['/bin/busybox', '/etc/passwd', '/etc/group', '/etc/shadow', '/etc/hostname'],
    applets: layouts.busybox.applets,
    users: { root: { uid: 0, gid: 0 }, app: { uid: 1000, gid: 1000, home: '/home/app' } },
    dirs: {
      '/tmp': { mode: 0o1777, uid: 0, gid: 0 },
      '/root': { mode: 0o700, uid: 0, gid: 0 },
      '/home/app': { mode: 0o755, uid: 1000, gid: 1000 },
    },
    entryPrefix: './',
  };
}

/** Hostile single-layer images; `hostDirRoot` is where the symlink-escape target directory is created. */
async function pushHostile(host: string, hostDirRoot: string): Promise<Fixtures['hostile']> {
  const rand = randomBytes(6).toString('hex');
  const up = '../'.repeat(16); // deep enough to climb out of any store path to /
  const benign: TarEntry = { name: 'hello.txt', data: 'benign file before the hostile entry\n' };

  const mk = async (
    repo: string,
    kind: HostileFixture['kind'],
    description: string,
    entries: TarEntry[],
    extra: Partial<HostileFixture> & { mustNotExist: string[] },
  ): Promise<HostileFixture> => {
    const pushed = await pushRaw(host, repo, 'latest', { layers: [makeTar(entries)] });
    return {
      ...fromPushed(pushed),
      kind,
      description,
      entries: entries.map((e) => ({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) })),
      layerDigest: pushed.layerDigests[0]!,
      diffId: pushed.diffIds[0]!,
      ...extra,
    };
  };

  const escapeName = `tsdock-escape-${rand}`;
  const hostDir = path.join(hostDirRoot, `tsdock-evil-${rand}`);
  mkdirSync(hostDir, { recursive: true });

  const [traversal, symlinkEscape, hardlinkAbsolute, hardlinkTraversal] = await Promise.all([
    mk(
      'hostile/traversal',
      'path-traversal',
      `regular file entry named ${up}tmp/${escapeName}`,
      [benign, { name: `${up}tmp/${escapeName}`, data: 'escaped!\n' }],
      { mustNotExist: [`/tmp/${escapeName}`] },
    ),
    mk(
      'hostile/symlink-escape',
      'symlink-escape',
      `symlink evil -> ${hostDir} (an existing empty host dir), then a file evil/pwned`,
      [benign, { name: 'evil', type: 'symlink', linkname: hostDir }, { name: 'evil/pwned', data: 'pwned\n' }],
      { mustNotExist: [path.join(hostDir, 'pwned')], hostDir },
    ),
    mk(
      'hostile/hardlink-absolute',
      'hardlink-absolute',
      'hardlink shadowlink -> /etc/shadow (absolute link target)',
      [benign, { name: 'shadowlink', type: 'hardlink', linkname: '/etc/shadow' }],
      { mustNotExist: [], hostTarget: '/etc/shadow' },
    ),
    mk(
      'hostile/hardlink-traversal',
      'hardlink-traversal',
      `hardlink shadowlink -> ${up}etc/shadow`,
      [benign, { name: 'shadowlink', type: 'hardlink', linkname: `${up}etc/shadow` }],
      { mustNotExist: [], hostTarget: '/etc/shadow' },
    ),
  ]);
  return { traversal, symlinkEscape, hardlinkAbsolute, hardlinkTraversal };
}

async function pushCorrupt(registry: RegistryInfo): Promise<CorruptFixture> {
  // Own random content, so no other fixture shares this blob.
  const payload = randomBytes(64 * 1024);
  const tar = makeTar([
    { name: 'corrupt/', type: 'dir' },
    { name: 'corrupt/payload.bin', data: payload },
  ]);
  const pushed = await pushRaw(registry.host, 'corrupt', 'latest', { layers: [tar], compression: 'gzip-stored' });
  const layerDigest = pushed.layerDigests[0]!;
  const blobPath = corruptBlob(registry, layerDigest);
  return { ...fromPushed(pushed), layerDigest, blobPath, compression: 'gzip-stored' };
}

/** Push every fixture to `plain` (an unauthenticated http registry). */
export async function pushFixtures(plain: RegistryInfo, workDir: string, layouts?: FixtureLayouts): Promise<Fixtures> {
  const L = layouts ?? (await buildFixtureLayouts());
  const h = plain.host;
  const oci = (tag: string): string => `oci:${L.main}:${tag}`;
  // Pushes into one repository run one after another: distribution 2.8 answers "manifest blob unknown" when
  // two pushes upload the same blobs into the same repository at once (seen here, intermittently).
  const busybox = (async () => {
    await skopeoCopy(oci('busybox'), `${h}/busybox:v2s2`, { format: 'v2s2' });
    await retag(h, 'busybox', 'v2s2', 'latest');
    const v2s2 = await describe(h, 'busybox', 'v2s2');
    await skopeoCopy(oci('busybox'), `${h}/busybox:oci`, { format: 'oci', preserveDigests: true });
    const ociBb = await describe(h, 'busybox', 'oci');
    await skopeoCopy(`oci:${L.zstd}:busybox`, `${h}/busybox:zstd`, { format: 'oci', preserveDigests: true });
    return [v2s2, ociBb, await describe(h, 'busybox', 'zstd')] as const;
  })();
  const multiarch = (async () => {
    await skopeoCopy(oci('multi'), `${h}/multiarch:oci`, { all: true, preserveDigests: true });
    const mOci = await multiArch(h, 'multiarch', 'oci');
    await skopeoCopy(oci('multi'), `${h}/multiarch:docker`, { all: true, format: 'v2s2' });
    return [mOci, await multiArch(h, 'multiarch', 'docker')] as const;
  })();
  const [[v2s2, ociBb, zstd], [mOci, mDocker], layered, hostile, corrupt] = await Promise.all([
    busybox,
    multiarch,
    skopeoCopy(oci('layered'), `${h}/layered:latest`, { format: 'v2s2' }).then(() => describe(h, 'layered', 'latest')),
    pushHostile(h, workDir),
    pushCorrupt(plain),
  ]);
  if (mDocker.mediaType !== MT.dockerList) throw new Error(`multiarch:docker is ${mDocker.mediaType}, expected a Docker manifest list`);
  return {
    busyboxV2s2: { ...v2s2, expect: busyboxExpect(L, MT.dockerLayerGzip) },
    busyboxOci: { ...ociBb, expect: busyboxExpect(L, MT.ociLayerGzip) },
    zstd: { ...zstd, expect: busyboxExpect(L, MT.ociLayerZstd) },
    multiArchOci: mOci,
    multiArchDocker: mDocker,
    layered: { ...layered, expect: LAYERED_EXPECT },
    hostile,
    corrupt,
  };
}

/** Push the busybox image (Docker schema2) to an authenticated registry. */
export async function pushBusyboxTo(
  host: string,
  repo: string,
  tag: string,
  auth: { creds: string; certDir?: string },
  layouts?: FixtureLayouts,
): Promise<ImageFixture> {
  const L = layouts ?? (await buildFixtureLayouts());
  const digest = await skopeoCopy(`oci:${L.main}:busybox`, `${host}/${repo}:${tag}`, {
    format: 'v2s2',
    dest: { creds: auth.creds, certDir: auth.certDir, tlsVerify: auth.certDir ? true : false },
  });
  return { ref: `${host}/${repo}:${tag}`, host, repo, tag, digest, digestRef: `${host}/${repo}@${digest}`, mediaType: MT.dockerManifest };
}

