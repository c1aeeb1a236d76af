// The CLI's loader (bin/tsdock runs it): it runs the bundled CLI (dist/bundle/tsdock.cjs, built by
// scripts/bundle.mjs) through vm.Script with a V8 code cache kept per verb, so a start skips re-compiling what the
// same verb compiled before. The cache lives
// beside the bundle, or under $XDG_CACHE_HOME/tsdock when that directory is not writable; a missing, unreadable
// or rejected cache only costs the compile. `--version` alone loads nothing else.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const { createRequire } = Module;

/** the global options that take a value (src/cli/main.ts), skipped when looking for the verb */
const VALUED = ['--root', '--runroot', '--storage-driver', '--log-level'];

// the launcher (native/launch) deferred NODE_EXTRA_CA_CERTS: tsdock's https client applies the file itself
// (src/image/registry/trust.ts); the variable goes back for what tsdock starts and for `run -e NODE_EXTRA_CA_CERTS`
if (process.env.TSDOCK_EXTRA_CA_CERTS && process.env.NODE_EXTRA_CA_CERTS === undefined) process.env.NODE_EXTRA_CA_CERTS = process.env.TSDOCK_EXTRA_CA_CERTS;
const args = process.argv.slice(2);
const dir = path.join(__dirname, '..', 'dist', 'bundle');
try {
  if (onlyVersion(args)) {
    process.stdout.write(`${require(path.join(dir, 'version.cjs')).VERSION}\n`);
  } else {
    // rootless: re-execute inside the user namespace before paying for loading the CLI here
    const reexec = process.getuid() !== 0 && !process.env.TSDOCK_USERNS ? require(path.join(dir, 'userns.cjs')).reexec(args) : undefined;
    if (reexec) reexec.then((code) => (process.exitCode = code ?? 0));
    else load(args);
  }
} catch (err) {
  process.stderr.write(`Error: tsdock is not built (${err.code ?? err.message}); run npm run build\n`);
  process.exitCode = 125;
}

/** a short hash of a string (32-bit FNV-1a, hex) */
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

/** `--version` / `-v`, alone or after global options (`--root DIR --version`, as scripts and benchmarks call it) */
function onlyVersion(argv) {
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUED.includes(a) && i + 1 < argv.length) {
      if (a === '--log-level' && !['debug', 'info', 'warn', 'error'].includes(argv[i + 1])) return false;
      i++;
    } else if (!VALUED.some((v) => a.startsWith(`${v}=`))) rest.push(a);
  }
  return rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v');
}

/** The same verb's caches of other builds (a cache dir outside the bundle outlives them): removed once a new one is made. */
function dropStale(dir, keep, prefix) {
  try {
    for (const n of fs.readdirSync(dir)) if (n !== keep && n.startsWith(prefix) && n.endsWith('.cache') && /^\.[0-9]+-[0-9]+\.cache$/.test(n.slice(prefix.length - 1))) fs.rmSync(path.join(dir, n), { force: true });
  } catch {
    // a cache is only a cache
  }
}

function load(argv) {
  const verb = (argv.find((a, i) => !a.startsWith('-') && !VALUED.includes(argv[i - 1])) ?? 'none').replace(/[^a-z-]/g, '');
  // the verb's own bundle (the CLI without the other verbs' modules), else the whole CLI (help, an unknown verb)
  let file = path.join(dir, 'verbs', `${verb}.cjs`);
  let source;
  try {
    // ASCII (scripts/bundle.mjs checks): latin1 makes the one-byte string without decoding UTF-8
    source = fs.readFileSync(file, 'latin1');
  } catch {
    file = path.join(dir, 'tsdock.cjs');
    source = fs.readFileSync(file, 'latin1');
  }
  const stat = fs.statSync(file);
  // V8 rejects a cache made under other flags: node's own flags (the launcher's) get a cache of their own
  const flags = process.execArgv.length ? `.${fnv1a(process.execArgv.join(' '))}` : '';
  const name = `tsdock.${verb}${flags}.${stat.size}-${Math.floor(stat.mtimeMs)}.cache`;
  const home = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || '/tmp', '.cache');
  const places = [dir, path.join(home, 'tsdock', 'code-cache')];
  let cachedData;
  for (const p of places) {
    try {
      cachedData = fs.readFileSync(path.join(p, name));
      break;
    } catch {
      // next place
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      const data = script.createCachedData();
      for (const p of places) {
        try {
          fs.mkdirSync(p, { recursive: true });
          const tmp = path.join(p, `.${name}.${process.pid}`);
          fs.writeFileSync(tmp, data);
          fs.renameSync(tmp, path.join(p, name));
          dropStale(p, name, `tsdock.${verb}${flags}.`);
          return;
        } catch {
          // not writable: try the next place
        }
      }
    });
  }
  mod.exports.main(argv);
}
