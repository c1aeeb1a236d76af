import fs from 'node:fs';
import type { BasicTlsRegistry, Fixtures, RegistryInfo, TokenRegistry } from '../harness/index.js';

/** The harness as plain data, shared by all integration test files through TSDOCK_HARNESS. */
export interface HarnessData {
  plain: RegistryInfo;
  basicTls: Omit<BasicTlsRegistry, 'certsDirFor'> & { certsDir: string };
  token: Omit<TokenRegistry, 'tokenRequests'>;
  fixtures: Fixtures;
  workDir: string;
}

let cached: Promise<HarnessData> | undefined;

/**
 * The suite's shared harness when scripts/test.mjs started one, else a private one for this file
 * (so a single test file can be run on its own with `node --test`); the harness stops it at process exit.
 */
export function getHarness(): Promise<HarnessData> {
  cached ??= (async () => {
    const file = process.env.TSDOCK_HARNESS;
    if (file) return JSON.parse(fs.readFileSync(file, 'utf8')) as HarnessData;
    const { startHarness } = await import('../harness/index.js');
    const h = await startHarness();
    return { plain: h.plain, basicTls: { ...h.basicTls, certsDir: h.basicTls.certsDirFor() }, token: { ...h.token }, fixtures: h.fixtures, workDir: h.workDir };
  })();
  return cached;
}

export const isRoot = process.getuid?.() === 0;
