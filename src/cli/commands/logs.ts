import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { containerLogs } from '../../api/logs.js';

/** `logs` and `container logs`. */
export function register(parent: Command, cli: CliContext, name = 'logs'): void {
  parent
    .command(name)
    .description('Fetch the logs of a container')
    .argument('<container>', 'container name, ID or ID prefix')
    .option('-f, --follow', 'Follow log output')
    .option('--since <time>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <time>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .addOption(new Option('--details', 'Show extra details provided to logs (none are recorded)').hideHelp())
    .action(async (container: string, o: { follow?: boolean; since?: string; tail: string; timestamps?: boolean; until?: string }) => {
      await containerLogs({ container, follow: o.follow, tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps }, cli.api());
    });
}
