/**
 * `tsdock doctor`: every check of this host, in the order a user fixes them (kernel and namespaces first).
 * A check that throws is reported as a WARN naming the error, so one broken probe never hides the others.
 */
import { checkCgroups } from './checks/cgroups.js';
import { checkIdMapTools } from './checks/idmap-tools.js';
import { checkKernel } from './checks/kernel.js';
import { checkNetwork } from './checks/network.js';
import { checkOverlay } from './checks/overlay.js';
import { checkRegistries } from './checks/registries.js';
import { checkSeccomp } from './checks/seccomp.js';
import { checkStorage } from './checks/storage.js';
import { checkSubIds } from './checks/subids.js';
import { checkUserNamespaces } from './checks/userns.js';
import type { Check, CheckResult, DoctorSubject, HostView } from './types.js';

export type { CheckResult, CheckStatus, DoctorSubject, HostView } from './types.js';
export { invokingIds, realHost } from './host.js';
export { doctorSubject } from './subject.js';

const CHECKS: Array<[string, Check]> = [
  ['kernel', checkKernel],
  ['user namespaces', checkUserNamespaces],
  ['subordinate ids', checkSubIds],
  ['newuidmap', checkIdMapTools],
  ['overlayfs', checkOverlay],
  ['cgroups', checkCgroups],
  ['seccomp', checkSeccomp],
  ['network', checkNetwork],
  ['storage', checkStorage],
  ['registries', checkRegistries],
];

export function runChecks(host: HostView, subject: DoctorSubject): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [name, check] of CHECKS) {
    try {
      const r = check(host, subject);
      out.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      out.push({ name, status: 'WARN', message: `the check itself failed: ${(err as Error).message}`, fix: '' });
    }
  }
  return out;
}
