import { createDomainServices } from '../../hub/src/domain-services.js';
import { loadConfig } from '../../hub/src/config.js';
import { createLogger } from '../../hub/src/logger.js';
import { MemoryStore } from '../../hub/src/store/memory.js';
import { DEMO_USERS } from './demo-seed.js';
import { demoUserLines } from './start-demo.js';

/**
 * The demo's banner on a kept Redis: the seed is create-only, and the banner listed every demo
 * user with the seeded password even when an admin had deleted the account or its owner had
 * changed the password, offering sign-ins that fail.
 */
describe('the demo banner lists the demo users as the store has them', () => {
  it('a seeded account with its password; a deleted, a disabled and a re-passworded one said as such', async () => {
    const services = createDomainServices(loadConfig({ HUB_ISSUER: 'http://hub.test', LOG_LEVEL: 'silent' }), new MemoryStore(), createLogger('silent'));
    const [alice, bob, zhangsan] = DEMO_USERS;
    const created = [];
    for (const user of DEMO_USERS) created.push(await services.users.create({ username: user.username, email: user.email, name: user.name, password: user.password, roles: user.roles }));
    expect(await demoUserLines(services)).toEqual([`  alice / ${alice!.password}   (admin)`, `  bob / ${bob!.password}`, `  zhangsan / ${zhangsan!.password}`]);

    await services.users.setPassword(created[0]!.id, 'someone-changed-it-9');
    await services.users.delete(created[1]!.id);
    await services.users.update(created[2]!.id, { disabled: true });
    const lines = await demoUserLines(services);
    expect(lines).toEqual([
      '  alice   (its password was changed since it was seeded)   (admin)',
      '  bob   (deleted: the seed does not bring it back)',
      '  zhangsan   (disabled)',
    ]);
    expect(lines.join('\n')).not.toContain(alice!.password);
  });
});
