// The flag → request golden table: every option of `run` and `create` and the field of the typed create request
// (docker's Engine API body) it sets, in docker's units. A new flag fails the coverage check until it is added here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { register as registerRun } from '../../../src/cli/commands/run.js';
import { register as registerCreate } from '../../../src/cli/commands/create.js';
import type { CliContext } from '../../../src/cli/context.js';
import { createOptions } from '../../../src/cli/opts/container.js';
import type { ContainerFlagValues } from '../../../src/cli/opts/flags.js';
import { validateRequest, type CreateRequest } from '../../../src/container/request.js';
import { requestOf, type ContainerRecord } from '../../../src/container/record.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-opts-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'app.env'), '# settings\nFILE=1\n');
fs.writeFileSync(path.join(dir, 'profile.json'), '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" } ] } ]\n}\n');
const CALLER = { cwd: dir, env: { FROMHOST: 'host-value' } };

type Verb = 'run' | 'create';
const REGISTER = { run: registerRun, create: registerCreate };

/** the create options `tsdock <verb> <argv> busybox true` produces, without running anything */
function parse(verb: Verb, argv: string[]): ReturnType<typeof createOptions> {
  const program = new Command().exitOverride().enablePositionalOptions();
  REGISTER[verb](program, {} as CliContext);
  let got: ReturnType<typeof createOptions> | undefined;
  let error: unknown;
  program.hook('preAction', (_root, action) => {
    const [image, command] = action.processedArgs as [string, string[]];
    try {
      got = createOptions(image, command, action.opts() as ContainerFlagValues, CALLER);
    } catch (err) {
      error = err;
    }
    throw new Error('parsed');
  });
  assert.throws(() => program.parse([verb, ...argv, 'busybox', 'true'], { from: 'user' }), /parsed/);
  if (error) throw error;
  return got!;
}

