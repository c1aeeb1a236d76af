/**
 * Shared inputs for the spec and plan golden tests: a busybox-like image (its real Cmd, Env, passwd and group,
 * plus an `app` user) and the run scenarios the goldens cover.
 */
import type { ImageConfig } from '../../../src/image/manifest.js';
import type { RunSpecOptions, SpecInput } from '../../../src/ocispec/build.js';
import { parseTmpfsFlag } from '../../../src/ocispec/mounts.js';
import { userEnvironment, type EnvFileContent } from '../../../src/cli/opts/env.js';
import { ulimitFlag } from '../../../src/cli/opts/values.js';
import type { PlanContext } from '../../../src/runtime/plan.js';

export const BUSYBOX: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh'],
  },
  rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] },
};

export const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
app:x:1000:1000:App:/home/app:/bin/sh
`;

export const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
staff:x:50:app
audio:x:29:app,nobody
users:x:100:
app:x:1000:
nogroup:x:65534:
`;

export const CONTAINER_ID = '3f4e5d6c7b8a91827364556473829101a2b3c4d5e6f708192a3b4c5d6e7f8091';
const DIR = `/var/lib/tsdock/containers/${CONTAINER_ID}`;

/** the caller's environment, for `-e K` and bare names in env files */
const HOST_ENV = { HOME: '/home/me', SECRET: 's3cret', EMPTY: '' };

/** a run's flags as given (-e, --env-file, --tmpfs, --ulimit, --entrypoint strings), before the CLI turns them into the request */
export interface RunFlagsGiven extends Omit<Partial<RunSpecOptions>, 'ulimits' | 'entrypoint'> {
  envFiles?: EnvFileContent[];
  tmpfs?: string[];
  ulimits?: string[];
  entrypoint?: string;
}

/** the flags as the request carries them (the CLI's parsing, src/cli/opts/), then as buildSpec's options */
function requestOptions(f: RunFlagsGiven): Partial<RunSpecOptions> {
  const { envFiles, tmpfs, ulimits, entrypoint, env, mounts, ...rest } = f;
  const out: Partial<RunSpecOptions> = { ...rest };
  if (env || envFiles) out.env = userEnvironment({ env, envFiles, hostEnv: HOST_ENV });
  if (mounts || tmpfs) out.mounts = [...(mounts ?? []), ...(tmpfs ?? []).map((t) => parseTmpfsFlag(t))];
  if (ulimits) out.ulimits = ulimits.map(ulimitFlag);
  if (entrypoint !== undefined) out.entrypoint = [entrypoint];
  return out;
}

export function specInput(options: RunFlagsGiven = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    image: { config: BUSYBOX, ref: 'docker.io/library/busybox:latest' },
    options: { command: [], network: 'none', ...requestOptions(options) },
    passwd: PASSWD,
    group: GROUP,
    rootfs: `${DIR}/rootfs`,
    containerId: CONTAINER_ID,
    name: 'happy_turing',
    files: { hosts: `${DIR}/hosts`, hostname: `${DIR}/hostname`, resolvConf: `${DIR}/resolv.conf` },
    rootless: false,
    hardNofile: 20000,
    hardNproc: 63704,
    hostHostname: 'buildhost',
    hostHosts: '127.0.0.1\tlocalhost\n10.0.0.5\tbuildhost\n',
    hostResolvConf: 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.com\n',
    ...extra,
  };
}

const LAYERS = '/var/lib/tsdock/layers/sha256';
export function planContext(extra: Partial<PlanContext> = {}): PlanContext {
  return {
    layers: [`${LAYERS}/${'b'.repeat(64)}/diff`, `${LAYERS}/${'a'.repeat(64)}/diff`],
    upper: `${DIR}/upper`,
    work: `${DIR}/work`,
    rootless: false,
    // as containerPlan sets it: rootful, not --privileged
    rootfsNodev: !extra.rootless,
    ...extra,
  };
}

/** The golden scenarios: name → how `tsdock run` was called, as SpecInput. */
export const SCENARIOS: Record<string, { input: SpecInput; ctx: PlanContext }> = {
  // tsdock run busybox
  default: { input: specInput(), ctx: planContext() },
  // tsdock run -it busybox
  tty: { input: specInput({ tty: true, interactive: true }), ctx: planContext({ consolePath: '/dev/pts/7' }) },
  // tsdock run -u app -w /data -e A=1 -e SECRET -e GONE --env-file app.env busybox env
  'user-env': {
    input: specInput({
      user: 'app',
      workdir: '/data',
      env: ['A=1', 'SECRET', 'GONE'],
      envFiles: [{ path: 'app.env', content: '# settings\n\nB=two words\n  C=3\nA=from-file\nHOME\n' }],
      command: ['env'],
    }),
    ctx: planContext(),
  },
  // tsdock run --read-only --tmpfs /tmp -v /host:/ctr:ro -v vol:/data busybox
  'readonly-mounts': {
    input: specInput({
      readOnly: true,
      tmpfs: ['/tmp'],
      mounts: [
        { type: 'bind', source: '/host', target: '/ctr', readonly: true, options: [], createSource: true },
        { type: 'volume', source: '/var/lib/tsdock/volumes/vol/_data', volumeName: 'vol', target: '/data', readonly: false, options: [] },
      ],
    }),
    ctx: planContext(),
  },
  // tsdock run --privileged busybox
  privileged: { input: specInput({ privileged: true }), ctx: planContext({ rootfsNodev: false }) },
  // tsdock run --cap-add SYS_ADMIN --cap-drop NET_RAW busybox
  caps: { input: specInput({ capAdd: ['SYS_ADMIN'], capDrop: ['NET_RAW'] }), ctx: planContext() },
  // tsdock run --network host busybox
  'network-host': { input: specInput({ network: 'host' }), ctx: planContext() },
  // tsdock run busybox, as a non-root user (tsdock inside its own user namespace)
  rootless: {
    input: specInput({}, { rootless: true, hardNofile: 20000, hardNproc: 20000 }),
    ctx: planContext({ rootless: true, layersBase: '/home/me/.local/share/tsdock/layers/sha256', layers: [`/home/me/.local/share/tsdock/layers/sha256/${'b'.repeat(64)}/diff`, `/home/me/.local/share/tsdock/layers/sha256/${'a'.repeat(64)}/diff`] }),
  },
  // tsdock run --init busybox sleep 10
  init: { input: specInput({ init: true, command: ['sleep', '10'] }), ctx: planContext({ pidFile: `${DIR}/pid` }) },
};
