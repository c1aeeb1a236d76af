// Started by scripts/test.mjs: runs one harness for the whole integration suite and writes its data
// (everything but functions) to the file named by argv[2]; stops everything on SIGTERM/SIGINT.
import fs from 'node:fs';
import { startHarness } from '../harness/index.js';
import type { HarnessData } from './shared-harness.js';

const out = process.argv[2];
if (!out) throw new Error('usage: harness-serve.js OUTPUT.json');
const h = await startHarness();
const data: HarnessData = {
  plain: h.plain,
  basicTls: { ...h.basicTls, certsDir: h.basicTls.certsDirFor() },
  token: { ...h.token },
  fixtures: h.fixtures,
  workDir: h.workDir,
};
fs.writeFileSync(`${out}.tmp`, JSON.stringify(data));
fs.renameSync(`${out}.tmp`, out);
const stop = async () => {
  await h.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