/** a dotted path into the create options: `request.HostConfig.Memory`, `name` */
function at(obj: unknown, p: string): unknown {
  return p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** flag → [argv, field → value] (several fields where docker's CLI sets several) */
const TABLE: Record<string, [string[], Record<string, unknown>]> = {
  '--env': [['-e', 'A=1', '--env', 'FROMHOST', '-e', 'GONE'], { 'request.Env': ['A=1', 'FROMHOST=host-value', 'GONE'] }],
  '--env-file': [['--env-file', 'app.env', '-e', 'B=2'], { 'request.Env': ['FILE=1', 'B=2'] }],
  '--volume': [['-v', '/h:/c:ro', '-v', 'vol:/data', '--volume', './rel:/r', '-v', '/anon'], { 'request.HostConfig.Binds': ['/h:/c:ro', 'vol:/data', `${dir}/rel:/r`], 'request.Volumes': { '/anon': {} } }],
  '--mount': [
    ['--mount', 'type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', '--mount', 'source=vol,target=/v,volume-nocopy'],
    {
      'request.HostConfig.Mounts': [
        { Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } },
        { Type: 'volume', Source: 'vol', Target: '/v', VolumeOptions: { NoCopy: true } },
      ],
    },
  ],
  '--tmpfs': [['--tmpfs', '/run:size=1m,noexec', '--tmpfs', '/tmp'], { 'request.HostConfig.Tmpfs': { '/run': 'size=1m,noexec', '/tmp': '' } }],
  '--read-only': [['--read-only'], { 'request.HostConfig.ReadonlyRootfs': true }],
  '--workdir': [['-w', '/srv'], { 'request.WorkingDir': '/srv' }],
  '--user': [['-u', 'app:staff'], { 'request.User': 'app:staff' }],
  '--entrypoint': [['--entrypoint', '/bin/sh'], { 'request.Entrypoint': ['/bin/sh'] }],
  '--name': [['--name', 'web'], { name: 'web' }],
  '--hostname': [['-h', 'box'], { 'request.Hostname': 'box' }],
  '--network': [['--network', 'host'], { 'request.HostConfig.NetworkMode': 'host' }],
  '--net': [['--net', 'host'], { 'request.HostConfig.NetworkMode': 'host' }],
  '--publish': [
    ['-p', '8080:80', '-p', '127.0.0.1::53/udp', '--publish', '9000-9001:90-91', '-p', '443', '-p', '[fd00::1]::8443', '-p', '[::]:2222:22'],
    {
      'request.HostConfig.PortBindings': {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }],
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '90/tcp': [{ HostIp: '', HostPort: '9000' }],
        '91/tcp': [{ HostIp: '', HostPort: '9001' }],
        '443/tcp': [{ HostIp: '', HostPort: '' }],
        '8443/tcp': [{ HostIp: 'fd00::1', HostPort: '' }],
        '22/tcp': [{ HostIp: '::', HostPort: '2222' }],
      },
      'request.ExposedPorts': { '80/tcp': {}, '53/udp': {}, '90/tcp': {}, '91/tcp': {}, '443/tcp': {}, '8443/tcp': {}, '22/tcp': {} },
    },
  ],
  '--publish-all': [['-P'], { 'request.HostConfig.PublishAllPorts': true }],
  '--expose': [['--expose', '7000-7001/udp', '--expose', '80'], { 'request.ExposedPorts': { '7000/udp': {}, '7001/udp': {}, '80/tcp': {} } }],
  '--ip': [['--network', 'appnet', '--ip', '10.91.0.9'], { 'request.NetworkingConfig.EndpointsConfig': { appnet: { IPAMConfig: { IPv4Address: '10.91.0.9' } } } }],
  '--ip6': [['--network', 'appnet', '--ip', '10.91.0.9', '--ip6', 'fd00:1::9'], { 'request.NetworkingConfig.EndpointsConfig': { appnet: { IPAMConfig: { IPv4Address: '10.91.0.9', IPv6Address: 'fd00:1::9' } } } }],
  '--mac-address': [['--mac-address', '92:D0:C6:0A:29:33'], { 'request.NetworkingConfig.EndpointsConfig': { default: { MacAddress: '92:d0:c6:0a:29:33' } } }],
  '--network-alias': [['--network', 'appnet', '--network-alias', 'db', '--network-alias', 'pg'], { 'request.NetworkingConfig.EndpointsConfig': { appnet: { Aliases: ['db', 'pg'] } }, 'request.HostConfig.NetworkMode': 'appnet' }],
  '--add-host': [['--add-host', 'db:10.0.0.5', '--add-host', 'gw=host-gateway'], { 'request.HostConfig.ExtraHosts': ['db:10.0.0.5', 'gw:host-gateway'] }],
  '--dns': [['--dns', '10.0.0.53'], { 'request.HostConfig.Dns': ['10.0.0.53'] }],
  '--dns-search': [['--dns-search', 'corp.example'], { 'request.HostConfig.DnsSearch': ['corp.example'] }],
  '--dns-option': [['--dns-option', 'ndots:2'], { 'request.HostConfig.DnsOptions': ['ndots:2'] }],
  '--cap-add': [['--cap-add', 'SYS_ADMIN'], { 'request.HostConfig.CapAdd': ['SYS_ADMIN'] }],
  '--cap-drop': [['--cap-drop', 'NET_RAW'], { 'request.HostConfig.CapDrop': ['NET_RAW'] }],
  '--privileged': [['--privileged'], { 'request.HostConfig.Privileged': true }],
  // docker's CLI sends the profile's content, compacted as Go's json.Compact does (the 2^64-1 argument kept as written)
  '--security-opt': [
    ['--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=profile.json'],
    { 'request.HostConfig.SecurityOpt': ['no-new-privileges', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}'] },
  ],
  '--ulimit': [['--ulimit', 'nofile=1024:4096', '--ulimit', 'core=-1'], { 'request.HostConfig.Ulimits': [{ Name: 'nofile', Soft: 1024, Hard: 4096 }, { Name: 'core', Soft: -1, Hard: -1 }] }],
  '--init': [['--init'], { 'request.HostConfig.Init': true }],
  '--cgroup-parent': [['--cgroup-parent', 'batch'], { 'request.HostConfig.CgroupParent': 'batch' }],
  '--oom-score-adj': [['--oom-score-adj', '-500'], { 'request.HostConfig.OomScoreAdj': -500 }],
  '--platform': [['--platform', 'linux/arm64'], { platform: 'linux/arm64' }],
  '--pull': [['--pull', 'never'], { pull: 'never' }],
  // the client's own: no pull progress is drawn (nothing in the request)
  '--quiet': [['-q'], {}],
  '--interactive': [['-i'], { 'request.OpenStdin': true, 'request.AttachStdin': true, 'request.StdinOnce': true }],
  '--tty': [['-t'], { 'request.Tty': true }],
  '--tls-verify': [['--tls-verify=false'], { tlsVerify: false }],
  '--label': [['-l', 'a=b', '--label', 'c'], { 'request.Labels': { a: 'b', c: '' } }],
  '--restart': [['--restart', 'on-failure:3'], { 'request.HostConfig.RestartPolicy': { Name: 'on-failure', MaximumRetryCount: 3 } }],
  '--log-opt': [['--log-opt', 'max-size=1m'], { 'request.HostConfig.LogConfig': { Type: 'k8s-file', Config: { 'max-size': '1m' } } }],
  '--memory-swappiness': [['--memory-swappiness', '10'], { 'request.HostConfig.MemorySwappiness': 10 }],
  '--memory': [['-m', '64m'], { 'request.HostConfig.Memory': 64 * 1024 * 1024 }],
  '--memory-swap': [['--memory-swap', '-1'], { 'request.HostConfig.MemorySwap': -1 }],
  '--memory-reservation': [['--memory-reservation', '1.5g'], { 'request.HostConfig.MemoryReservation': 1.5 * 1024 ** 3 }],
  '--cpus': [['--cpus', '1.5'], { 'request.HostConfig.NanoCpus': 1_500_000_000 }],
  '--cpu-shares': [['-c', '512'], { 'request.HostConfig.CpuShares': 512 }],
  '--cpu-period': [['--cpu-period', '50000'], { 'request.HostConfig.CpuPeriod': 50000 }],
  '--cpu-quota': [['--cpu-quota', '25000'], { 'request.HostConfig.CpuQuota': 25000 }],
  '--cpuset-cpus': [['--cpuset-cpus', '0-1'], { 'request.HostConfig.CpusetCpus': '0-1' }],
  '--cpuset-mems': [['--cpuset-mems', '0'], { 'request.HostConfig.CpusetMems': '0' }],
  '--pids-limit': [['--pids-limit', '10'], { 'request.HostConfig.PidsLimit': 10 }],
  '--blkio-weight': [['--blkio-weight', '300'], { 'request.HostConfig.BlkioWeight': 300 }],
  '--health-cmd': [['--health-cmd', 'curl -f localhost'], { 'request.Healthcheck': { Test: ['CMD-SHELL', 'curl -f localhost'] } }],
  '--health-interval': [['--health-interval', '1m30s'], { 'request.Healthcheck': { Interval: 90e9 } }],
  '--health-timeout': [['--health-timeout', '500ms'], { 'request.Healthcheck': { Timeout: 500e6 } }],
  '--health-retries': [['--health-retries', '5'], { 'request.Healthcheck': { Retries: 5 } }],
  '--health-start-period': [['--health-start-period', '2s'], { 'request.Healthcheck': { StartPeriod: 2e9 } }],
  '--no-healthcheck': [['--no-healthcheck'], { 'request.Healthcheck': { Test: ['NONE'] } }],
  '--rm': [['--rm'], { 'request.HostConfig.AutoRemove': true }],
};

