import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGateway, pastaArgv } from '../../../src/network/pasta.js';

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
`;

test('defaultGateway reads the IPv4 default route of /proc/net/route', () => {
  assert.equal(defaultGateway(ROUTES), '192.0.2.1');
  assert.equal(defaultGateway(ROUTES.split('\n').slice(0, 2).join('\n')), undefined, 'no default route');
  assert.equal(defaultGateway(''), undefined);
});

test('pastaArgv: published ports as -t/-u specs, nothing else forwarded, the netns from the executor', () => {
  const argv = pastaArgv(
    [
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
      { hostIp: '0.0.0.0', hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ],
    '/run/x/pasta.ready',
  );
  assert.deepEqual(argv, [
    'pasta', '--config-net', '--foreground', '--quiet', '--runas', '0:0', '--pid', '/run/x/pasta.ready',
    '--ns-ifname', 'eth0', '--tcp-ports', '127.0.0.1/8080:80', '--tcp-ports', '8443:443', '--udp-ports', '5353:53',
    '--tcp-ns', 'none', '--udp-ns', 'none', '--netns', '{netns}', '--no-netns-quit',
  ]);
  const none = pastaArgv([], '/r', { forwardDns: '192.0.2.1' });
  assert.deepEqual(none.slice(none.indexOf('--tcp-ports'), none.indexOf('--netns')), [
    '--tcp-ports', 'none', '--udp-ports', 'none', '--tcp-ns', 'none', '--udp-ns', 'none', '--dns-forward', '192.0.2.1',
  ]);
  assert.throws(() => pastaArgv([{ hostIp: '', hostPort: 9, containerPort: 9, protocol: 'sctp' }], '/r'), /9\/sctp: rootless networking \(pasta\) forwards tcp and udp only/);
});

test('pasta:<options> go after tsdock\'s, before the netns', () => {
  const argv = pastaArgv([], '/r', { extra: ['--ipv4-only', '--mtu', '1500'] });
  assert.deepEqual(argv.slice(argv.indexOf('none', argv.indexOf('--udp-ns')) + 1), ['--ipv4-only', '--mtu', '1500', '--netns', '{netns}', '--no-netns-quit']);
});
