import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDeviceFilter } from '../../../src/cgroups/devicefilter.js';
import { deviceRules } from '../../../src/ocispec/devices.js';

/** A tiny interpreter for the instructions the compiler emits, to check the program's decisions. */
function run(prog: Buffer, type: 'b' | 'c', major: number, minor: number, access: string): number {
  const acc = [...access].reduce((a, ch) => a | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[ch]!, 0);
  const ctx = [(acc << 16) | (type === 'b' ? 1 : 2), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = prog[pc * 8]!;
    const dst = prog[pc * 8 + 1]! & 15;
    const src = prog[pc * 8 + 1]! >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = prog.readInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4]!; break;
      case 0xbc: r[dst] = r[src]!; break;
      case 0xb4: r[dst] = imm >>> 0; break;
      case 0x54: r[dst] = (r[dst]! & imm) >>> 0; break;
      case 0x74: r[dst] = r[dst]! >>> imm; break;
      case 0x56: if (r[dst] !== imm >>> 0) pc += off; break;
      case 0x95: return r[0]!;
      default: throw new Error(`unknown opcode ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end');
}

test('default rules: mknod anything, rw only the default devices; privileged: everything', () => {
  const prog = compileDeviceFilter(deviceRules(false));
  assert.equal(prog.length % 8, 0);
  assert.equal(run(prog, 'b', 8, 0, 'm'), 1, 'mknod of a disk');
  assert.equal(run(prog, 'b', 8, 0, 'r'), 0, 'reading a disk');
  assert.equal(run(prog, 'c', 1, 3, 'rw'), 1, '/dev/null');
  assert.equal(run(prog, 'c', 1, 11, 'r'), 0, '/dev/kmsg');
  assert.equal(run(prog, 'c', 136, 7, 'rw'), 1, 'a pty slave');
  assert.equal(run(prog, 'c', 5, 2, 'rwm'), 1, '/dev/ptmx');
  assert.equal(run(prog, 'c', 10, 200, 'rw'), 1, '/dev/net/tun');
  assert.equal(run(prog, 'c', 10, 201, 'rw'), 0);
  const all = compileDeviceFilter(deviceRules(true));
  assert.equal(all.length / 8, 7 + 2, 'loads, then allow and exit');
  assert.equal(run(all, 'b', 8, 0, 'rw'), 1);
});

test('the last matching rule wins; access subsets; no rule: denied', () => {
  const prog = compileDeviceFilter([
    { allow: true, type: 'c', major: 4, access: 'rw' },
    { allow: false, type: 'c', major: 4, minor: 1, access: 'w' },
  ]);
  assert.equal(run(prog, 'c', 4, 2, 'rw'), 1);
  assert.equal(run(prog, 'c', 4, 1, 'r'), 1, 'the deny covers writes only');
  assert.equal(run(prog, 'c', 4, 1, 'w'), 0);
  assert.equal(run(prog, 'c', 4, 2, 'm'), 0, 'mknod not granted');
  assert.equal(run(prog, 'b', 4, 2, 'r'), 0, 'other type');
});
