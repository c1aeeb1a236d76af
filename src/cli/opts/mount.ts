/**
 * `--mount type=bind|volume|tmpfs,source=,target=,readonly,...` → docker's mount.Mount, as docker's CLI reads it
 * (docker/cli opts/mount.go): the default type is volume; keys type, source|src, target|dst|destination,
 * readonly|ro[=bool], consistency, bind-propagation, bind-nonrecursive[=bool], volume-nocopy[=bool],
 * volume-driver, tmpfs-size, tmpfs-mode. dockerd's checks of the result are the domain's (ocispec/mounts.ts).
 */
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { csvFields, parseGoBool, ramInBytes } from '../../ocispec/units.js';
import type { Mount } from '../../api/create.js';

export function mountFlag(value: string, cwd: string): Mount {
  let type = 'volume';
  let source = '';
  let target = '';
  let readonly = false;
  const bind: NonNullable<Mount['BindOptions']> = {};
  const volume: NonNullable<Mount['VolumeOptions']> = {};
  const tmpfs: NonNullable<Mount['TmpfsOptions']> = {};
  let consistency: string | undefined;
  const touched = { volume: false, bind: false, tmpfs: false };
  const fields = csvFields(value);
  if (!fields) throw new UsageError(`invalid --mount value ${JSON.stringify(value)}: extraneous or missing " in quoted-field`);
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          readonly = true;
          continue;
        case 'volume-nocopy':
          volume.NoCopy = true;
          touched.volume = true;
          continue;
        case 'bind-nonrecursive':
          bind.NonRecursive = true;
          touched.bind = true;
          continue;
        default:
          throw new UsageError(`invalid field '${field}' must be a key=value pair`);
      }
    }
    const bool = () => {
      const b = parseGoBool(val);
      if (b === undefined) throw new UsageError(`invalid value for ${key}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        // docker's CLI: a relative bind source is the caller's directory's
        source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = val;
        break;
      case 'readonly':
      case 'ro':
        readonly = bool();
        break;
      case 'consistency':
        consistency = val;
        break;
      case 'bind-propagation':
        bind.Propagation = val.toLowerCase();
        touched.bind = true;
        break;
      case 'bind-nonrecursive':
        bind.NonRecursive = bool();
        touched.bind = true;
        break;
      case 'volume-nocopy':
        volume.NoCopy = bool();
        touched.volume = true;
        break;
      case 'volume-driver':
        volume.DriverConfig = { Name: val };
        touched.volume = true;
        break;
      case 'volume-label':
      case 'volume-opt':
      case 'volume-subpath':
        throw new UsageError(`--mount ${key} is not supported`);
      case 'tmpfs-size': {
        const n = ramInBytes(val);
        if (n === undefined) throw new UsageError(`invalid value for ${key}: ${val}`);
        tmpfs.SizeBytes = n;
        touched.tmpfs = true;
        break;
      }
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new UsageError(`invalid value for ${key}: ${val}`);
        tmpfs.Mode = parseInt(val, 8);
        touched.tmpfs = true;
        break;
      default:
        throw new UsageError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw new UsageError('type is required');
  if (target === '') throw new UsageError('target is required');
  if (touched.volume && type !== 'volume') throw new UsageError(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (touched.bind && type !== 'bind') throw new UsageError(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (touched.tmpfs && type !== 'tmpfs') throw new UsageError(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  const m: Mount = { Type: type as Mount['Type'], Target: target };
  if (source !== '') m.Source = source;
  if (readonly) m.ReadOnly = true;
  if (consistency !== undefined) m.Consistency = consistency;
  if (touched.bind) m.BindOptions = bind;
  if (touched.volume) m.VolumeOptions = volume;
  if (touched.tmpfs) m.TmpfsOptions = tmpfs;
  return m;
}
