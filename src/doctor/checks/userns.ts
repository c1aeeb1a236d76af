import { result, rootlessSeverity, type Check, type CheckResult } from '../types.js';

const NAME = 'user namespaces';

const sysctl = (read: (p: string) => string | undefined, key: string) => read(`/proc/sys/${key.replace(/\./g, '/')}`)?.trim();

/**
 * Rootless tsdock runs every command in a user namespace (util-linux unshare, through newuidmap): three switches
 * can forbid it. Root does not need them; as root the check says so and still reports them for rootless users.
 */
export const checkUserNamespaces: Check = (host, subject) => {
  const read = (p: string) => host.read(p);
  const out: CheckResult[] = [];
  const bad = rootlessSeverity(subject);
  const who = subject.rootful ? 'rootless users of tsdock cannot run (root is not affected)' : 'rootless tsdock cannot run';
  const clone = sysctl(read, 'kernel.unprivileged_userns_clone');
  if (clone === '0') {
    out.push(result(NAME, bad, `kernel.unprivileged_userns_clone is 0: unprivileged users may not create user namespaces, ${who}`,
      "sudo sysctl -w kernel.unprivileged_userns_clone=1 && echo 'kernel.unprivileged_userns_clone=1' | sudo tee /etc/sysctl.d/90-tsdock-userns.conf"));
  }
  const max = sysctl(read, 'user.max_user_namespaces');
  if (max === undefined) {
    out.push(result(NAME, bad, `the kernel has no user namespaces (no /proc/sys/user/max_user_namespaces): ${who}`, 'use a kernel built with CONFIG_USER_NS=y'));
  } else if (Number(max) === 0) {
    out.push(result(NAME, bad, `user.max_user_namespaces is 0: no user namespace can be created, ${who}`,
      "sudo sysctl -w user.max_user_namespaces=28633 && echo 'user.max_user_namespaces=28633' | sudo tee /etc/sysctl.d/90-tsdock-userns.conf"));
  }
  if (sysctl(read, 'kernel.apparmor_restrict_unprivileged_userns') === '1') {
    out.push(result(NAME, bad, `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+): ${who}`,
      "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 && echo 'kernel.apparmor_restrict_unprivileged_userns=0' | sudo tee /etc/sysctl.d/90-tsdock-userns.conf (or an AppArmor profile with 'userns,' for node)"));
  }
  if (!out.length) out.push(result(NAME, 'PASS', `unprivileged users may create user namespaces (max ${max})${subject.rootful ? ': rootless users can run tsdock' : ''}`));
  return out;
};
