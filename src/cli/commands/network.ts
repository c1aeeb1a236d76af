import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../render/confirm.js';
import { renderInspect, renderList } from '../render/format.js';
import { TsdockError, UsageError } from '../../errors.js';
import { createNetwork, inspectNetwork, listNetworks, pruneNetworks, reloadNetworks, removeNetworks } from '../../api/network.js';
import { connectNetwork, disconnectNetwork } from '../../api/network-connect.js';
import { ip6Flag, ipFlag, macFlag } from '../opts/ports.js';
import { collect } from '../opts/flags.js';

const toMap = (list: string[]) => Object.fromEntries(list.map((kv) => (kv.includes('=') ? [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] : [kv, ''])));
/** docker's repeatable --subnet/--gateway: at most one IPv4 and one IPv6 value */
function byFamily(list: string[], flag: string): { v4?: string; v6?: string } {
  const v4 = list.filter((x) => !x.includes(':'));
  const v6 = list.filter((x) => x.includes(':'));
  if (v4.length > 1 || v6.length > 1) throw new UsageError(`${flag}: at most one IPv4 and one IPv6 value`);
  return { v4: v4[0], v6: v6[0] };
}
const HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED' };

/** `tsdock network create|ls|inspect|rm|prune|connect|disconnect|reload`. */
export function register(program: Command, cli: CliContext): void {
  const network = program.command('network').description('Manage networks');

  network
    .command('create')
    .description('Create a network')
    .argument('<name>', 'network name')
    .option('-d, --driver <driver>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <cidr>', 'Subnet in CIDR format that represents a network segment (IPv4, and IPv6 with --ipv6)', collect, [])
    .option('--gateway <ip>', 'IPv4 or IPv6 Gateway for the master subnet', collect, [])
    .option('--ip-range <cidr>', 'Allocate container ip from a sub-range')
    .option('--internal', 'Restrict external access to the network')
    .option('--ipv6', 'Enable IPv6 networking')
    .option('--label <label>', 'Set metadata on a network', collect, [])
    .option('-o, --opt <opt>', 'Set driver specific options', collect, [])
    .action(async (name: string, o: { driver: string; subnet: string[]; gateway: string[]; ipRange?: string; internal?: boolean; ipv6?: boolean; label: string[]; opt: string[] }) => {
      const subnets = byFamily(o.subnet, '--subnet');
      const gateways = byFamily(o.gateway, '--gateway');
      if (o.ipRange?.includes(':')) throw new UsageError(`--ip-range ${o.ipRange}: IPv6 ranges are not supported`);
      const n = await createNetwork({ name, driver: o.driver, subnet: subnets.v4, gateway: gateways.v4, subnet6: subnets.v6, gateway6: gateways.v6, ipRange: o.ipRange, internal: o.internal, ipv6: o.ipv6, labels: toMap(o.label), options: toMap(o.opt) }, cli.api());
      cli.out(n.Id);
    });

  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'Only display network IDs')
    .option('--no-trunc', 'Do not truncate the output')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .action(async (o: { quiet?: boolean; trunc: boolean; format?: string }) => {
      const nets = await listNetworks(cli.api());
      const id = (x: string) => (o.trunc ? x.slice(0, 12) : x);
      if (o.quiet && !o.format) {
        for (const n of nets) cli.out(id(n.Id));
        return;
      }
      const rows = nets.map((n) => ({ ID: id(n.Id), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: String(n.EnableIPv6), Internal: String(n.Internal), Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: n.Created }));
      renderList(cli, rows, o.format?.trim(), { table: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', headers: HEADERS });
    });

  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>', 'network names or ids')
    .option('-f, --format <format>', "Format output using a custom template ('json' or a Go template)")
    .action(async (refs: string[], o: { format?: string }) => {
      const found: object[] = [];
      let failed = false;
      for (const r of refs) {
        try {
          found.push(await inspectNetwork(r, cli.api()));
        } catch (err) {
          failed = true;
          cli.stderr.write(`Error: ${(err as Error).message}\n`);
        }
      }
      renderInspect(cli, found, o.format);
      if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
    });

  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>', 'network names or ids')
    .option('-f, --force', 'Remove even when containers are configured for it (they cannot start then)')
    .action(async (refs: string[], o: { force?: boolean }) => {
      const r = await removeNetworks(refs, cli.api(), { force: o.force });
      for (const n of r.removed) cli.out(n);
      if (r.errors.length) {
        for (const e of r.errors) cli.stderr.write(`Error: ${e.message}\n`);
        throw new TsdockError('', { exitCode: 1 }).silent();
      }
    });

  network
    .command('prune')
    .description('Remove all unused networks')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>', 'label=<key>=<value>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { force?: boolean; filter: string[] }) => {
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
      const removed = await pruneNetworks(cli.api(), { filters: o.filter });
      if (removed.length) {
        cli.out('Deleted Networks:');
        for (const n of removed) cli.out(n);
      }
    });

  network
    .command('connect')
    .description('Connect a container to a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('--ip <address>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <address>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--alias <alias>', 'Add network-scoped alias for the container', collect, [])
    .option('--mac-address <mac>', 'Container MAC address on this network (e.g., 92:d0:c6:0a:29:33)')
    .action(async (net: string, container: string, o: { ip?: string; ip6?: string; alias: string[]; macAddress?: string }) => {
      const opts = { ip: o.ip === undefined ? undefined : ipFlag(o.ip), ip6: o.ip6 === undefined ? undefined : ip6Flag(o.ip6), aliases: o.alias, macAddress: o.macAddress === undefined ? undefined : macFlag(o.macAddress) };
      await connectNetwork(net, container, opts, cli.api());
    });

  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>', 'network name or id')
    .argument('<container>', 'container name or id')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (net: string, container: string) => {
      await disconnectNetwork(net, container, cli.api());
    });

  network
    .command('reload')
    .description("Restore tsdock's firewall rules (after a flush of the ruleset)")
    .action(async () => {
      for (const id of await reloadNetworks(cli.api())) cli.out(id);
    });
}
