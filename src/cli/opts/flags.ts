/**
 * The flags of `run`, `create` and `update`: docker's names, short forms and help. container.ts turns their values
 * into the typed request; nothing else reads them.
 */
import { Option, type Command } from 'commander';
import { boolFlag } from '../flag-values.js';

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The cgroup limit flags `run`, `create` and `update` share. */
export function addResourceFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--cpus <number>', 'Number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpu-period <us>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <us>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--blkio-weight <n>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable');
}

/** Flags shared by `run` and `create`. */
export function addContainerFlags(cmd: Command): Command {
  cmd
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect, [])
    .option('--env-file <file>', 'Read in a file of environment variables', collect, [])
    .option('-v, --volume <SRC:DST[:OPTS]>', 'Bind mount a volume', collect, [])
    .option('--mount <mount>', 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,...)', collect, [])
    .option('--tmpfs <path[:opts]>', 'Mount a tmpfs directory', collect, [])
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-u, --user <user[:group]>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <cmd>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--name <name>', 'Assign a name to the container')
    .option('-h, --hostname <name>', 'Container host name')
    .option('--network <mode>', 'Connect a container to a network (bridge, none, host, container:<name|id>, <network>)')
    .addOption(new Option('--net <mode>', 'Alias of --network').hideHelp())
    .option('-p, --publish <[ip:][hostPort:]containerPort[/proto]>', "Publish a container's port(s) to the host", collect, [])
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <port[/proto]>', 'Expose a port or a range of ports', collect, [])
    .option('--ip <address>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <address>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--mac-address <mac>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--network-alias <alias>', 'Add network-scoped alias for the container', collect, [])
    .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping (host:ip)', collect, [])
    .option('--dns <ip>', 'Set custom DNS servers', collect, [])
    .option('--dns-search <domain>', 'Set custom DNS search domains', collect, [])
    .option('--dns-option <option>', 'Set DNS options', collect, [])
    .option('--cap-add <cap>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect, [])
    .option('--privileged', 'Give extended privileges to this container')
    .option('--security-opt <opt>', 'Security Options (no-new-privileges, seccomp=unconfined|PROFILE.json)', collect, [])
    .option('--ulimit <type=soft[:hard]>', 'Ulimit options', collect, [])
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--cgroup-parent <path>', 'Optional parent cgroup for the container')
    .option('--oom-score-adj <n>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never']).default('missing'))
    .option('-q, --quiet', 'Suppress the pull output')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates when pulling', boolFlag)
    .option('-l, --label <key=value>', 'Set meta data on a container', collect, [])
    .option('--restart <policy>', 'Restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)')
    .option('--log-opt <key=value>', 'Log driver options (max-size)', collect, [])
    .option('--memory-swappiness <n>', 'Tune container memory swappiness (0 to 100)');
  return addResourceFlags(cmd)
    .option('--health-cmd <command>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 30s)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before failures count (ms|s|m|h)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
}

/** commander's values of the resource flags, as typed */
export interface ResourceFlagValues {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** commander's values of run's and create's flags */
export interface ContainerFlagValues extends ResourceFlagValues {
  env: string[];
  envFile: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  readOnly?: boolean;
  workdir?: string;
  user?: string;
  entrypoint?: string;
  name?: string;
  hostname?: string;
  network?: string;
  net?: string;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  ip?: string;
  macAddress?: string;
  ip6?: string;
  networkAlias: string[];
  addHost: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  ulimit: string[];
  init?: boolean;
  cgroupParent?: string;
  oomScoreAdj?: string;
  platform?: string;
  pull: 'always' | 'missing' | 'never';
  quiet?: boolean;
  interactive?: boolean;
  tty?: boolean;
  tlsVerify?: boolean;
  label: string[];
  restart?: string;
  logOpt: string[];
  memorySwappiness?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  /** false for --no-healthcheck */
  healthcheck?: boolean;
  /** run and create */
  rm?: boolean;
  /** run only */
  detach?: boolean;
  attach?: string[];
}
