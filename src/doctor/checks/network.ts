import { result, rootlessSeverity, type Check, type CheckResult } from '../types.js';

/** rootless: pasta or slirp4netns through /dev/net/tun; rootful bridges: ip, nft and IPv4 forwarding. */
export const checkNetwork: Check = (host, subject) => {
  const out: CheckResult[] = [];
  if (subject.rootless) {
    // without them a rootless container has no network at all (create falls back to --network none)
    const bad = rootlessSeverity(subject);
    const tun = host.lstat('/dev/net/tun');
    if (!tun) {
      out.push(result('/dev/net/tun', bad, '/dev/net/tun is missing: rootless containers get no network (--network none) unless they share the host\'s (--network host)', "sudo modprobe tun && echo tun | sudo tee /etc/modules-load.d/tun.conf"));
    } else if ((tun.mode & 0o006) !== 0o006) {
      out.push(result('/dev/net/tun', bad, `/dev/net/tun has mode ${(tun.mode & 0o777).toString(8)}: a rootless user cannot open it, so rootless containers get no network`, 'sudo chmod 0666 /dev/net/tun'));
    } else {
      const err = subject.rootful ? undefined : host.openDevice('/dev/net/tun');
      out.push(err ? result('/dev/net/tun', bad, `/dev/net/tun cannot be opened (${err}): rootless containers get no network`, 'sudo chmod 0666 /dev/net/tun (and check that no device policy denies it)')
        : result('/dev/net/tun', 'PASS', 'present, mode 0666'));
    }
    const pasta = host.which('pasta');
    const slirp = host.which('slirp4netns');
    if (!pasta && !slirp) out.push(result('rootless network helper', bad, 'neither pasta nor slirp4netns is installed: rootless containers get no network', 'sudo apt-get install passt  (Fedora: sudo dnf install passt)'));
    else out.push(result('rootless network helper', 'PASS', [pasta && `pasta (${pasta})`, slirp && `slirp4netns (${slirp})`].filter(Boolean).join(', ')));
  }
  if (subject.rootful) {
    const missing = ['ip', 'nft'].filter((c) => !host.which(c));
    if (missing.length) {
      out.push(result('bridge networking', 'FAIL', `${missing.join(' and ')} not found: bridge networks (the rootful default) cannot be made; --network host or none still work`, `sudo apt-get install ${missing.map((m) => (m === 'ip' ? 'iproute2' : 'nftables')).join(' ')}`));
    } else out.push(result('bridge networking', 'PASS', 'ip and nft found'));
    const fwd = host.read('/proc/sys/net/ipv4/ip_forward')?.trim();
    if (fwd !== '1') {
      out.push(result('ip forwarding', 'WARN', `net.ipv4.ip_forward is ${fwd ?? 'unreadable'}: containers on bridge networks cannot reach beyond the host`, "sudo sysctl -w net.ipv4.ip_forward=1 && echo 'net.ipv4.ip_forward=1' | sudo tee /etc/sysctl.d/90-tsdock-forward.conf"));
    } else out.push(result('ip forwarding', 'PASS', 'net.ipv4.ip_forward is 1'));
  }
  return out;
};
