import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import { buildSpec, containerHostname, parseSysctls } from '../../../src/ocispec/build.js';
import { capabilityMask, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS } from '../../../src/ocispec/defaults.js';
import { RLIM_INFINITY } from '../../../src/ocispec/types.js';
import { assertGolden } from './golden.js';
import { SCENARIOS, specInput } from './fixtures.js';

for (const [name, { input }] of Object.entries(SCENARIOS)) {
  test(`spec golden: ${name}`, () => {
    assertGolden(`spec/${name}`, buildSpec(input));
  });
}

test('default: docker capabilities, namespaces, env, user', () => {
  const { spec, warnings, seccomp } = buildSpec(specInput());
  const p = spec.process!;
  assert.deepEqual(p.args, ['sh']);
  assert.deepEqual(p.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=3f4e5d6c7b8a', 'HOME=/root']);
  assert.deepEqual(p.capabilities!.effective, [...DEFAULT_CAPABILITIES]);
  assert.equal(capabilityMask(p.capabilities!.effective!), 0x00000000a80425fbn);
  assert.equal(p.capabilities!.inheritable, undefined);
  assert.deepEqual(p.user, { uid: 0, gid: 0, umask: 0o022, additionalGids: [0, 10] });
  assert.equal(p.cwd, '/');
  assert.equal(p.terminal, false);
  assert.equal(p.noNewPrivileges, false);
  assert.equal(spec.hostname, '3f4e5d6c7b8a');
  assert.deepEqual(
    spec.linux!.namespaces!.map((n) => n.type),
    ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup'],
  );
  assert.deepEqual(spec.linux!.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.deepEqual(p.rlimits, [
    { type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 },
    { type: 'RLIMIT_NPROC', hard: 63704, soft: 63704 },
  ]);
  assert.equal(seccomp, 'default');
  assert.deepEqual(warnings, []);
});

test('rlimits: 1048576 when the hard limit is higher or unknown; --ulimit replaces, -1 is unlimited', () => {
  const r = buildSpec(specInput({ ulimits: ['nofile=1024:4096', 'core=-1'] }, { hardNofile: 2000000, hardNproc: undefined })).spec.process!.rlimits;
  assert.deepEqual(r, [
    { type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 },
    { type: 'RLIMIT_NPROC', hard: 1048576, soft: 1048576 },
    { type: 'RLIMIT_CORE', hard: RLIM_INFINITY, soft: RLIM_INFINITY },
  ]);
  assert.throws(() => buildSpec(specInput({ ulimits: ['nofile=30000'] })), {
    message: '--ulimit nofile=30000: hard limit 30000 is above the current hard limit 20000 (raising it needs CAP_SYS_RESOURCE)',
  });
});

test('--read-only: root.readonly, generated files ro, user mounts and /dev untouched, no tmpfs added', () => {
  const { spec } = buildSpec(SCENARIOS['readonly-mounts']!.input);
  assert.equal(spec.root!.readonly, true);
  const byDest = new Map(spec.mounts!.map((m) => [m.destination, m]));
  assert.ok(byDest.get('/etc/hosts')!.options!.includes('ro'));
  assert.ok(!byDest.get('/data')!.options!.includes('ro'));
  assert.ok(!byDest.get('/dev')!.options!.includes('ro'));
  assert.deepEqual(byDest.get('/tmp')!.options, ['noexec', 'nosuid', 'nodev', 'rprivate']);
  assert.deepEqual(byDest.get('/ctr')!.options, ['rbind', 'ro', 'nodev', 'rprivate']);
  assert.deepEqual(byDest.get('/data')!.options, ['rbind', 'nodev']);
  assert.equal(spec.mounts!.filter((m) => m.destination === '/run').length, 0);
});

test('binds and volumes nodev: rootful, not --privileged, not at or below /dev', () => {
  const mounts = [
    { type: 'bind' as const, source: '/host', target: '/ctr', readonly: false, options: [] },
    { type: 'volume' as const, source: '/var/lib/tsdock/volumes/v/_data', volumeName: 'v', target: '/data', readonly: false, options: [] },
    { type: 'bind' as const, source: '/dev/fuse', target: '/dev/fuse', readonly: false, options: [], sourceType: 'file' as const },
  ];
  const opts = (spec: ReturnType<typeof buildSpec>['spec'], dest: string) => spec.mounts!.find((m) => m.destination === dest)!.options!;
  const rootful = buildSpec(specInput({ mounts })).spec;
  assert.ok(opts(rootful, '/ctr').includes('nodev'));
  assert.ok(opts(rootful, '/data').includes('nodev'));
  assert.ok(!opts(rootful, '/dev/fuse').includes('nodev'));
  for (const spec of [buildSpec(specInput({ mounts, privileged: true })).spec, buildSpec(specInput({ mounts }, { rootless: true })).spec]) {
    for (const d of ['/ctr', '/data']) assert.ok(!opts(spec, d).includes('nodev'), d);
  }
});

test('user mounts override standard ones and are sorted parents first', () => {
  const { spec } = buildSpec(
    specInput({
      mounts: [
        { type: 'bind', source: '/h/x', target: '/etc/app/conf', readonly: false, options: [] },
        { type: 'bind', source: '/h/hosts', target: '/etc/hosts', readonly: false, options: [], sourceType: 'file' },
        { type: 'bind', source: '/h/etc', target: '/etc', readonly: false, options: [] },
        { type: 'tmpfs', target: '/dev/shm', readonly: false, options: ['size=1g'] },
      ],
    }),
  );
  assert.deepEqual(
    spec.mounts!.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/dev/mqueue', '/etc', '/etc/hosts', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/app/conf'],
  );
  const hosts = spec.mounts!.find((m) => m.destination === '/etc/hosts')!;
  assert.equal(hosts.source, '/h/hosts');
  assert.equal(hosts['tsdock.sourceType'], 'file');
  assert.deepEqual(spec.mounts!.find((m) => m.destination === '/dev/shm')!.options, ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1g']);
});

test('--privileged: all caps, /sys rw, nothing masked, seccomp unconfined, a warning about devices', () => {
  const { spec, seccomp, warnings } = buildSpec(SCENARIOS.privileged!.input);
  assert.equal(spec.process!.capabilities!.bounding!.length, 41);
  assert.deepEqual(spec.linux!.maskedPaths, []);
  assert.deepEqual(spec.linux!.readonlyPaths, []);
  assert.ok(!spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.equal(seccomp, 'unconfined');
  assert.match(warnings.join('\n'), /host devices/);
  // the kernel's last capability bounds "all"
  assert.equal(buildSpec(specInput({ privileged: true }, { lastCap: 37 })).spec.process!.capabilities!.bounding!.length, 38);
});

test('--network host: no network namespace, the host hostname and files, no net sysctls', () => {
  const { spec, etc } = buildSpec(SCENARIOS['network-host']!.input);
  assert.ok(!spec.linux!.namespaces!.some((n) => n.type === 'network'));
  assert.equal(spec.hostname, 'buildhost');
  assert.deepEqual(spec.linux!.sysctl, {});
  assert.equal(etc.resolvConf, 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.com\n');
  assert.equal(etc.hosts, '127.0.0.1\tlocalhost\n10.0.0.5\tbuildhost\n');
  assert.throws(() => buildSpec(specInput({ network: 'host', sysctls: ['net.ipv4.ip_forward=1'] })), { message: 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace' });
});

test('rootless: devpts without gid=5, its own /dev/mqueue, no ping_group_range', () => {
  const { spec } = buildSpec(SCENARIOS.rootless!.input);
  const pts = spec.mounts!.find((m) => m.destination === '/dev/pts')!;
  assert.ok(!pts.options!.some((o) => o.startsWith('gid=')));
  assert.equal(spec.mounts!.find((m) => m.destination === '/dev/mqueue')!.type, 'mqueue');
  assert.equal(spec.mounts!.find((m) => m.destination === '/sys')!.type, 'sysfs');
  assert.deepEqual(spec.linux!.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0' });
  assert.ok(!spec.linux!.namespaces!.some((n) => n.type === 'user'));
  // no new netns: sysfs cannot be mounted, the host's /sys is bound read-only
  const host = buildSpec(specInput({ network: 'host' }, { rootless: true })).spec;
  assert.deepEqual(host.mounts!.find((m) => m.destination === '/sys'), { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
});

test('--init is an annotation; the command is unchanged', () => {
  const { spec } = buildSpec(SCENARIOS.init!.input);
  assert.equal(spec.annotations!['io.tsdock.init'], 'true');
  assert.deepEqual(spec.process!.args, ['sleep', '10']);
});

const PROFILE = '{"defaultAction":"SCMP_ACT_ALLOW"}';

test('security options reach the spec', () => {
  const { spec, seccomp, warnings } = buildSpec(
    specInput({ securityOpt: ['no-new-privileges', `seccomp=${PROFILE}`, 'label=type:x', 'apparmor=unconfined', 'unmask=/proc/kcore', 'mask=/proc/cpuinfo'] }),
  );
  assert.equal(spec.process!.noNewPrivileges, true);
  // the request carries the profile's content; the container keeps it in its directory, which the annotation names
  const kept = '/var/lib/tsdock/containers/3f4e5d6c7b8a91827364556473829101a2b3c4d5e6f708192a3b4c5d6e7f8091/seccomp.json';
  assert.deepEqual(seccomp, { path: kept, content: PROFILE });
  assert.equal(spec.annotations!['io.tsdock.seccomp'], `profile:${kept}`);
  assert.equal(warnings.length, 2);
  assert.ok(!spec.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.ok(spec.linux!.maskedPaths!.includes('/proc/cpuinfo'));
  const sys = buildSpec(specInput({ securityOpt: ['systempaths=unconfined'] })).spec.linux!;
  assert.deepEqual([sys.maskedPaths, sys.readonlyPaths], [[], []]);
});

test('hostname rules', () => {
  assert.equal(containerHostname({ options: { command: [], network: 'none', hostname: 'web' }, containerId: 'abc' }), 'web');
  assert.equal(containerHostname({ options: { command: [], network: 'host' }, containerId: '0123456789abcdef', hostHostname: 'h' }), 'h');
  assert.throws(() => containerHostname({ options: { command: [], network: 'none', hostname: 'x'.repeat(65) }, containerId: 'abc' }), UsageError);
});

test('sysctls: docker allow-list', () => {
  assert.deepEqual(parseSysctls(['kernel.shmmax=1', 'fs.mqueue.msg_max=20', 'net.core.somaxconn=1024'], 'none'), {
    'kernel.shmmax': '1',
    'fs.mqueue.msg_max': '20',
    'net.core.somaxconn': '1024',
  });
  assert.throws(() => parseSysctls(['kernel.panic=1'], 'none'), { message: "sysctl 'kernel.panic=1' is not whitelisted" });
});

/** The error cases: what a user sees for each bad flag. */
const ERROR_CASES: Record<string, Parameters<typeof specInput>[0]> = {
  'bad -u name': { user: 'nosuchuser' },
  'bad -u group': { user: 'app:nosuchgroup' },
  'bad -u range': { user: '-5' },
  'bad --cap-add': { capAdd: ['NOT_A_CAP'] },
  'bad --cap-drop': { capDrop: ['cap_bogus'] },
  'unknown --security-opt': { securityOpt: ['seccomp-profile=x'] },
  'unparsable --security-opt': { securityOpt: ['nonsense'] },
  'bad no-new-privileges value': { securityOpt: ['no-new-privileges=maybe'] },
  'bad --tmpfs option': { tmpfs: ['/run:bogus'] },
  'relative -w': { workdir: 'data' },
  'bad -e': { env: ['=x'] },
  'bad --env-file line': { envFiles: [{ path: 'bad.env', content: 'GOOD=1\nBAD KEY=2\n' }] },
  'no command': { entrypoint: '' },
  'bad --ulimit': { ulimits: ['nofile=2048:1024'] },
  'duplicate mount point': { tmpfs: ['/data'], mounts: [{ type: 'volume', source: '/v', target: '/data', readonly: false, options: [] }] },
};

test('error cases: docker wording, UsageError (exit 125)', () => {
  const messages: Record<string, string> = {};
  for (const [name, options] of Object.entries(ERROR_CASES)) {
    let caught: unknown;
    try {
      buildSpec(specInput(options));
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof UsageError, `${name}: expected a UsageError, got ${String(caught)}`);
    assert.equal(caught.exitCode, 125);
    messages[name] = caught.message;
  }
  assertGolden('spec/errors', messages);
  assert.equal(messages['bad -u name'], 'unable to find user nosuchuser: no matching entries in passwd file');
  assert.equal(messages['bad --cap-add'], 'invalid CapAdd: unknown capability: "CAP_NOT_A_CAP"');
  assert.equal(messages['unknown --security-opt'], 'invalid --security-opt 2: "seccomp-profile=x"');
});

test("image User, WorkingDir and Entrypoint are used; -u '' keeps the image's user", () => {
  const config = { ...specInput().image.config, config: { Env: ['PATH=/app/bin:/bin', 'LANG=C.UTF-8'], Entrypoint: ['/entry.sh'], Cmd: ['serve'], User: 'app', WorkingDir: '/srv' } };
  const input = (options: Parameters<typeof specInput>[0]) => ({ ...specInput(options), image: { config, ref: 'example/app:1' } });
  const p = buildSpec(input({})).spec.process!;
  assert.deepEqual([p.user.uid, p.cwd, p.args], [1000, '/srv', ['/entry.sh', 'serve']]);
  assert.deepEqual(p.env, ['PATH=/app/bin:/bin', 'HOSTNAME=3f4e5d6c7b8a', 'LANG=C.UTF-8', 'HOME=/home/app']);
  assert.equal(buildSpec(input({ user: '' })).spec.process!.user.uid, 1000);
  assert.equal(buildSpec(input({ user: 'root' })).spec.process!.user.uid, 0);
  assert.deepEqual(buildSpec(input({ entrypoint: '', command: ['id'] })).spec.process!.args, ['id']);
});