/** run's own flags */
const RUN_ONLY: Record<string, [string[], Record<string, unknown>]> = {
  '--detach': [['-d'], { 'request.AttachStdout': false, 'request.AttachStderr': false, 'request.AttachStdin': false }],
  '--attach': [['-a', 'STDOUT'], { attach: ['stdout'], 'request.AttachStdout': true, 'request.AttachStderr': false }],
};

function flagsOf(verb: Verb): string[] {
  const program = new Command().enablePositionalOptions();
  REGISTER[verb](program, {} as CliContext);
  const cmd = program.commands.find((c) => c.name() === verb)!;
  return cmd.options.map((o) => o.long!).filter((l) => l !== '--help').sort();
}

test('the table covers every option of run and create, and nothing else', () => {
  assert.deepEqual(flagsOf('create'), Object.keys(TABLE).sort());
  assert.deepEqual(flagsOf('run'), [...Object.keys(TABLE), ...Object.keys(RUN_ONLY)].sort());
});

for (const verb of ['run', 'create'] as const) {
  const table = verb === 'run' ? { ...TABLE, ...RUN_ONLY } : TABLE;
  for (const [flag, [argv, fields]] of Object.entries(table)) {
    test(`${verb} ${flag} → ${Object.keys(fields).join(', ') || 'nothing in the request'}`, () => {
      const got = parse(verb, argv);
      for (const [field, want] of Object.entries(fields)) assert.deepEqual(at(got, field), want, `${verb} ${argv.join(' ')}: ${field}`);
      validateRequest(got.request);
    });
  }
}

test('no flags: docker defaults, attached output, the image named, k8s-file logs', () => {
  const { request, pull, name } = parse('run', []);
  assert.deepEqual([pull, name], ['missing', undefined]);
  assert.deepEqual(request, {
    Image: 'busybox',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [],
    Cmd: ['true'],
    Labels: {},
    HostConfig: { NetworkMode: 'default', AutoRemove: false, Privileged: false, ReadonlyRootfs: false, LogConfig: { Type: 'k8s-file', Config: {} } },
    NetworkingConfig: { EndpointsConfig: {} },
  });
});

