import { InvalidArgumentError } from 'commander';
import { parseGoBool } from '../ocispec/units.js';

/**
 * An optional boolean flag's value (`--tls-verify`, `--tls-verify=false`) read as docker and podman read it
 * (Go's strconv.ParseBool): no value is true; 1 t T TRUE true True / 0 f F FALSE false False; anything else
 * is refused with pflag's words.
 */
export function boolFlag(v: string | undefined): boolean {
  if (v === undefined) return true;
  const b = parseGoBool(v);
  if (b === undefined) throw new InvalidArgumentError(`strconv.ParseBool: parsing "${v}": invalid syntax`);
  return b;
}
