export { SysError, errnoName } from './errors.js';
export {
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  XATTR_CREATE,
  XATTR_REPLACE,
  flock,
  lgetxattr,
  llistxattr,
  lsetxattr,
  makedev,
  mknod,
  renameat2,
} from './fs.js';
