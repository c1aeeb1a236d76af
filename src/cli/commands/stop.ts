import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachContainer } from '../render/each.js';

/** `stop`, `kill` and `restart`: one file, three verbs over the same signal machinery. */
export function register(program: Command, cli: CliContext, name = 'stop'): void {
  const cmd = program.command(name).argument('<container...>', 'names or IDs');
  if (name === 'kill') {
    cmd.description('Kill one or more running containers').option('-s, --signal <signal>', 'Signal to send to the container', 'KILL');
  } else {
    cmd
      .description(name === 'stop' ? 'Stop one or more running containers' : 'Restart one or more containers')
      .option('-t, --time <seconds>', 'Seconds to wait before killing the container', (v) => Number.parseInt(v, 10))
      .option('-s, --signal <signal>', 'Signal to send to the container');
  }
  cmd.action(async (containers: string[], o: { time?: number; signal?: string }) => {
    const api = await import('../../api/stop.js');
    const ctx = cli.api();
    const restart = name === 'restart' ? (await import('../../api/restart.js')).restartContainer : undefined;
    await forEachContainer(cli, containers, async (c) => {
      if (name === 'kill') await api.killContainer(c, { signal: o.signal }, ctx);
      else if (restart) await restart(c, { timeout: o.time, signal: o.signal }, ctx);
      else await api.stopContainer(c, { timeout: o.time, signal: o.signal }, ctx);
    });
  });
}
