import fs from 'node:fs';
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import {
  manifestAdd,
  manifestAnnotate,
  manifestCreate,
  manifestExists,
  manifestInspect,
  manifestPush,
  manifestRm,
  parsePushFormat,
  type EntryAnnotation,
  type RegistryAccess,
} from '../../api/manifest.js';
import { layerProgress } from '../render/progress.js';
import { boolFlag } from '../flag-values.js';
import { collect } from '../opts/flags.js';
import { keyValues } from '../opts/values.js';

interface RegistryFlags {
  tlsVerify?: boolean;
  certDir?: string;
  creds?: string;
  authfile?: string;
}

interface EntryFlags {
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  features: string[];
  annotation: string[];
}

function withRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates (default true)', boolFlag)
    .option('--cert-dir <dir>', 'Directory of CA certificates (certs.d layout: <host:port>/ca.crt)')
    .option('--creds <user:password>', 'Credentials for the registry')
    .option('--authfile <file>', 'Path of an auth file (docker config.json format)');
}

function withEntryFlags(cmd: Command): Command {
  return cmd
    .option('--os <os>', 'Set the operating system of the entry')
    .option('--arch <arch>', 'Set the architecture of the entry')
    .option('--variant <variant>', 'Set the architecture variant of the entry')
    .option('--os-version <version>', 'Set the operating system version of the entry')
    .option('--features <feature>', 'Set the operating system features of the entry', collect, [])
    .option('--annotation <key=value>', 'Set an annotation on the entry', collect, []);
}

function access(o: RegistryFlags): RegistryAccess {
  return { tlsVerify: o.tlsVerify, certDir: o.certDir, creds: o.creds, authFile: o.authfile };
}

function annotation(o: EntryFlags): EntryAnnotation {
  return {
    os: o.os,
    architecture: o.arch,
    variant: o.variant,
    osVersion: o.osVersion,
    osFeatures: o.features.length ? o.features.flatMap((f) => f.split(',')) : undefined,
    annotations: keyValues(o.annotation, { flag: '--annotation' }),
  };
}

/** `tsdock manifest create|add|annotate|inspect|push|rm|exists` (podman's and docker's manifest verbs). */
export function register(program: Command, cli: CliContext): void {
  const manifest = program.command('manifest').description('Manage manifest lists and image indexes');

  withRegistryFlags(
    manifest
      .command('create')
      .description('Create a manifest list (an OCI image index unless --format v2s2), optionally with images')
      .argument('<list>', 'name of the list (an unqualified name is localhost/NAME)')
      .argument('[images...]', 'local images or registry references (docker://REF) to add')
      .option('-a, --amend', 'Modify the list if it exists')
      .option('--all', 'Add every entry of an image that is itself a list')
      .option('-f, --format <format>', 'Format of the list: oci or v2s2'),
  ).action(async (list: string, images: string[], o: RegistryFlags & { amend?: boolean; all?: boolean; format?: string }) => {
    const format = o.format !== undefined ? parsePushFormat(o.format) : undefined;
    cli.out(await manifestCreate({ list, images, amend: o.amend, all: o.all, format, ...access(o) }, cli.api()));
  });

  withEntryFlags(
    withRegistryFlags(
      manifest
        .command('add')
        .description('Add an image (or every image of a list, with --all) to a manifest list')
        .argument('<list>', 'the local list')
        .argument('<image>', 'a local image or a registry reference (docker://REF)')
        .option('--all', 'Add every entry of an image that is itself a list'),
    ),
  ).action(async (list: string, image: string, o: RegistryFlags & EntryFlags & { all?: boolean }) => {
    cli.out(await manifestAdd({ list, image, all: o.all, ...access(o), ...annotation(o) }, cli.api()));
  });

  withEntryFlags(
    manifest
      .command('annotate')
      .description("Set an entry's platform fields and annotations in a manifest list")
      .argument('<list>', 'the local list')
      .argument('<image>', "the entry: its digest, or a local image whose manifest it is"),
  ).action(async (list: string, image: string, o: EntryFlags) => {
    cli.out(await manifestAnnotate({ list, image, ...annotation(o) }, cli.api()));
  });

  withRegistryFlags(
    manifest
      .command('inspect')
      .description('Display a manifest list or image index (local, or from a registry)')
      .argument('<name>', 'a local list, or a registry reference'),
  ).action(async (name: string, o: RegistryFlags) => {
    cli.out(JSON.stringify(await manifestInspect({ name, ...access(o) }, cli.api()), null, 4));
  });

  withRegistryFlags(
    manifest
      .command('push')
      .description('Push a manifest list (and, by default, the images it lists) to a registry')
      .argument('<list>', 'the local list')
      .argument('[destination]', 'REGISTRY/REPOSITORY[:TAG] (default: the list name)')
      .option('--all [bool]', 'Push the images the list names too (default true)', boolFlag)
      .option('-f, --format <format>', 'Manifest format to push: oci or v2s2 (default: as created)')
      .option('--digestfile <file>', 'Write the pushed list digest to this file')
      .option('--rm', 'Remove the local list after a successful push')
      .option('-q, --quiet', 'Do not print progress'),
  ).action(async (list: string, dest: string | undefined, o: RegistryFlags & { all?: boolean; format?: string; digestfile?: string; rm?: boolean; quiet?: boolean }) => {
    const format = o.format !== undefined ? parsePushFormat(o.format) : undefined;
    const progress = o.quiet ? undefined : layerProgress(cli);
    const ctx = cli.api();
    ctx.progress = progress?.onEvent;
    const result = await manifestPush({ list, destination: dest, all: o.all, format, rm: o.rm, ...access(o) }, ctx);
    progress?.done();
    if (o.digestfile) fs.writeFileSync(o.digestfile, result.digest);
    cli.out(result.digest);
  });

  manifest
    .command('rm')
    .alias('remove')
    .description('Remove manifest lists from local storage (their images stay)')
    .argument('<lists...>', 'local lists')
    .action(async (lists: string[]) => {
      for (const name of lists) {
        const r = await manifestRm(name, cli.api());
        for (const n of r.untagged) cli.out(`Untagged: ${n}`);
        cli.out(`Deleted: ${r.deleted}`);
      }
    });

  manifest
    .command('exists')
    .description('Exit 0 when a local manifest list exists, 1 when not')
    .argument('<list>', 'the local list')
    .action(async (list: string) => {
      if (!(await manifestExists(list, cli.api()))) process.exitCode = 1;
    });
}