test("flag values get docker's CLI errors", () => {
  const cases: Array<[string[], RegExp]> = [
    [['--memory', 'lots'], /^invalid argument "lots" for "--memory" flag: invalid size: 'lots'$/],
    [['--cpus', 'x'], /^invalid argument "x" for "--cpus" flag: failed to parse x as a rational number$/],
    [['--pids-limit', '1.5'], /^invalid argument "1.5" for "--pids-limit" flag: strconv.ParseInt/],
    [['--health-interval', '10'], /^invalid argument "10" for "--health-interval" flag: time: invalid duration "10"$/],
    [['--no-healthcheck', '--health-cmd', 'true'], /^--no-healthcheck conflicts with --health-\* options$/],
    [['--restart', 'sometimes'], /^invalid restart policy format: sometimes$/],
    [['--restart', 'always:3'], /maximum retry count can only be used with 'on-failure'/],
    [['--ulimit', 'nofile'], /^invalid ulimit argument: nofile$/],
    [['--env-file', 'missing.env'], /^open missing.env: no such file or directory$/],
    [['--security-opt', 'seccomp=missing.json'], /^opening seccomp profile \(missing.json\) failed: /],
    [['--mount', 'type=bind,target=/c,foo'], /^invalid field 'foo' must be a key=value pair$/],
    [['-d', '-a', 'stdout'], /^Conflicting options: -a and -d$/],
    [['-p', '80/icmp'], /^invalid proto: icmp$/],
    [['-p', '1-3:80-81'], /^invalid ranges specified for container and host Ports: 80-81 and 1-3$/],
    [['-p', 'x:80'], /^invalid hostPort: x$/],
    [['-p', '[fd00::zz]:80:80'], /^invalid IP address: fd00::zz$/],
    [['-p', '[fd00::1]:80'], /^invalid IP address: fd00::1$/],
    [['-p', 'fd00::1:80:80'], /an IPv6 host address goes in brackets/],
    [['--add-host', 'nocolon'], /^bad format for add-host: "nocolon"$/],
    [['--ip', '300.1.1.1'], /^invalid IPv4 address: 300\.1\.1\.1$/],
    [['--mac-address', 'zz'], /^invalid MAC address: zz$/],
    [['--ip6', '10.0.0.1'], /^invalid IPv6 address: 10\.0\.0\.1$/],
  ];
  for (const [argv, re] of cases) assert.throws(() => parse('run', argv), (err: unknown) => err instanceof Error && re.test(err.message), argv.join(' '));
});

test('accepted but not honoured is refused: unknown log opts, log drivers, network modes, restart with --rm', () => {
  const body = (h: CreateRequest['HostConfig']): CreateRequest => ({ Image: 'busybox', HostConfig: h });
  assert.throws(() => validateRequest(parse('run', ['--log-opt', 'max-file=3']).request), /^UsageError: unknown log opt 'max-file' for k8s-file log driver$/);
  assert.throws(() => validateRequest(body({ LogConfig: { Type: 'json-file', Config: {} } })), /log driver "json-file" is not supported/);
  assert.throws(() => validateRequest(body({ NetworkMode: 'bad/mode' })), /invalid network mode "bad\/mode"/);
  assert.throws(() => validateRequest(parse('run', ['--network', 'host', '-p', '80']).request), /conflicting options: port publishing and the network mode host/);
  assert.throws(() => validateRequest(parse('run', ['--network', 'none', '--ip', '10.0.0.2']).request), /--ip, --ip6, --mac-address and --network-alias need a bridge network/);
  assert.throws(() => validateRequest(parse('run', ['--network', 'container:db', '-h', 'x']).request), /cannot be used with --network container:/);
  validateRequest(body({ NetworkMode: 'bridge' }));
  assert.throws(() => validateRequest(parse('run', ['--rm', '--restart', 'always']).request), /conflicting options: cannot specify both --restart and --rm/);
  validateRequest(parse('run', ['--rm', '--restart', 'no']).request);
});

test('a record written before the typed request is read as one (its Config, HostConfig and detach flag)', () => {
  const legacy = {
    ImageName: 'busybox',
    Config: { Hostname: 'h', User: '', Env: ['A=1'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/', Labels: {}, Tty: false, OpenStdin: true },
    HostConfig: { NetworkMode: 'none', AutoRemove: false },
    Request: { detach: true, env: ['A=1'], volume: [] },
  } as unknown as ContainerRecord;
  const r = requestOf(legacy);
  assert.deepEqual([r.Image, r.Cmd, r.Env, r.OpenStdin, r.AttachStdin, r.AttachStdout, r.HostConfig.NetworkMode], ['busybox', ['sh'], ['A=1'], true, false, false, 'none']);
  const typed = { ...legacy, Request: parse('create', ['-i']).request } as ContainerRecord;
  assert.equal(requestOf(typed), typed.Request);
});
