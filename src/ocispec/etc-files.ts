/**
 * The content of the generated /etc/hosts, /etc/hostname and /etc/resolv.conf that are bind-mounted into the
 * container. Pure: the host's own files are passed in.
 *
 * /etc/hosts decisions:
 * - `--network none`: docker's standard block (localhost, the ip6 names), then `127.0.0.1 <hostname> <name>`
 *   as podman writes for net=none, so the container's own hostname resolves (docker writes no such line there
 *   and `hostname -i` fails). 127.0.1.1 (Debian's convention for a host's own name) is not used: both answer on
 *   lo, and podman's 127.0.0.1 line is the established choice for containers.
 * - `--network host`: the host's /etc/hosts verbatim (docker), localhost lines added only when missing.
 * - a future bridge network passes `containerIp`: `<ip> <hostname> <name>` replaces the 127.0.0.1 line
 *   (docker maps the hostname to the container's address).
 * - `extraHosts` (`--add-host name:ip`) come first, as podman writes them.
 */

/** none: only lo; host: the host's stack; bridge: its own namespace on bridge networks; container: another's */
export type NetworkMode = 'none' | 'host' | 'bridge' | 'container' | 'pasta' | 'slirp4netns';

export interface EtcFilesInput {
  hostname: string;
  /** the container's name; listed after the hostname in /etc/hosts when it differs */
  name: string;
  network: NetworkMode;
  /** the host's /etc/hosts content (used with --network host) */
  hostHosts?: string;
  /** the host's /etc/resolv.conf content (used with --network host) */
  hostResolvConf?: string;
  /** the container's address on a (future) bridge network */
  containerIp?: string;
  /** `--add-host` entries, already parsed */
  extraHosts?: readonly { host: string; ip: string }[];
  /** on user networks: the other containers there (docker answers them by DNS; the lines serve libc without it) */
  peers?: readonly { ip: string; names: string[] }[];
  /** `--dns`, `--dns-search`, `--dns-option`, or the network's resolver: replace the host's */
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
}

export const DEFAULT_HOSTS_ENTRIES: readonly (readonly [string, string])[] = Object.freeze([
  ['127.0.0.1', 'localhost'],
  ['::1', 'localhost ip6-localhost ip6-loopback'],
  ['fe00::0', 'ip6-localnet'],
  ['ff00::0', 'ip6-mcastprefix'],
  ['ff02::1', 'ip6-allnodes'],
  ['ff02::2', 'ip6-allrouters'],
] as const);

const line = (ip: string, names: string) => `${ip}\t${names}\n`;

function namesOf(input: EtcFilesInput): string {
  return input.name && input.name !== input.hostname ? `${input.hostname} ${input.name}` : input.hostname;
}

/** The names a hosts file already maps (comments stripped). */
function mappedNames(content: string): Set<string> {
  const names = new Set<string>();
  for (const raw of content.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length >= 2) for (const n of fields.slice(1)) names.add(n);
  }
  return names;
}

export function hostsFile(input: EtcFilesInput): string {
  let out = '';
  for (const e of input.extraHosts ?? []) out += line(e.ip, e.host);
  if (input.network === 'host') {
    let base = input.hostHosts ?? '';
    if (base !== '' && !base.endsWith('\n')) base += '\n';
    out += base;
    const have = mappedNames(out);
    if (!have.has('localhost')) out += line('127.0.0.1', 'localhost') + line('::1', 'localhost');
    return out;
  }
  for (const [ip, names] of DEFAULT_HOSTS_ENTRIES) out += line(ip, names);
  out += line(input.containerIp ?? '127.0.0.1', namesOf(input));
  for (const p of input.peers ?? []) out += line(p.ip, p.names.join(' '));
  return out;
}

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/**
 * /etc/resolv.conf: the host's content verbatim with --network host (same network namespace, so even a
 * loopback resolver such as systemd-resolved's 127.0.0.53 works); with --network none a comment only (there is
 * no network to reach a resolver through). A bridge network will filter the host's loopback nameservers.
 */
export function resolvConfFile(input: Pick<EtcFilesInput, 'network' | 'hostResolvConf' | 'dns'>): string {
  if (input.network === 'host' && !input.dns) {
    const c = input.hostResolvConf ?? '';
    if (c === '') return '# tsdock: the host has no /etc/resolv.conf\n';
    return c.endsWith('\n') ? c : `${c}\n`;
  }
  if (input.network === 'none' && !input.dns) return '# tsdock: --network none, no DNS\n';
  // docker: the host's file without its loopback nameservers (they do not answer in another namespace); what
  // --dns/--dns-search/--dns-option (or the network's resolver) give replaces the matching lines
  const host = (input.hostResolvConf ?? '').split('\n');
  const pick = (kw: string) => host.filter((l) => l.trim().split(/\s+/)[0] === kw).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const servers = input.dns?.servers ?? pick('nameserver').filter((a) => !/^127\./.test(a) && a !== '::1');
  const search = input.dns?.search ?? pick('search');
  const options = input.dns?.options ?? pick('options');
  let out = '';
  if (search.length) out += `search ${search.join(' ')}\n`;
  for (const sv of servers) out += `nameserver ${sv}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out || '# tsdock: no nameserver\n';
}

export function etcFiles(input: EtcFilesInput): { hosts: string; hostname: string; resolvConf: string } {
  return { hosts: hostsFile(input), hostname: hostnameFile(input.hostname), resolvConf: resolvConfFile(input) };
}
