import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { VERSION } from '../../version.js';

export function register(parent: Command, cli: CliContext): void {
  parent
    .command('version')
    .description('Show the tsdock version information')
    .option('-f, --format <format>', "'json' or a Go template")
    .action(async (o: { format?: string }) => {
      const info = { Client: { Version: VERSION, GoVersion: 'n/a', NodeVersion: process.version, Os: process.platform, Arch: process.arch } };
      if (o.format === 'json') return cli.out(JSON.stringify(info));
      if (o.format) {
        const { renderInspect } = await import('../render/format.js');
        return renderInspect(cli, [info], o.format);
      }
      cli.out(`Client:\n Version:      ${VERSION}\n Node version: ${process.version}\n OS/Arch:      ${process.platform}/${process.arch}`);
    });
}
