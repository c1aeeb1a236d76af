/** docker's units.HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits. */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'], precision);
}

function scaled(bytes: number, base: number, units: string[], precision: number): string {
  let size = bytes;
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${formatG(size, precision)}${units[i]}`;
}

/** Go's %.*g: shortest of fixed/exponent with `precision` significant digits, trailing zeros dropped. */
function formatG(n: number, precision: number): string {
  if (n === 0) return '0';
  const s = Number(n.toPrecision(precision));
  return String(s);
}

/** docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** docker's units.BytesSize: binary units, 4 significant digits ("1.523MiB", "7.667GiB"). */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'], 4);
}
