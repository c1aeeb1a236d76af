import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ExecStep } from '../../../src/runtime/plan-encode.js';
import { repoRoot } from '../ocispec/golden.js';

// native/codes.h is generated from ExecStep (scripts/gen-native-codes.mjs): the executor and TypeScript must agree
// on every negative step code of an `error <step> <errno>` line, or a failure is reported as the wrong step.
const native = path.join(repoRoot(), 'native');
const cName = (name: string) => `E_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;

describe('native step codes', () => {
  it('native/codes.h lists exactly the ExecStep codes, with the same numbers', () => {
    const header = fs.readFileSync(path.join(native, 'codes.h'), 'utf8');
    const inC = Object.fromEntries([...header.matchAll(/^\s*(E_[A-Z0-9_]+) = (-\d+),$/gm)].map((m) => [m[1], Number(m[2])]));
    const inTs = Object.fromEntries(Object.entries(ExecStep).map(([k, v]) => [cName(k), v]));
    assert.deepEqual(inC, inTs);
    assert.equal(new Set(Object.values(inTs)).size, Object.keys(inTs).length, 'ExecStep codes are distinct');
  });

  it('no executor source keeps a list of its own, and every E_* it uses is generated', () => {
    const header = fs.readFileSync(path.join(native, 'codes.h'), 'utf8');
    for (const f of fs.readdirSync(native).filter((n) => /\.[ch]$/.test(n) && n !== 'codes.h')) {
      const text = fs.readFileSync(path.join(native, f), 'utf8');
      assert.doesNotMatch(text, /\bE_[A-Z0-9_]+ = -\d+/, `${f} defines step codes by hand`);
      for (const [used] of text.matchAll(/\bE_[A-Z][A-Z0-9_]*\b/g)) assert.match(header, new RegExp(`\\b${used} = `), `${f} uses ${used}, which native/codes.h lacks`);
    }
  });
});
