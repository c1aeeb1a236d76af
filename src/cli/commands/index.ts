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
  { name: 'ps', summary: 'List containers', load: () => import('./ps.js') },
  { name: 'logs', summary: 'Fetch the logs of a container', load: () => import('./logs.js') },
  { name: 'rm', summary: 'Remove one or more containers', load: () => import('./rm.js') },
  { name: 'wait', summary: 'Block until one or more containers stop, then print their exit codes', load: () => import('./wait.js') },
  { name: 'rename', summary: 'Rename a container', load: () => import('./rename.js') },
  { name: 'create', summary: 'Create a new container', load: () => import('./create.js') },
  { name: 'start', summary: 'Start one or more stopped containers', load: () => import('./start.js') },
  { name: 'stop', summary: 'Stop one or more running containers', load: () => import('./stop.js') },
  { name: 'kill', summary: 'Kill one or more running containers', load: async () => {
    const m = await import('./stop.js');
    return { register: (p, c) => m.register(p, c, 'kill') };
  } },
  { name: 'restart', summary: 'Restart one or more containers', load: async () => {
    const m = await import('./stop.js');
    return { register: (p, c) => m.register(p, c, 'restart') };
  } },
  { name: 'exec', summary: 'Execute a command in a running container', load: () => import('./exec.js') },
  { name: 'attach', summary: 'Attach local standard input, output, and error streams to a running container', load: () => import('./attach.js') },
  { name: 'cp', summary: 'Copy files/folders between a container and the local filesystem', load: () => import('./cp.js') },
  { name: 'diff', summary: "Inspect changes to files or directories on a container's filesystem", load: () => import('./diff.js') },
  { name: 'export', summary: "Export a container's filesystem as a tar archive", load: () => import('./export.js') },
  { name: 'commit', summary: "Create a new image from a container's changes", load: () => import('./commit.js') },
  { name: 'top', summary: 'Display the running processes of a container', load: () => import('./top.js') },
  { name: 'stats', summary: 'Display a live stream of container(s) resource usage statistics', load: () => import('./stats.js') },
  { name: 'update', summary: 'Update configuration of one or more containers', load: () => import('./update.js') },
  { name: 'pause', summary: 'Pause all processes within one or more containers', load: () => import('./pause.js') },
  { name: 'unpause', summary: 'Unpause all processes within one or more containers', load: async () => {
    const m = await import('./pause.js');
    return { register: (p, c) => m.register(p, c, 'unpause') };
  } },
  { name: 'pull', summary: 'Pull an image from a registry', load: () => import('./pull.js') },
  { name: 'push', summary: 'Upload an image to a registry', load: () => import('./push.js') },
  { name: 'login', summary: 'Log in to a registry', load: () => import('./login.js') },
  { name: 'logout', summary: 'Log out from a registry', load: () => import('./logout.js') },
  { name: 'save', summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: () => import('./save.js') },
  { name: 'load', summary: 'Load an image from a tar archive or STDIN', load: () => import('./load.js') },
  { name: 'import', summary: 'Import the contents from a tarball to create a filesystem image', load: () => import('./import.js') },
  { name: 'images', summary: 'List images', load: () => import('./images.js') },
  { name: 'build', summary: 'Build an image from a Dockerfile', load: () => import('./build.js') },
  { name: 'buildx', summary: 'Docker Buildx (build is the one subcommand)', load: () => import('./buildx.js') },
  { name: 'rmi', summary: 'Remove one or more images', load: () => import('./rmi.js') },
  { name: 'tag', summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: () => import('./tag.js') },
  { name: 'inspect', summary: 'Return low-level information on tsdock objects', load: () => import('./inspect.js') },
  { name: 'history', summary: 'Show the history of an image', load: () => import('./history.js') },
  { name: 'container', summary: 'Manage containers', load: () => import('./container.js') },
  { name: 'image', summary: 'Manage images', load: () => import('./image.js') },
  { name: 'manifest', summary: 'Manage manifest lists and image indexes', load: () => import('./manifest.js') },
  { name: 'volume', summary: 'Manage volumes', load: () => import('./volume.js') },
  { name: 'network', summary: 'Manage networks', load: () => import('./network.js') },
  { name: 'builder', summary: 'Manage builds', load: () => import('./builder.js') },
  { name: 'system', summary: 'Manage tsdock', load: () => import('./system.js') },
  { name: 'port', summary: 'List port mappings or a specific mapping for the container', load: () => import('./port.js') },
  { name: 'events', summary: 'Get real time events from the server', load: () => import('./events.js') },
  { name: 'info', summary: 'Display system-wide information', load: () => import('./info.js') },
  { name: 'doctor', summary: 'Check this host for what tsdock needs, and say how to fix what is missing', load: () => import('./doctor.js') },
  { name: 'version', summary: 'Show the tsdock version information', load: () => import('./version.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}
