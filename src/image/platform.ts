/** Platforms (`os/arch[/variant]`): parsing, normalization, the host's platform, and index selection. */
import { NotFoundError, UsageError } from '../errors.js';
import type { Descriptor, ImageIndex } from './manifest.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'plan9', 'android', 'ios', 'js', 'wasip1']);
const COMPONENT = /^[A-Za-z0-9_.-]+$/;

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

function normalizeArch(arch: string, variant: string | undefined): { architecture: string; variant?: string } {
  const a = arch.toLowerCase();
  const v = variant?.toLowerCase() ?? '';
  switch (a) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return v === '' || v === 'v1' ? { architecture: 'amd64' } : { architecture: 'amd64', variant: v };
    case 'i386':
    case 'i686':
    case 'x86':
    case '386':
      return { architecture: '386' };
    case 'aarch64':
    case 'arm64':
      if (v === '' || v === '8' || v === 'v8' || v === 'v8.0') return { architecture: 'arm64', variant: 'v8' };
      if (v === '9' || v === '9.0' || v === 'v9.0') return { architecture: 'arm64', variant: 'v9' };
      return { architecture: 'arm64', variant: v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') return { architecture: 'arm', variant: 'v7' };
      if (v === '5' || v === '6' || v === '8') return { architecture: 'arm', variant: `v${v}` };
      return { architecture: 'arm', variant: v };
    default:
      return v === '' ? { architecture: a } : { architecture: a, variant: v };
  }
}

/** Normalize os/arch aliases and default variants (arm64 → v8, arm → v7, amd64/v1 → no variant). */
export function normalizePlatform(p: Platform): Platform {
  const out: Platform = { os: normalizeOs(p.os), ...normalizeArch(p.architecture, p.variant) };
  if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined) out['os.features'] = p['os.features'];
  return out;
}

/**
 * Parse `os/arch[/variant]` (also `arch` alone, or an os alone, completed from the host), e.g.
 * `linux/arm64` → {os: linux, architecture: arm64, variant: v8}.
 */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((p) => !COMPONENT.test(p))) {
    throw new UsageError(`invalid platform "${spec}": expected os/arch[/variant], e.g. linux/amd64`);
  }
  if (parts.length === 1) {
    const only = parts[0]!;
    const host = hostPlatform();
    if (KNOWN_OS.has(normalizeOs(only))) return normalizePlatform({ os: only, architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) });
    return normalizePlatform({ os: host.os, architecture: only });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/** `linux/arm64/v8`, `linux/amd64`. */
export function formatPlatform(p: Pick<Platform, 'os' | 'architecture' | 'variant'>): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform this process runs on (os is always linux: tsdock runs linux containers). */
export function hostPlatform(): Platform {
  const arch = process.arch as string;
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'arm': {
      const version = (process.config.variables as unknown as Record<string, unknown>).arm_version;
      return normalizePlatform({ os: 'linux', architecture: 'arm', variant: typeof version === 'string' ? version : '7' });
    }
    case 'ppc64':
      return { os: 'linux', architecture: 'ppc64le' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

/** Variants a wanted platform can run, best first: arm/v7 runs v7, v6, v5; arm64/v9 also v8; amd64/v3 also v2, v1. */
function compatibleVariants(p: Platform): (string | undefined)[] {
  const v = p.variant;
  if (p.architecture === 'arm') {
    const order = ['v8', 'v7', 'v6', 'v5'];
    const i = order.indexOf(v ?? '');
    return i === -1 ? [v] : order.slice(i);
  }
  if (p.architecture === 'arm64') return v === 'v9' ? ['v9', 'v8'] : [v];
  if (p.architecture === 'amd64') {
    const order = ['v4', 'v3', 'v2', undefined];
    const i = order.indexOf(v);
    return i === -1 ? [v] : order.slice(i);
  }
  return [v];
}

/** Index entries that are attestations / signatures rather than runnable images. */
export function isAttestation(d: Descriptor): boolean {
  if (d.annotations?.['vnd.docker.reference.type'] !== undefined) return true;
  return d.platform?.os === 'unknown' || d.platform?.architecture === 'unknown';
}

/**
 * Pick the manifest for `wanted` from an index: os and architecture must match, then the most preferred
 * compatible variant wins (arm64 '' and 'v8' are the same). Attestation entries are ignored.
 * Throws NotFoundError listing the platforms the index does offer.
 */
export function selectManifest(index: Pick<ImageIndex, 'manifests'>, wanted: Platform): Descriptor {
  const want = normalizePlatform(wanted);
  const candidates = index.manifests.filter((d) => d.platform && !isAttestation(d));
  const normalized = candidates.map((d) => ({ d, p: normalizePlatform(d.platform!) }));
  const sameArch = normalized.filter(({ p }) => p.os === want.os && p.architecture === want.architecture);
  for (const variant of compatibleVariants(want)) {
    const hit = sameArch.find(({ p }) => p.variant === variant && (want['os.version'] === undefined || p['os.version'] === want['os.version']));
    if (hit) return hit.d;
  }
  const available = [...new Set(candidates.map((d) => formatPlatform(d.platform!)))];
  throw new NotFoundError(
    `no image for platform ${formatPlatform(want)} in index (available: ${available.length ? available.join(', ') : 'none'})`,
  );
}
