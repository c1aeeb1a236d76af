#!/usr/bin/env node
// Enforces the dependency direction cli → api → domain modules → sys (docs/architecture.md):
// only src/cli imports commander/chalk/ora, only src/sys imports koffi, api never imports cli,
// domain modules never import api or cli. Exits 1 listing violations.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'src');
const violations = [];
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
for (const file of walk(src)) {
  const rel = path.relative(src, file);
  const layer = rel.split(path.sep)[0];
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from\s+|import\()\s*'([^']+)'/g)) {
    const spec = m[1];
    const bad = (why) => violations.push(`${rel}: imports ${spec} (${why})`);
    if (['commander', 'chalk', 'ora'].includes(spec) && layer !== 'cli') bad('CLI libraries only in src/cli');
    if (spec === 'koffi' && layer !== 'sys') bad('koffi only in src/sys');
    if (!spec.startsWith('.')) continue;
    const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
    if (layer !== 'cli' && target === 'cli') bad('nothing below cli imports cli');
    if (!['cli', 'api'].includes(layer) && target === 'api' && !spec.endsWith('context.js')) bad('domain modules do not import api');
    if (layer === 'sys' && !['sys', 'errors.ts'].includes(target)) bad('sys imports nothing above it');
  }
}
const pkg = JSON.parse(fs.readFileSync(path.join(src, '..', 'package.json'), 'utf8'));
if (!fs.readFileSync(path.join(src, 'version.ts'), 'utf8').includes(`'${pkg.version}'`)) violations.push(`src/version.ts: VERSION differs from package.json ${pkg.version}`);
if (violations.length) {
  console.error(violations.join('\n'));
  process.exit(1);
}
console.log('layers ok');
