import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSubIds } from '../../../src/doctor/checks/subids.js';
import { checkIdMapTools } from '../../../src/doctor/checks/idmap-tools.js';
import { asArray, fakeHost, rootful, rootless } from './fake-host.js';

const ids = (subuid: string | undefined, subgid = subuid) => asArray(checkSubIds(fakeHost({ files: { ...(subuid !== undefined ? { '/etc/subuid': subuid } : {}), ...(subgid !== undefined ? { '/etc/subgid': subgid } : {}) } }), rootless()));

test('subids: a 65536 range by name or by uid passes', () => {
  assert.deepEqual(ids('alice:100000:65536\n').map((r) => r.status), ['PASS', 'PASS']);
  assert.deepEqual(ids('# comment\n1000:100000:65536\n').map((r) => r.status), ['PASS', 'PASS']);
});

test('subids: a user with no range fails with the usermod that adds one', () => {
  const [uid, gid] = ids('bob:100000:65536\n');
  assert.equal(uid!.status, 'FAIL');
  assert.match(uid!.message, /no subordinate uid range for alice/);
  assert.match(uid!.fix, /^sudo usermod --add-subuids 100000-165535 alice/);
  assert.match(gid!.fix, /--add-subgids/);
  assert.match(ids(undefined)[0]!.message, /\/etc\/subuid is missing/);
});

test('subids: a small range warns, an overlap with another user fails', () => {
  const small = ids('alice:100000:1000\n')[0]!;
  assert.equal(small.status, 'WARN');
  assert.match(small.message, /1000 subordinate uids/);
  const clash = ids('bob:100000:65536\nalice:160000:65536\n')[0]!;
  assert.equal(clash.status, 'FAIL');
  assert.match(clash.message, /overlaps the range of bob/);
  assert.equal(ids('bob:100000:65536\nalice:165536:65536\n')[0]!.status, 'PASS');
});

test('subids: as root without $SUDO_USER they are skipped with a note', () => {
  const r = asArray(checkSubIds(fakeHost(), rootful()));
  assert.deepEqual(r.map((x) => x.status), ['SKIP', 'SKIP']);
  assert.match(r[0]!.message, /rootless users/);
});

test('newuidmap/newgidmap: setuid root or file caps pass; missing or not setuid fail rootless', () => {
  const stats = { '/usr/bin/newuidmap': { mode: 0o104755 }, '/usr/bin/newgidmap': { mode: 0o100755 } };
  const commands = { newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' };
  const [u, g] = asArray(checkIdMapTools(fakeHost({ stats, commands }), rootless()));
  assert.equal(u!.status, 'PASS');
  assert.equal(g!.status, 'FAIL');
  assert.match(g!.message, /neither setuid root nor has file capabilities/);
  assert.match(g!.fix, /chmod u\+s \/usr\/bin\/newgidmap/);
  assert.match(g!.fix, /setcap cap_setgid\+ep/);
  assert.equal(asArray(checkIdMapTools(fakeHost({ stats, commands, caps: ['/usr/bin/newgidmap'] }), rootless()))[1]!.status, 'PASS');
  // setuid but owned by someone else than root
  assert.equal(asArray(checkIdMapTools(fakeHost({ stats: { '/usr/bin/newuidmap': { mode: 0o104755, uid: 1000 } }, commands }), rootless()))[0]!.status, 'FAIL');
  const missing = asArray(checkIdMapTools(fakeHost(), rootless()));
  assert.equal(missing[0]!.status, 'FAIL');
  assert.match(missing[0]!.fix, /apt-get install uidmap/);
  assert.equal(asArray(checkIdMapTools(fakeHost(), rootful()))[0]!.status, 'WARN');
});

test('newuidmap as root: said to concern rootless users', () => {
  const host = fakeHost({ stats: { '/usr/bin/newuidmap': { mode: 0o104755 }, '/usr/bin/newgidmap': { mode: 0o104755 } }, commands: { newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' } });
  assert.match(asArray(checkIdMapTools(host, rootful()))[0]!.message, /setuid root: rootless users/);
  assert.doesNotMatch(asArray(checkIdMapTools(host, rootless()))[0]!.message, /rootless users/);
});
