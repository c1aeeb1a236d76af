import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { doctor } from '../../api/doctor.js';
import { painter, renderChecks } from '../render/doctor.js';
import { UsageError } from '../../errors.js';

export function register(parent: Command, cli: CliContext): void {
  parent
    .command('doctor')
    .description('Check this host for what tsdock needs, and say how to fix what is missing')
    .option('--format <format>', "Output format: 'table' (default) or 'json' (an array of {name, status, message, fix})")
    .action(async (o: { format?: string }) => {
      if (o.format && o.format !== 'json' && o.format !== 'table') throw new UsageError(`invalid --format "${o.format}": use table or json`);
      const results = doctor(cli.api({ open: false }));
      if (o.format === 'json') cli.out(JSON.stringify(results, null, 2));
      else cli.out(renderChecks(results, await painter(cli.isTTY && !('NO_COLOR' in cli.env) && cli.env.TERM !== 'dumb')));
      if (results.some((r) => r.status === 'FAIL')) process.exitCode = 1;
    });
}
