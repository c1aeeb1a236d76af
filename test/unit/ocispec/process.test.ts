import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  envValue,
  mergeEnv,
  parseGroup,
  parsePasswd,
  resolveArgs,
  resolveRlimits,
  resolveUser,
  resolveWorkdir,
  rlimitOf,
  type Ulimit,
} from '../../../src/ocispec/process.js';
import { RLIM_INFINITY } from '../../../src/ocispec/types.js';
import { parseEnvFile, parseEnvFlag, userEnvironment } from '../../../src/cli/opts/env.js';
import { ulimitFlag } from '../../../src/cli/opts/values.js';

/** `--ulimit` as the CLI reads it, then as the spec's rlimit */
const parseUlimit = (v: string) => rlimitOf(ulimitFlag(v));
const ulimits = (vs: string[]): Ulimit[] => vs.map(ulimitFlag);
import { GROUP, PASSWD } from './fixtures.js';

const img = (Entrypoint: string[] | null, Cmd: string[] | null) => ({ Entrypoint, Cmd });

test('args: Entrypoint + Cmd, command replaces Cmd', () => {
  assert.deepEqual(resolveArgs(img(null, ['sh']), { command: [] }), ['sh']);
  assert.deepEqual(resolveArgs(img(['/entry.sh'], ['serve']), { command: [] }), ['/entry.sh', 'serve']);
  assert.deepEqual(resolveArgs(img(['/entry.sh'], ['serve']), { command: ['bash'] }), ['/entry.sh', 'bash']);
  assert.deepEqual(resolveArgs(undefined, { command: ['ls', '-l'] }), ['ls', '-l']);
});

test("args: --entrypoint drops the image's Cmd; --entrypoint '' clears both", () => {
  assert.deepEqual(resolveArgs(img(['/entry.sh'], ['serve']), { entrypoint: ['ls'], command: [] }), ['ls']);
  assert.deepEqual(resolveArgs(img(['/entry.sh'], ['serve']), { entrypoint: ['ls'], command: ['-l'] }), ['ls', '-l']);
  assert.deepEqual(resolveArgs(img(['/entry.sh'], ['serve']), { entrypoint: [''], command: ['id'] }), ['id']);
  assert.throws(() => resolveArgs(img(['/entry.sh'], ['serve']), { entrypoint: [''], command: [] }), { message: 'no command specified' });
  assert.throws(() => resolveArgs(img(null, null), { command: [] }), { message: 'no command specified' });
});

test('-e: K=V as is, K from the host, unset K stays bare', () => {
  const host = { A: 'from-host', E: '' };
  assert.equal(parseEnvFlag('X=1=2', host), 'X=1=2');
  assert.equal(parseEnvFlag('A', host), 'A=from-host');
  assert.equal(parseEnvFlag('E', host), 'E=');
  assert.equal(parseEnvFlag('NOPE', host), 'NOPE');
  assert.equal(parseEnvFlag('X=', host), 'X=');
  assert.throws(() => parseEnvFlag('=v', host), { message: 'invalid environment variable: =v' });
});

test('env file: comments, blanks, BOM, CRLF, bare names, values verbatim', () => {
  const content = '\uFEFF# comment\r\n\r\n  KEY=a value with spaces  \r\n\tQUOTED="x"\nBARE\nMISSING\n   # indented comment\nEQ=a=b\n';
  assert.deepEqual(parseEnvFile(content, { BARE: 'b' }), ['KEY=a value with spaces  ', 'QUOTED="x"', 'BARE=b', 'MISSING', 'EQ=a=b']);
  assert.throws(() => parseEnvFile('A B=1\n', {}, 'x.env'), { message: "x.env: poorly formatted environment: variable 'A B' contains whitespaces" });
  assert.throws(() => parseEnvFile('=1\n', {}), { message: "poorly formatted environment: no variable name on line '=1'" });
});

test('user env: env files first, then -e (which wins)', () => {
  assert.deepEqual(userEnvironment({ env: ['A=flag'], envFiles: ['A=file\nB=file\n'], hostEnv: {} }), ['A=file', 'B=file', 'A=flag']);
});

test("env merge: docker's order, PATH replaced in place, bare K unsets, HOME added", () => {
  const env = mergeEnv({
    imageEnv: ['PATH=/opt/bin:/bin', 'LANG=C', 'KEEP=1', 'DROP=1'],
    userEnv: ['A=file', 'B=2', 'A=flag', 'DROP', 'HOSTNAME'],
    hostname: 'h',
    tty: true,
    home: '/root',
  });
  assert.deepEqual(env, ['PATH=/opt/bin:/bin', 'TERM=xterm', 'A=flag', 'B=2', 'LANG=C', 'KEEP=1', 'HOME=/root']);
  assert.equal(envValue(env, 'PATH'), '/opt/bin:/bin');
  assert.deepEqual(mergeEnv({ imageEnv: null, userEnv: ['HOME=/x'], hostname: 'h', tty: false, home: '/root' }), [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=h',
    'HOME=/x',
  ]);
});

