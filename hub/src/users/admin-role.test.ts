import { loadConfig } from '../config.js';
import { createDomainServices } from '../domain-services.js';
import { ConflictError } from '../errors.js';
import { createLogger } from '../logger.js';
import { MemoryStore } from '../store/memory.js';
import { setAdminRole } from './admin-role.js';
import { ADMIN_ROLE } from './user.js';

/**
 * The last enabled admin keeps the role, also when two admins take each other's role at the same
 * moment. An outside review did that in the console (two admins, each on the other's page, both
 * pressing "Remove admin role"): both checks saw the other still an admin, both writes landed, and
 * no one could open the console any more.
 */
describe('setAdminRole: the last enabled admin keeps the role', () => {
  async function twoAdmins() {
    const services = createDomainServices(loadConfig({ LOG_LEVEL: 'silent' }), new MemoryStore(), createLogger('silent'));
    const password = 'admin-password-12';
    const ann = await services.users.create({ username: 'ann', email: 'ann@example.test', password, roles: [ADMIN_ROLE] });
    const ben = await services.users.create({ username: 'ben', email: 'ben@example.test', password, roles: [ADMIN_ROLE] });
    return { services, ann, ben };
  }

  const enabledAdmins = async (services: Awaited<ReturnType<typeof twoAdmins>>['services']) =>
    (await services.users.list()).filter((user) => user.roles.includes(ADMIN_ROLE) && !user.disabled).map((user) => user.username);

  test('two admins taking each other\'s role at once: one of them keeps it, the other call is refused', async () => {
    const { services, ann, ben } = await twoAdmins();
    const results = await Promise.allSettled([
      setAdminRole(services, ben.id, false, { actor: ann.id }),
      setAdminRole(services, ann.id, false, { actor: ben.id }),
    ]);
    expect((await enabledAdmins(services)).length).toBeGreaterThanOrEqual(1);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const result of refused) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    // Only what stands is audited: a revocation given back is not in the log.
    const audited = await services.audit.search({ event: 'admin.user.role' });
    expect(audited.length).toBe(2 - refused.length);
  });

  test('one at a time, as before: the first revocation stands, the second is refused', async () => {
    const { services, ann, ben } = await twoAdmins();
    await setAdminRole(services, ben.id, false, { actor: ann.id });
    await expect(setAdminRole(services, ann.id, false, { actor: 'cli' })).rejects.toBeInstanceOf(ConflictError);
    expect(await enabledAdmins(services)).toEqual(['ann']);
  });
});
