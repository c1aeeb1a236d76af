import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { logout } from '../../api/login.js';

export function register(parent: Command, cli: CliContext): void {
  parent
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'Registry host (default docker.io)')
    .option('-a, --all', 'Remove the credentials of every registry')
    .option('--authfile <file>', 'Path of the auth file (docker config.json format)')
    .action(async (server: string | undefined, o: { all?: boolean; authfile?: string }) => {
      const r = await logout({ server, all: o.all, authFile: o.authfile }, cli.api());
      if (r.registry && r.removed.length === 0) {
        cli.out(`Not logged in to ${r.registry}`);
        return;
      }
      for (const key of r.removed) cli.out(`Removing login credentials for ${key}`);
    });
}
