import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A verb's module: declares its flags on `program` and calls the api. Loaded lazily. */
export interface CommandModule {
  register(program: Command, cli: CliContext): void | Promise<void>;
}

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<CommandModule>;
}

/**
 * Every top-level verb. Only the one named on the command line is imported, so `tsdock --version`
 * and small commands do not pay for the whole engine. Keep in sync with completion/ and man/.
 */
export const commands: CommandEntry[] = [
  { name: 'run', summary: 'Create and run a new container from an image', load: () => import('./run.js') },
  { name: 'pull', summary: 'Pull an image from a registry', load: () => import('./pull.js') },
  { name: 'images', summary: 'List images', load: () => import('./images.js') },
  { name: 'rmi', summary: 'Remove one or more images', load: () => import('./rmi.js') },
  { name: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: () => import('./tag.js') },
  { name: 'inspect', summary: 'Return low-level information on tsdock objects', load: () => import('./inspect.js') },
  { name: 'history', summary: 'Show the history of an image', load: () => import('./history.js') },
  { name: 'image', summary: 'Manage images', load: () => import('./image.js') },
  { name: 'volume', summary: 'Manage volumes', load: () => import('./volume.js') },
  { name: 'info', summary: 'Display system-wide information', load: () => import('./info.js') },
  { name: 'version', summary: 'Show the tsdock version information', load: () => import('./version.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
