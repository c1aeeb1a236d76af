import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as registerBuild } from './build.js';

/** `tsdock buildx build`: docker's buildx spelling of `build` (its other subcommands have no meaning here). */
export function register(program: Command, cli: CliContext): void {
  const buildx = program.command('buildx').description('Docker Buildx (build is the one subcommand)');
  registerBuild(buildx, cli, 'build');
}
