import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import { fromEngineMount, imageVolumeRequests, mergeTmpfsOptions, parseTmpfsFlag, parseVolumeFlag, requestMounts, type MountRequest } from '../../../src/ocispec/mounts.js';
import { ramInBytes } from '../../../src/ocispec/units.js';
import { mountFlag } from '../../../src/cli/opts/mount.js';
import { volumeFlags } from '../../../src/cli/opts/container.js';

/** `--mount` as the CLI reads it, then as dockerd checks it */
const parseMountFlag = (value: string, opts: { cwd?: string } = {}): MountRequest => fromEngineMount(mountFlag(value, opts.cwd ?? '/'));
/** run's mount flags as the CLI puts them in the request, then the request's mounts */
function parseMountFlags(f: { volumes?: string[]; mounts?: string[]; tmpfs?: string[] }): MountRequest[] {
  const tmpfs = Object.fromEntries((f.tmpfs ?? []).map((t) => [t.split(':')[0]!, t.split(':').slice(1).join(':')]));
  return requestMounts({ mounts: (f.mounts ?? []).map((m) => mountFlag(m, '/')), binds: f.volumes, tmpfs });
}

test('-v: bind, named volume, anonymous volume', () => {
  assert.deepEqual(parseVolumeFlag('/host/dir/:/ctr'), { type: 'bind', source: '/host/dir', target: '/ctr', readonly: false, options: [], createSource: true });
  assert.deepEqual(parseVolumeFlag('/host:/ctr/:ro'), { type: 'bind', source: '/host', target: '/ctr', readonly: true, options: [], createSource: true });
  assert.deepEqual(parseVolumeFlag('vol:/data'), { type: 'volume', source: 'vol', target: '/data', readonly: false, options: [] });
  assert.deepEqual(parseVolumeFlag('/data'), { type: 'volume', target: '/data', readonly: false, options: [] });
  assert.deepEqual(parseVolumeFlag('vol:/data:ro,nocopy'), { type: 'volume', source: 'vol', target: '/data', readonly: true, options: ['nocopy'] });
  assert.deepEqual(parseVolumeFlag('/h:/c:rw,rshared,Z'), { type: 'bind', source: '/h', target: '/c', readonly: false, options: ['rshared', 'Z'], createSource: true });
  assert.deepEqual(parseVolumeFlag('/h:/c:cached'), { type: 'bind', source: '/h', target: '/c', readonly: false, options: [], createSource: true });
});

test('-v: relative sources starting with "." are made absolute against cwd', () => {
  // the CLI makes them absolute (docker's CLI does), then the Bind is parsed as dockerd parses it
  const bind = (v: string) => parseVolumeFlag(volumeFlags([v], '/home/me/proj').binds[0]!);
  assert.equal(bind('./conf:/etc/app').source, '/home/me/proj/conf');
  assert.equal(bind('..:/up').source, '/home/me');
  assert.throws(() => parseVolumeFlag('./conf:/etc/app'), /includes invalid characters for a local volume name/);
});

