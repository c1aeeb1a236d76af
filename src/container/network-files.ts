/** The small file helpers a start's network uses for this run's /etc/hosts and /etc/resolv.conf. */
import fs from 'node:fs';

/** the nameservers of a resolv.conf text */
export function nameservers(resolvConf: string | undefined): string[] {
  return (resolvConf ?? '').split('\n').flatMap((l) => {
    const f = l.trim().split(/\s+/);
    return f[0] === 'nameserver' && f[1] ? [f[1]] : [];
  });
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** rewrite a bind-mounted file in place (a rename would leave the container's bind on the old inode) */
export function rewrite(file: string, content: string): void {
  fs.writeFileSync(file, content);
}

/**
 * /etc/hosts' extra lines: `--add-host` entries (`host-gateway` is the gateway), then host.docker.internal and
 * host.containers.internal naming the gateway, when there is one.
 */
export function extraHosts(list: string[] | undefined, gateway: string | undefined): Array<{ host: string; ip: string }> {
  const added = (list ?? []).map((e) => {
    const i = e.indexOf(':');
    const ip = e.slice(i + 1);
    return { host: e.slice(0, i), ip: ip === 'host-gateway' ? (gateway ?? '127.0.0.1') : ip };
  });
  return gateway ? [...added, { host: 'host.docker.internal', ip: gateway }, { host: 'host.containers.internal', ip: gateway }] : added;
}

/** `--dns*` (or the servers the network decides) as resolvConfFile's `dns`; undefined: the host's as they are */
export function dnsSettings(servers: string[] | undefined, h: { DnsSearch?: string[]; DnsOptions?: string[] }): { servers?: string[]; search?: string[]; options?: string[] } | undefined {
  if (!servers?.length && !h.DnsSearch?.length && !h.DnsOptions?.length) return undefined;
  return { ...(servers?.length ? { servers } : {}), ...(h.DnsSearch?.length ? { search: h.DnsSearch } : {}), ...(h.DnsOptions?.length ? { options: h.DnsOptions } : {}) };
}