test('workdir: -w, image, /; absolute and cleaned', () => {
  assert.equal(resolveWorkdir(undefined, undefined), '/');
  assert.equal(resolveWorkdir(undefined, '/app/'), '/app');
  assert.equal(resolveWorkdir('/data//x/../y/', '/app'), '/data/y');
  assert.throws(() => resolveWorkdir('rel', undefined), { message: "the working directory 'rel' is invalid, it needs to be an absolute path" });
});

test('passwd/group parsing', () => {
  const users = parsePasswd(PASSWD);
  assert.equal(users.length, 10);
  assert.deepEqual(users[9], { name: 'app', password: 'x', uid: 1000, gid: 1000, gecos: 'App', home: '/home/app', shell: '/bin/sh' });
  assert.deepEqual(parseGroup(GROUP).find((g) => g.name === 'audio')!.members, ['app', 'nobody']);
});

test('-u: names, numbers, groups, supplementary groups', () => {
  const files = { passwd: PASSWD, group: GROUP };
  assert.deepEqual(resolveUser('', files), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root', username: 'root' });
  assert.deepEqual(resolveUser('app', files), { uid: 1000, gid: 1000, additionalGids: [1000, 50, 29], home: '/home/app', username: 'app' });
  assert.deepEqual(resolveUser('1000', files), { uid: 1000, gid: 1000, additionalGids: [1000, 50, 29], home: '/home/app', username: 'app' });
  // explicit group: no supplementary groups
  assert.deepEqual(resolveUser('app:staff', files), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app', username: 'app' });
  assert.deepEqual(resolveUser('app:4242', files), { uid: 1000, gid: 4242, additionalGids: [4242], home: '/home/app', username: 'app' });
  // numeric and unknown: gid 0, home /
  assert.deepEqual(resolveUser('4242', files), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser('4242:4343', files), { uid: 4242, gid: 4343, additionalGids: [4343], home: '/' });
  // --group-add
  assert.deepEqual(resolveUser('app', files, ['wheel', '777']).additionalGids, [1000, 50, 29, 10, 777]);
  // no passwd file at all
  assert.deepEqual(resolveUser('', {}), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser('33:33', {}), { uid: 33, gid: 33, additionalGids: [33], home: '/' });
});

test('-u errors: docker wording', () => {
  const files = { passwd: PASSWD, group: GROUP };
  assert.throws(() => resolveUser('ghost', files), { message: 'unable to find user ghost: no matching entries in passwd file' });
  assert.throws(() => resolveUser('ghost', {}), { message: 'unable to find user ghost: no matching entries in passwd file' });
  assert.throws(() => resolveUser('app:ghosts', files), { message: 'unable to find group ghosts: no matching entries in group file' });
  assert.throws(() => resolveUser('2147483648', files), { message: 'uids and gids must be in range 0-2147483647' });
  assert.throws(() => resolveUser('app', files, ['ghosts']), { message: 'unable to find group ghosts: no matching entries in group file' });
});

test('--ulimit parsing', () => {
  assert.deepEqual(parseUlimit('nofile=1024'), { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 });
  assert.deepEqual(parseUlimit('nproc=10:20'), { type: 'RLIMIT_NPROC', soft: 10, hard: 20 });
  assert.deepEqual(parseUlimit('memlock=-1:-1'), { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY });
  assert.deepEqual(parseUlimit('core=0:-1'), { type: 'RLIMIT_CORE', soft: 0, hard: RLIM_INFINITY });
  assert.throws(() => parseUlimit('nofile'), { message: 'invalid ulimit argument: nofile' });
  assert.throws(() => parseUlimit('files=1'), { message: 'invalid ulimit type: files' });
  assert.throws(() => parseUlimit('nofile=2:1'), { message: 'ulimit soft limit must be less than or equal to hard limit: 2 > 1' });
  assert.throws(() => parseUlimit('nofile=-1:10'), { message: 'ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 10' });
  assert.throws(() => parseUlimit('nofile=1:2:3'), /too many limit value arguments/);
  assert.throws(() => parseUlimit('nofile=abc'), { message: 'invalid ulimit value "abc" for nofile' });
});

test('rlimits: defaults capped to the hard limits, never raised', () => {
  assert.deepEqual(resolveRlimits([], { hardNofile: 20000, hardNproc: 4000000 }), [
    { type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 },
    { type: 'RLIMIT_NPROC', hard: 1048576, soft: 1048576 },
  ]);
  assert.throws(() => resolveRlimits(ulimits(['nofile=-1']), { hardNofile: 20000 }), /hard limit unlimited is above the current hard limit 20000/);
  assert.deepEqual(resolveRlimits(ulimits(['nofile=100:20000', 'stack=8192']), { hardNofile: 20000 })[0], { type: 'RLIMIT_NOFILE', soft: 100, hard: 20000 });
});
