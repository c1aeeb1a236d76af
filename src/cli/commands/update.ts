import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { TsdockError } from '../../errors.js';
import type { ResourceFlags } from '../../spec/resources.js';

/** `update`: new resource limits for containers (running ones get them at once). */
export function register(program: Command, cli: CliContext): void {
  program
    .command('update')
    .description('Update configuration of one or more containers')
    .argument('<container...>', 'names or IDs')
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
    .option('--blkio-weight <n>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable')
    .action(async (containers: string[], flags: ResourceFlags) => {
      const { updateContainer } = await import('../../api/update.js');
      const ctx = cli.api();
      let failed = false;
      for (const c of containers) {
        try {
          await updateContainer(c, flags, ctx);
          cli.out(c);
        } catch (err) {
          failed = true;
          cli.stderr.write(`Error: ${(err as Error).message}\n`);
        }
      }
      if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
    });
}
