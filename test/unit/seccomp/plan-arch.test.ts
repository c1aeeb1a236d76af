// One seccomp decision for run's init and exec's process (seccompPlanFor): on an architecture without a syscall
// table a profile is refused, never silently skipped (exec used to run unfiltered where run refused).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TsdockError } from '../../../src/errors.js';
import { seccompPlanFor } from '../../../src/ocispec/seccomp/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function withArch<T>(arch: string, fn: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(process, 'arch')!;
  Object.defineProperty(process, 'arch', { value: arch, configurable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(process, 'arch', saved);
  }
}

describe('seccompPlanFor: run and exec decide alike', () => {
  it('refuses the default profile, and a profile file, on an architecture with no syscall table', () => {
    withArch('riscv64', () => {
      assert.throws(() => seccompPlanFor('default', ['CAP_CHOWN']), (e: unknown) => e instanceof TsdockError && /seccomp: unsupported architecture riscv64 \(use --security-opt seccomp=unconfined\)/.test(e.message));
      const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
      assert.throws(() => seccompPlanFor({ path: '/p.json', content: profile }, []), /unsupported architecture riscv64/);
    });
  });
  it('unconfined needs no table; a supported architecture gets the program and its flags', () => {
    withArch('riscv64', () => assert.deepEqual(seccompPlanFor('unconfined', []), {}));
    const p = seccompPlanFor('default', ['CAP_CHOWN'], { arch: 'x86_64' });
    assert.ok(p.seccomp && p.seccomp.length > 0 && p.seccomp.length % 8 === 0);
    assert.equal(typeof p.seccompFlags, 'number');
  });
  it('is the only seccomp decision of run (containerPlan) and exec', () => {
    for (const f of ['src/container/exec-join-plan.ts', 'src/container/exec-plan.ts']) {
      const src = fs.readFileSync(path.join(repo, f), 'utf8');
      assert.match(src, /seccompPlanFor\(/, f);
      assert.doesNotMatch(src, /nativeSeccompArch|seccompFor\(|compileSeccomp/, `${f} decides seccomp itself`);
    }
  });
});
