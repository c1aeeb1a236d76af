import { parseCgroupMounts } from '../../cgroups/detect.js';
import { result, type Check, type CheckResult, type DoctorSubject, type HostView } from '../types.js';

const NAME = 'cgroups';
/** the controllers behind run's limits: --memory, --cpus/--cpu-shares, --pids-limit, --blkio-weight, --cpuset-cpus */
const WANTED = ['memory', 'cpu', 'pids', 'io', 'cpuset'];
const UNIFIED = 'add systemd.unified_cgroup_hierarchy=1 to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then sudo update-grub) and reboot';
const DELEGATE = "sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, then log in again";

const words = (text: string | undefined) => (text ?? '').trim().split(/\s+/).filter(Boolean);

function rootlessV2(host: HostView, subject: DoctorSubject, mount: string): CheckResult {
  const name = `${NAME} (rootless delegation)`;
  const uid = subject.user!.uid;
  const service = `${mount}/user.slice/user-${uid}.slice/user@${uid}.service`;
  const st = host.lstat(service);
  if (!st) {
    return result(name, 'WARN', `no systemd user session for uid ${uid} (${service}): rootless containers get no cgroup, so --memory, --cpus, --pids-limit, pause and stats are refused`,
      `sudo loginctl enable-linger ${subject.user!.name ?? uid}  (and log in through systemd-logind, not su)`);
  }
  if (st.uid !== uid) return result(name, 'WARN', `${service} is not owned by uid ${uid}: nothing is delegated, so resource limits, pause and stats are refused rootless`, DELEGATE);
  const have = words(host.read(`${service}/cgroup.controllers`));
  const missing = WANTED.filter((c) => !have.includes(c));
  if (missing.length) return result(name, 'WARN', `systemd delegates ${have.join(' ') || 'no controllers'} to uid ${uid}: rootless limits of ${missing.join(', ')} are refused`, DELEGATE);
  return result(name, 'PASS', `delegated to uid ${uid}: ${have.join(' ')}`);
}

export const checkCgroups: Check = (host, subject) => {
  const cg = parseCgroupMounts(host.read('/proc/self/mountinfo') ?? '');
  const out: CheckResult[] = [];
  if (cg.mode === 'none') {
    out.push(result(NAME, subject.rootful ? 'FAIL' : 'WARN', `no cgroup filesystem is mounted: no resource limits${subject.rootful ? ', and no device control, so containers that are not --privileged are refused' : ''}`, 'sudo mount -t cgroup2 none /sys/fs/cgroup'));
    return out;
  }
  if (cg.mode === 'v2') {
    const have = words(host.read(`${cg.v2Mount}/cgroup.controllers`));
    const missing = WANTED.filter((c) => !have.includes(c));
    if (subject.rootful) {
      out.push(missing.length ? result(NAME, 'WARN', `cgroup v2 without ${missing.join(', ')}: those limits are refused`, 'enable the controllers in the kernel (CONFIG_MEMCG, CONFIG_CGROUP_PIDS, ...) or check cgroup_disable= on the kernel command line')
        : result(NAME, 'PASS', `cgroup v2: ${have.join(' ')}`));
    }
    if (subject.rootless && subject.user) out.push(rootlessV2(host, subject, cg.v2Mount!));
    return out;
  }
  const v1 = [...cg.v1.keys()].filter((c) => !c.startsWith('name=')).sort();
  const what = cg.mode === 'hybrid' ? `cgroup v1 controllers with cgroup2 at ${cg.v2Mount} (hybrid)` : 'cgroup v1';
  if (subject.rootful) {
    if (!cg.v1.has('devices')) out.push(result(NAME, 'FAIL', `${what} without the devices hierarchy: no device control, containers that are not --privileged are refused`, 'sudo mkdir -p /sys/fs/cgroup/devices && sudo mount -t cgroup -o devices none /sys/fs/cgroup/devices'));
    else out.push(result(NAME, 'PASS', `${what}: ${v1.join(' ')}`));
  }
  if (subject.rootless) {
    out.push(result(`${NAME} (rootless)`, 'WARN', `${what}: rootless containers get no cgroup (tsdock needs cgroup v2 delegation), so --memory, --cpus, --pids-limit, pause and stats are refused`, UNIFIED));
  }
  return out;
};
