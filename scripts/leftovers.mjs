// What the integration suite must not leave on the host (run by scripts/test.mjs after the integration tests):
// container cgroups, network leases, veths, nft port rules, user-network bridges, executor, pasta and slirp4netns
// processes, and rootless namespace holders. The host's own /var/lib/tsdock containers and networks are not the
// suite's and are left out.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const HOST_STORE = '/var/lib/tsdock';
const NET_RUN = '/run/tsdock/net';

const list = (dir) => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};
const readJson = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const run = (file, args) => {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  } catch {
    return undefined;
  }
};

function cgroups(hostIds) {
  const left = [];
  for (const base of ['/sys/fs/cgroup', ...list('/sys/fs/cgroup').map((d) => path.join('/sys/fs/cgroup', d))]) {
    const dir = path.join(base, 'tsdock');
    let ids = [];
    try {
      ids = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      continue;
    }
    left.push(...ids.filter((id) => !hostIds.has(id)).map((id) => `cgroup ${path.join(dir, id)}`));
  }
  return left;
}

function network(hostIds) {
  const left = [];
  const kept = list(path.join(NET_RUN, 'leases')).filter((f) => f.endsWith('.json')).map((f) => ({ id: f.slice(0, -5), lease: readJson(path.join(NET_RUN, 'leases', f)) }));
  for (const { id } of kept) if (!hostIds.has(id)) left.push(`lease ${NET_RUN}/leases/${id}.json`);
  const hostLeases = kept.filter(({ id }) => hostIds.has(id)).map((k) => k.lease ?? { endpoints: [] });
  const hostIfs = new Set(hostLeases.flatMap((l) => l.endpoints.map((e) => e.hostIf)));
  for (const line of (run('ip', ['-o', 'link', 'show', 'type', 'veth']) ?? '').split('\n')) {
    const m = /^\d+:\s+(veth[0-9a-f]{8})@/.exec(line);
    if (m && !hostIfs.has(m[1])) left.push(`veth ${m[1]}`);
  }
  const bridges = new Set(['tsdock0', ...list(path.join(HOST_STORE, 'networks')).map((f) => readJson(path.join(HOST_STORE, 'networks', f))?.Options?.['com.docker.network.bridge.name']).filter(Boolean)]);
  for (const line of (run('ip', ['-o', 'link', 'show', 'type', 'bridge']) ?? '').split('\n')) {
    const m = /^\d+:\s+(tsd-[0-9a-f]+):/.exec(line);
    if (m && !bridges.has(m[1])) left.push(`bridge ${m[1]} (a user network's, not removed)`);
  }
  const short = new Set([...hostIds].map((id) => id.slice(0, 12)));
  const chain = run('nft', ['-j', 'list', 'chain', 'ip', 'tsdock', 'ports']);
  for (const item of chain ? (JSON.parse(chain).nftables ?? []) : []) {
    if (item.rule && !short.has(item.rule.comment)) left.push(`nft rule in ip tsdock ports: ${item.rule.comment ?? JSON.stringify(item.rule.expr)}`);
  }
  return left;
}

/** pids of the host store's monitors (state.json MonitorPid): they and their children are not the suite's */
function hostMonitors(hostIds) {
  return new Set([...hostIds].map((id) => readJson(path.join(HOST_STORE, 'containers', id, 'state.json'))?.MonitorPid).filter(Boolean).map(String));
}

const readText = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const nsOf = (pid, ns) => {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
};

const ppidOf = (stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];

function processes(hostIds) {
  const left = [];
  const monitors = hostMonitors(hostIds);
  for (const pid of list('/proc').filter((p) => /^\d+$/.test(p))) {
    let exe;
    let stat;
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (/\) [ZX] /.test(stat) || monitors.has(pid) || monitors.has(ppidOf(stat))) continue;
    const holder = /\/sleep$/.test(exe) && readText(`/proc/${pid}/cmdline`) === 'sleep\0infinity\0' && nsOf(pid, 'user') !== nsOf(1, 'user');
    if (holder) left.push(`process ${pid}: a rootless namespace holder (sleep infinity in a user namespace)`);
    else if (/tsdock-exec|\/(pasta|passt|slirp4netns)(\.avx2)?$/.test(exe)) left.push(`process ${pid} (${exe}): ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120)}`);
  }
  return left;
}

/** Everything the suite left behind, one line each (empty: nothing). */
export function leftovers() {
  const hostIds = new Set(list(path.join(HOST_STORE, 'containers')));
  return [...cgroups(hostIds), ...network(hostIds), ...processes(hostIds)];
}
