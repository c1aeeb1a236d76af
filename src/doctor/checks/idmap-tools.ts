import { result, rootlessSeverity, type Check, type CheckResult, type CheckStatus, type HostView } from '../types.js';

const S_ISUID = 0o4000;

/** newuidmap/newgidmap write a rootless user's subordinate ranges into the namespace: they need setuid root or file caps. */
export function checkIdMapTool(host: HostView, tool: 'newuidmap' | 'newgidmap', bad: CheckStatus, forWhom = ''): CheckResult {
  const path = host.which(tool);
  if (!path) return result(tool, bad, `${tool} is not installed: rootless tsdock cannot map the subordinate ids (only a single-id mapping)`, 'sudo apt-get install uidmap  (Fedora: sudo dnf install shadow-utils)');
  const st = host.lstat(path);
  if (st && st.uid === 0 && st.mode & S_ISUID) return result(tool, 'PASS', `${path} is setuid root${forWhom}`);
  // in tsdock's rootless user namespace root is not mapped: an owner outside it (-1) is root on any sane host
  if (st && st.uid === -1 && st.mode & S_ISUID) return result(tool, 'PASS', `${path} is setuid to an owner outside this user namespace (root)${forWhom}`);
  if (host.hasFileCaps(path)) return result(tool, 'PASS', `${path} has file capabilities${forWhom}`);
  const cap = tool === 'newuidmap' ? 'cap_setuid' : 'cap_setgid';
  return result(tool, bad, `${path} is neither setuid root nor has file capabilities: it cannot write id maps for a rootless user`,
    `sudo chown root:root ${path} && sudo chmod u+s ${path}  (or: sudo setcap ${cap}+ep ${path})`);
}

export const checkIdMapTools: Check = (host, subject): CheckResult[] => {
  const forWhom = subject.rootful ? ': rootless users get their subordinate ids' : '';
  return [checkIdMapTool(host, 'newuidmap', rootlessSeverity(subject), forWhom), checkIdMapTool(host, 'newgidmap', rootlessSeverity(subject), forWhom)];
};
