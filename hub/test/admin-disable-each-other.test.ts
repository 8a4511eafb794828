/**
 * Two admins disabling each other from the console at the same moment: at least one enabled admin
 * remains, and the other press is refused ("the only enabled admin", 409, nothing ended). Before,
 * both passed the console's checks (each was an enabled admin, neither disabled themselves) and
 * both accounts were disabled: no one could open the console until `admin bootstrap` from a shell
 * (a console review; taking each other's admin role was closed the same way, admin-role.ts).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { isEnabledAdmin } from '../src/users/user.js';

describe('console: two admins disable each other at once', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  const enabledAdmins = async (ids: string[]) => (await Promise.all(ids.map((id) => hub.services.users.findById(id)))).filter((user) => user && isEnabledAdmin(user)).length;

  test('the only two admins disable each other at once, as the console does (keepAnAdmin): one stays, the other is refused and audited as nothing', async () => {
    const ids = await Promise.all(['third', 'fourth'].map(async (username) => (await hub.services.users.create({ username, email: `${username}@example.test`, password: 'admin-password-3', roles: ['admin'] })).id));
    // Each press has passed the console's checks (an enabled admin, not their own account): the
    // disables are what races, each made the other's actor.
    const results = await Promise.allSettled(ids.map((id, index) => hub.services.lifecycle.disable(id, { actor: ids[1 - index]! }, { keepAnAdmin: true })));
    expect(await enabledAdmins(ids)).toBeGreaterThanOrEqual(1);
    expect(results.some((result) => result.status === 'rejected')).toBe(true);
    // An admin that is refused is enabled as before and was not audited as disabled.
    const disabledAudited = (await hub.services.audit.search({ event: 'admin.user.disable' })).filter((entry) => ids.includes(entry.subject!));
    expect(disabledAudited.length).toBe(results.filter((result) => result.status === 'fulfilled').length);
  });
});
