import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { boolFlag } from '../../../src/cli/flag-values.js';
import { register as registerPull } from '../../../src/cli/commands/pull.js';
import { register as registerRun } from '../../../src/cli/commands/run.js';
import { register as registerCreate } from '../../../src/cli/commands/create.js';
import type { CliContext } from '../../../src/cli/context.js';

test('boolFlag reads a value as Go strconv.ParseBool does', () => {
  assert.equal(boolFlag(undefined), true);
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(boolFlag(v), true, v);
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(boolFlag(v), false, v);
  for (const v of ['', 'yes', 'no', 'tRUE', '2', 'off']) assert.throws(() => boolFlag(v), /strconv.ParseBool: parsing ".*": invalid syntax/, v);
});

/** The options a verb's action would get for `argv`, without running it. */
function parsedOptions(register: (p: Command, cli: CliContext) => void, argv: string[]): Record<string, unknown> {
  const program = new Command().exitOverride().enablePositionalOptions();
  register(program, {} as CliContext);
  let opts: Record<string, unknown> | undefined;
  program.hook('preAction', (_root, action) => {
    opts = action.opts();
    throw new Error('parsed');
  });
  assert.throws(() => program.parse(argv, { from: 'user' }), /parsed/);
  return opts!;
}

test('pull, run and create read --tls-verify the same way (they differed on 0, f, F, FALSE)', () => {
  for (const [value, want] of [['0', false], ['f', false], ['FALSE', false], ['false', false], ['1', true], ['t', true], ['true', true]] as const) {
    assert.equal(parsedOptions(registerPull, ['pull', `--tls-verify=${value}`, 'alpine']).tlsVerify, want, `pull ${value}`);
    assert.equal(parsedOptions(registerRun, ['run', `--tls-verify=${value}`, 'alpine', 'true']).tlsVerify, want, `run ${value}`);
    assert.equal(parsedOptions(registerCreate, ['create', `--tls-verify=${value}`, 'alpine']).tlsVerify, want, `create ${value}`);
  }
  assert.equal(parsedOptions(registerRun, ['run', '--tls-verify', '--rm', 'alpine']).tlsVerify, true);
});
