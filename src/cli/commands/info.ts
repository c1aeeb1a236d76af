import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { systemInfo } from '../../api/info.js';
import { renderInspect } from '../render/format.js';
import { humanSize } from '../render/units.js';

export function register(parent: Command, cli: CliContext): void {
  parent
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <format>', "Format output using a custom template ('json' or a Go template)")
    .action(async (o: { format?: string }) => {
      const info = await systemInfo(cli.api());
      if (o.format === 'json') {
        cli.out(JSON.stringify(info));
        return;
      }
      if (o.format) {
        renderInspect(cli, [info], o.format);
        return;
      }
      const lines = [
        'Server:',
        ` Containers: ${info.Containers}`,
        `  Running: ${info.ContainersRunning}`,
        `  Paused: ${info.ContainersPaused}`,
        `  Stopped: ${info.ContainersStopped}`,
        ` Images: ${info.Images}`,
        ` Server Version: ${info.ServerVersion}`,
        ` Storage Driver: ${info.Driver} (${info.DriverStatus})`,
        ` Cgroup Driver: cgroupfs`,
        ` Cgroup Version: ${info.CgroupVersion}${info.CgroupMode === 'hybrid' ? ' (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified)' : ''}`,
        ` Rootless: ${info.Rootless}`,
        ` Default Network: ${info.DefaultNetwork}${info.DefaultNetwork === 'none' ? ` (${info.NetworkStatus})` : ''}`,
        ` Kernel Version: ${info.KernelVersion}`,
        ` Operating System: ${info.OperatingSystem}`,
        ` OSType: ${info.OSType}`,
        ` Architecture: ${info.Architecture}`,
        ` CPUs: ${info.NCPU}`,
        ` Total Memory: ${humanSize(info.MemTotal)}`,
        ` Name: ${info.Name}`,
        ` Tsdock Root Dir: ${info.RootDir}`,
        ` Tsdock Run Root: ${info.RunRoot}`,
        ` Registry Search: ${info.RegistrySearch.join(', ')}`,
        ` Doctor: ${doctorLine(info.Doctor)}`,
      ];
      cli.out(lines.join('\n'));
    });
}

/** `doctor`'s short form: ok, or which checks fail or warn */
function doctorLine(d: { failures: string[]; warnings: string[] }): string {
  const parts = [d.failures.length && `failing: ${d.failures.join(', ')}`, d.warnings.length && `warnings: ${d.warnings.join(', ')}`].filter(Boolean);
  return parts.length ? `${parts.join('; ')} (run tsdock doctor)` : 'all checks pass';
}