test('-v: docker errors', () => {
  const cases: [string, string][] = [
    ['', "invalid volume specification: ''"],
    [':/x', "invalid volume specification: ':/x'"],
    ['/foo:rw', "invalid volume specification: '/foo:rw'"],
    ['a:b:c:d', "invalid volume specification: 'a:b:c:d'"],
    ['/h:/c:bogus', 'invalid mode: bogus'],
    ['/h:/c:ro,rw', 'invalid mode: ro,rw'],
    ['/h:relative', `invalid volume specification: '/h:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`],
    ['/h:/', `invalid volume specification: '/h:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`],
    ['data', `invalid volume specification: 'data': invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`],
    ['vol:/d:rshared', `invalid volume specification: 'vol:/d:rshared': invalid mount config for type "volume": field BindOptions must not be specified`],
    ['/h:/d:nocopy', `invalid volume specification: '/h:/d:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`],
    [
      'bad$name:/d',
      `create bad$name: "bad$name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    ],
  ];
  for (const [spec, message] of cases) assert.throws(() => parseVolumeFlag(spec), (err: unknown) => err instanceof UsageError && err.message === message, spec);
});

test('--mount: bind, volume, tmpfs', () => {
  assert.deepEqual(parseMountFlag('type=bind,source=/h,target=/c,readonly'), { type: 'bind', source: '/h', target: '/c', readonly: true, options: [] });
  assert.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c,bind-propagation=rslave,bind-nonrecursive,ro=false'), {
    type: 'bind',
    source: '/h',
    target: '/c',
    readonly: false,
    options: ['bind', 'rslave'],
  });
  assert.deepEqual(parseMountFlag('source=vol,target=/d,volume-nocopy'), { type: 'volume', source: 'vol', target: '/d', readonly: false, options: ['nocopy'] });
  assert.deepEqual(parseMountFlag('type=volume,destination=/anon'), { type: 'volume', target: '/anon', readonly: false, options: [] });
  assert.deepEqual(parseMountFlag('type=tmpfs,target=/run,tmpfs-size=64m,tmpfs-mode=1770'), { type: 'tmpfs', target: '/run', readonly: false, options: ['mode=1770', 'size=64m'] });
  assert.deepEqual(parseMountFlag('type=tmpfs,target=/run,tmpfs-size=1000'), { type: 'tmpfs', target: '/run', readonly: false, options: ['size=1000'] });
  assert.deepEqual(parseMountFlag('"type=bind","source=/a,b",target=/c'), { type: 'bind', source: '/a,b', target: '/c', readonly: false, options: [] });
  assert.equal(parseMountFlag('type=bind,source=./x,target=/c', { cwd: '/w' }).source, '/w/x');
});

test('--mount: docker errors', () => {
  const cases: [string, string][] = [
    ['type=bind,source=/h', 'target is required'],
    ['type=bind,target=/c,foo', "invalid field 'foo' must be a key=value pair"],
    ['type=bind,target=/c,colour=red', "unexpected key 'colour' in 'colour=red'"],
    ['type=bind,target=/c,readonly=maybe', 'invalid value for readonly: maybe'],
    ['type=volume,target=/c,bind-propagation=rshared', "cannot mix 'bind-*' options with mount type 'volume'"],
    ['type=bind,source=/h,target=/c,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
    ['type=bind,source=/h,target=/c,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'bind'"],
    ['type=bind,target=/c', 'invalid mount config for type "bind": field Source must not be empty'],
    ['type=bind,source=rel,target=/c', `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
    ['type=tmpfs,source=x,target=/c', 'invalid mount config for type "tmpfs": field Source must not be specified'],
    ['type=volume,target=/c,readonly', 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
    ['type=image,source=x,target=/c', 'invalid mount config for type "image": mount type unknown'],
    ['type=bind,source=/h,target=/c,bind-propagation=sideways', 'invalid mount config for type "bind": invalid propagation mode: sideways'],
    ['type=tmpfs,target=/c,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
    ['type=tmpfs,target=/c,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'],
    ['type=bind,source=/h,target=c', `invalid mount config for type "bind": invalid mount path: 'c' mount path must be absolute`],
  ];
  for (const [value, message] of cases) assert.throws(() => parseMountFlag(value), (err: unknown) => err instanceof UsageError && err.message === message, value);
});

test('--tmpfs', () => {
  assert.deepEqual(parseTmpfsFlag('/run'), { type: 'tmpfs', target: '/run', readonly: false, options: [] });
  assert.deepEqual(parseTmpfsFlag('/run:rw,noexec,nosuid,size=65536k'), { type: 'tmpfs', target: '/run', readonly: false, options: ['noexec', 'nosuid', 'size=65536k'] });
  assert.deepEqual(parseTmpfsFlag('/ro:ro,mode=700'), { type: 'tmpfs', target: '/ro', readonly: true, options: ['mode=700'] });
  assert.throws(() => parseTmpfsFlag('run'), { message: "invalid mount path: 'run' mount path must be absolute" });
  assert.throws(() => parseTmpfsFlag('/'), { message: "invalid specification: destination can't be '/'" });
  assert.throws(() => parseTmpfsFlag('/x:size'), { message: 'invalid tmpfs option "size"' });
});

test("tmpfs options merge: later wins per flag, propagation modes count as one", () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'rshared', 'size=2m', 'defaults']), ['nosuid', 'nodev', 'exec', 'rshared', 'size=2m']);
});

test('units', () => {
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('10KiB'), 10240);
  assert.equal(ramInBytes('x'), undefined);
});

test('all flags: duplicate targets refused; image volumes fill in', () => {
  const reqs = parseMountFlags({ volumes: ['/h:/a'], mounts: ['type=tmpfs,target=/b'], tmpfs: ['/c'] });
  assert.deepEqual(
    reqs.map((r) => r.target),
    ['/b', '/a', '/c'],
  );
  assert.throws(() => parseMountFlags({ volumes: ['/h:/a'], tmpfs: ['/a/'] }), { message: 'duplicate mount point: /a' });
  assert.deepEqual(imageVolumeRequests({ '/data': {}, '/a': {}, '/var/lib/x/': {}, rel: {} }, reqs), [
    { type: 'volume', target: '/data', readonly: false, options: [] },
    { type: 'volume', target: '/var/lib/x', readonly: false, options: [] },
  ]);
});
