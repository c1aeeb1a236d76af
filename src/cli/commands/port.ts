import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { TsdockError } from '../../errors.js';
import { containerPorts } from '../../api/network.js';

/** `tsdock port CONTAINER [PRIVATE_PORT[/PROTO]]`: docker's lines, `80/tcp -> 0.0.0.0:18080`. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private_port]', 'PRIVATE_PORT[/PROTO]')
    .action((ref: string, priv: string | undefined) => {
      const ports = containerPorts(ref, cli.api());
      const want = priv ? (priv.includes('/') ? priv : `${priv}/tcp`) : undefined;
      const list = ports.filter((p) => !want || `${p.containerPort}/${p.protocol}` === want);
      if (want && !list.length) throw new TsdockError(`No public port '${want}' published for ${ref}`, { exitCode: 1 });
      // docker's net.JoinHostPort: an IPv6 host address in brackets, `[::]:18080`
      const host = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
      for (const p of list) cli.out(want ? host(p.hostIp, p.hostPort) : `${p.containerPort}/${p.protocol} -> ${host(p.hostIp, p.hostPort)}`);
    });
}
