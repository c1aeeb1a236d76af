import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { AUDIT_ARCH, compileSeccomp, defaultProfile, isUnconfinedProfile, parseProfile, seccompFilterFlags, seccompFor, seccompProfileFor } from '../../../src/ocispec/seccomp/index.js';
import { SYSCALLS_X86_64 } from '../../../src/ocispec/seccomp/syscalls-x86_64.js';
import { RET, decode, errno, run, verify } from './interp.js';

const SAMPLE = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] }
  ],
  "syscalls": [
    { "names": ["read", "write", "exit_group", "getpid", "not_a_syscall"], "action": "SCMP_ACT_ALLOW" },
    { "name": "close", "action": "SCMP_ACT_ALLOW", "comment": "old single-name form" },
    { "names": ["lseek"], "action": "SCMP_ACT_ERRNO", "errnoRet": 29,
      "args": [{ "index": 1, "value": 18446744073709551615, "valueTwo": 0, "op": "SCMP_CMP_EQ" }] },
    { "names": ["fchmod"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 1, "value": 3072, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }] },
    { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
    { "names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "4.8" } },
    { "names": ["unshare"], "action": "SCMP_ACT_TRAP", "excludes": { "caps": ["CAP_SYS_ADMIN"] }, "futureField": true }
  ]
}`;

describe('seccomp: docker-format profiles', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-seccomp-profile-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses a profile file and compiles it', () => {
    const file = path.join(dir, 'sample.json');
    fs.writeFileSync(file, SAMPLE);
    const p = parseProfile(fs.readFileSync(file, 'utf8'), file);
    assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(p.syscalls[1]!.names, ['close']);
    assert.equal(p.syscalls[2]!.args![0]!.value, 18446744073709551615n); // exact, not rounded to 2^64
    assert.equal(p.syscalls[3]!.args![0]!.value, 3072);
    assert.equal(p.syscalls[5]!.includes!.minKernel, '4.8');

    const prog = decode(compileSeccomp(p, { arch: 'x86_64', capabilities: ['CAP_CHOWN'], kernel: [6, 1] }));
    verify(prog);
    const r = (name: string, ...args: (number | bigint)[]) => run(prog, { nr: SYSCALLS_X86_64[name]!, arch: AUDIT_ARCH.X86_64, args });
    assert.equal(r('read'), RET.ALLOW);
    assert.equal(r('close'), RET.ALLOW);
    assert.equal(r('lseek', 0, (1n << 64n) - 1n), errno(29));
    assert.equal(r('lseek', 0, (1n << 64n) - 2n), errno(1));
    assert.equal(r('fchmod', 3, 0o644), RET.ALLOW);
    assert.equal(r('fchmod', 3, 0o4755), errno(1)); // setuid bit: (mode & 06000) != 0
    assert.equal(r('mount'), errno(1));
    assert.equal(r('ptrace'), RET.ALLOW);
    assert.equal(r('unshare'), RET.TRAP);
    assert.equal(r('keyctl'), errno(1));
    const admin = decode(compileSeccomp(p, { arch: 'x86_64', capabilities: ['CAP_SYS_ADMIN'], kernel: [4, 4] }));
    assert.equal(run(admin, { nr: SYSCALLS_X86_64.mount!, arch: AUDIT_ARCH.X86_64 }), RET.ALLOW);
    // unshare's rule is gone, and it is now above every syscall left in the filter: ENOSYS, as under runc
    assert.equal(run(admin, { nr: SYSCALLS_X86_64.unshare!, arch: AUDIT_ARCH.X86_64 }), errno(38));
    assert.equal(run(admin, { nr: SYSCALLS_X86_64.ptrace!, arch: AUDIT_ARCH.X86_64 }), errno(1));
    // i386 is part of the archMap: its section exists
    assert.equal(run(prog, { nr: 20, arch: AUDIT_ARCH.I386 }), RET.ALLOW);

    // through seccompFor as `--security-opt seccomp=<file>` hands it over
    assert.deepEqual(seccompFor({ path: file, content: SAMPLE }, ['CAP_CHOWN'], 'x86_64', [6, 1]), compileSeccomp(p, { arch: 'x86_64', capabilities: ['CAP_CHOWN'], kernel: [6, 1] }));
    assert.deepEqual(seccompFor({ path: file }, ['CAP_CHOWN'], 'x86_64', [6, 1]), compileSeccomp(p, { arch: 'x86_64', capabilities: ['CAP_CHOWN'], kernel: [6, 1] }));
    assert.throws(() => seccompFor({ path: path.join(dir, 'missing.json') }, [], 'x86_64'), /opening seccomp profile \(.*missing\.json\) failed/);
  });

  it('reports errors naming the file and the place', () => {
    const bad = (text: string, re: RegExp) => {
      assert.throws(
        () => parseProfile(text, '/etc/tsdock/seccomp.json'),
        (err: unknown) => err instanceof UsageError && err.message.startsWith('seccomp profile /etc/tsdock/seccomp.json: ') && re.test(err.message),
      );
    };
    bad('{', /invalid JSON/);
    bad('[]', /expected an object/);
    bad('{"defaultAction":"SCMP_ACT_NOPE","syscalls":[]}', /defaultAction: unknown action "SCMP_ACT_NOPE"/);
    bad('{"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}', /defaultAction: missing/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /syscalls\[0\]\.args\[0\]\.index: expected an integer from 0 to 5, got 6/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_FOO"}]}]}', /syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_FOO"/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}', /value: expected an unsigned 64-bit integer, got -1/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551616,"op":"SCMP_CMP_EQ"}]}]}', /got 18446744073709551616/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}', /syscalls\[0\]: both 'name' and 'names'/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}', /syscalls\[0\]: no syscall names/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}', /includes\.minKernel: invalid kernel version "4"/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":null}],"syscalls":[]}', /both 'architectures' and 'archMap'/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","architectures":["x86_64"],"syscalls":[]}', /architectures\[0\]: not an architecture name/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":70000}]}', /errnoRet: expected an integer from 0 to 65535/);
    bad('{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_NOPE"],"syscalls":[]}', /flags\[0\]: unknown flag/);
  });

  it('a profile with neither defaultAction nor syscalls means unconfined, as in docker', () => {
    assert.ok(isUnconfinedProfile(parseProfile('{}', 'x.json')));
    assert.ok(isUnconfinedProfile(parseProfile('{"defaultAction":"","syscalls":[]}', 'x.json')));
    assert.equal(seccompFor({ path: 'x.json', content: '{}' }, [], 'x86_64'), undefined);
    assert.equal(seccompProfileFor('default'), defaultProfile);
    assert.equal(seccompProfileFor('unconfined'), undefined);
  });

  it('keeps big integers exact only where they are numbers, and leaves strings alone', () => {
    const p = parseProfile('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"comment":"12345678901234567890 \\" 99999999999999999999","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":9007199254740993,"op":"SCMP_CMP_EQ"}]}]}', 'x.json');
    assert.equal(p.syscalls[0]!.comment, '12345678901234567890 " 99999999999999999999');
    assert.equal(p.syscalls[0]!.args![0]!.value, 9007199254740993n);
  });

  it('flags become SECCOMP_FILTER_FLAG_* bits', () => {
    const p = parseProfile('{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],"syscalls":[]}', 'x.json');
    assert.equal(seccompFilterFlags(p), 6);
    assert.equal(seccompFilterFlags(defaultProfile), 0);
  });

  it('the default profile survives a JSON round trip through the parser', () => {
    const json = JSON.stringify(defaultProfile);
    const p = parseProfile(json, 'default.json');
    assert.deepEqual(compileSeccomp(p, { arch: 'x86_64', capabilities: [], kernel: [6, 8] }), compileSeccomp(defaultProfile, { arch: 'x86_64', capabilities: [], kernel: [6, 8] }));
  });
});
