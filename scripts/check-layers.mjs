#!/usr/bin/env node
// Enforces the layer table of docs/architecture.md ("may import"), read from the document itself: each
// src/<module>/ imports only itself, the modules its row names and the shared files (src/*.ts: errors, trace,
// version, context). "domain modules" stands for the domain rows; "X types" (or "X/file types") allows
// type-only imports (`import type`, `export type`) of X; a parenthesis is the reason and is not parsed. Only
// src/cli imports commander/chalk/ora, only src/sys koffi. Exits 1 listing each file and its forbidden edge.
//   node scripts/check-layers.mjs [--root <repo>]   (default: this repository; tests point it at a fixture)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argRoot = process.argv.indexOf('--root');
const repo = argRoot > 0 ? path.resolve(process.argv[argRoot + 1] ?? '.') : path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(repo, 'src');
const DOMAIN = ['image', 'storage', 'ocispec', 'runtime', 'container', 'cgroups', 'network', 'volume', 'state', 'config', 'build', 'doctor', 'events'];
const SHARED_NAMES = { errors: 'errors.ts', trace: 'trace.ts', version: 'version.ts', context: 'context.ts' };
const violations = [];

/** A cell's comma-separated entries outside parentheses, each without its parenthesised reason. */
function entries(cell) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (const ch of cell) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else if (depth === 0) cur += ch;
  }
  out.push(cur);
  return out.map((e) => e.replace(/`/g, '').trim()).filter((e) => e && e !== '—' && e !== '-');
}

/** module → [{ target, typesOnly, file? }] from the rows `| \`src/<module>/\` | … | may import |`. */
function readTable() {
  const doc = fs.readFileSync(path.join(repo, 'docs', 'architecture.md'), 'utf8');
  const rows = new Map();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`src\/([\w-]+)\/`\s*\|.*\|([^|]*)\|\s*$/.exec(line);
    if (!m) continue;
    const allowed = [];
    for (const e of entries(m[2])) {
      const typesOnly = / types$/.test(e);
      const name = e.replace(/ types$/, '').trim();
      if (name === 'domain modules') allowed.push(...DOMAIN.map((target) => ({ target, typesOnly })));
      else if (name in SHARED_NAMES) continue; // shared by every layer anyway
      else {
        const [target, ...rest] = name.split('/');
        allowed.push({ target, typesOnly, file: rest.length ? `${rest.join('/')}.ts` : undefined });
      }
    }
    rows.set(m[1], allowed);
  }
  return rows;
}

const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

/** The module specifiers of a file: { spec, typesOnly }. */
function importsOf(text) {
  const out = [];
  for (const m of text.matchAll(/\b(import|export)\s+(type\s+)?([^;'"`]*?)\bfrom\s*['"]([^'"]+)['"]/g)) {
    const names = m[3].trim();
    const braces = /^\{([^}]*)\}$/.exec(names);
    const allTyped = braces ? braces[1].split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type ')) && braces[1].trim() !== '' : false;
    out.push({ spec: m[4], typesOnly: Boolean(m[2]) || allTyped });
  }
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[1] ?? m[2], typesOnly: false });
  return out;
}

const table = readTable();
const shared = new Set(Object.values(SHARED_NAMES));
for (const file of walk(src)) {
  const rel = path.relative(src, file);
  const parts = rel.split(path.sep);
  const layer = parts.length === 1 ? undefined : parts[0];
  const where = `src/${rel.split(path.sep).join('/')}`;
  if (layer === undefined && !shared.has(rel)) {
    violations.push(`${where}: a file at the top of src/ is shared by every layer; only ${[...shared].join(', ')} are (docs/architecture.md)`);
    continue;
  }
  if (layer !== undefined && !table.has(layer)) {
    violations.push(`${where}: src/${layer}/ has no row in the layer table of docs/architecture.md`);
    continue;
  }
  for (const { spec, typesOnly } of importsOf(fs.readFileSync(file, 'utf8'))) {
    const bad = (why) => violations.push(`${where}: imports ${spec} (${why})`);
    if (['commander', 'chalk', 'ora'].includes(spec) && layer !== 'cli') bad('CLI libraries only in src/cli');
    if (spec === 'koffi' && layer !== 'sys') bad('koffi only in src/sys');
    if (!spec.startsWith('.')) continue;
    const targetRel = path.relative(src, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    const tparts = targetRel.split(path.sep);
    if (tparts[0] === '..') {
      bad('outside src/');
      continue;
    }
    if (tparts.length === 1) {
      if (!shared.has(tparts[0])) bad(`src/${tparts[0]} is not a shared file`);
      continue;
    }
    const target = tparts[0];
    if (layer === undefined) {
      bad(`the shared files import only each other; ${rel} → ${target}`);
      continue;
    }
    if (target === layer) continue;
    const rows = table.get(layer);
    const fileInTarget = tparts.slice(1).join('/');
    const ok = rows.some((r) => r.target === target && (!r.typesOnly || typesOnly) && (!r.file || r.file === fileInTarget));
    if (!ok) {
      const row = rows.map((r) => `${r.target}${r.file ? `/${r.file.replace(/\.ts$/, '')}` : ''}${r.typesOnly ? ' types' : ''}`).join(', ') || 'nothing';
      bad(`${layer} → ${target}${rows.some((r) => r.target === target) ? ' (a value import)' : ''} is not in ${layer}'s row of docs/architecture.md: ${row}`);
    }
  }
}
const pkgPath = path.join(repo, 'package.json');
if (fs.existsSync(pkgPath) && fs.existsSync(path.join(src, 'version.ts'))) {
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  if (!fs.readFileSync(path.join(src, 'version.ts'), 'utf8').includes(`'${pkg.version}'`)) violations.push(`src/version.ts: VERSION differs from package.json ${pkg.version}`);
}
if (violations.length) {
  console.error(violations.join('\n'));
  process.exit(1);
}
console.log('layers ok');
