/**
 * Disabling a user who is disabled already: nothing is ended or sent again. Before, a second
 * `users disable` sent every subsite another round of userdelete notices (an outside review:
 * 10 notices, then 20). A disable that stopped part-way (the user disabled, the forced logout
 * not all queued) is finished by running it again; enabling clears it, so a later disable
 * notifies again. Also: the hub's own client id is not for anyone else to register.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('disabling twice (memory store)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({ clientId: 'bbs', redirectUris: ['http://bbs.test/cb'], userdeleteUrl: 'http://bbs.test/sso/userdelete' });
    await hub.services.clients.register({ clientId: 'wiki', redirectUris: ['http://wiki.test/cb'], userdeleteUrl: 'http://wiki.test/sso/userdelete' });
  });
  afterAll(() => hub.close());

  const queuedFor = async (sub: string) => (await hub.services.deliveries.list('pending')).filter((item) => item.sub === sub && item.kind === 'userdelete').length;

  test('a second disable sends nothing; after enabling, a disable notifies again', async () => {
    const user = await hub.services.users.create({ username: 'twice', email: 'twice@example.test', password: 'twice-password-1' });
    const first = await hub.services.lifecycle.disable(user.id);
    expect(first.alreadyDisabled).toBeUndefined();
    expect(await queuedFor(user.id)).toBe(2);
    const second = await hub.services.lifecycle.disable(user.id);
    expect(second.alreadyDisabled).toBe(true);
    expect(await queuedFor(user.id)).toBe(2);
    expect(await hub.services.audit.search({ event: 'admin.user.disable', user: user.id })).toHaveLength(1);
    await hub.services.lifecycle.enable(user.id);
    expect((await hub.services.users.findById(user.id))!.disabledAt).toBeUndefined();
    await hub.services.lifecycle.disable(user.id);
    expect(await queuedFor(user.id)).toBe(4);
  });

  test('a disable that stopped after marking the user disabled is finished by disabling again', async () => {
    const user = await hub.services.users.create({ username: 'halfway', email: 'halfway@example.test', password: 'halfway-password-1' });
    await hub.services.users.update(user.id, { disabled: true }); // the first step of a disable, and then nothing
    const again = await hub.services.lifecycle.disable(user.id);
    expect(again.alreadyDisabled).toBeUndefined();
    expect(await queuedFor(user.id)).toBe(2);
  });

  test("the hub's own client id cannot be registered by anyone else (the next start overwrote it)", async () => {
    await expect(hub.services.clients.register({ clientId: 'hub-portal', redirectUris: ['http://evil.test/cb'] })).rejects.toThrow(/hub-portal is the id of the hub's own client/);
    // The hub's own record is still its own.
    expect(await hub.services.clients.findUncached('hub-portal')).toMatchObject({ internal: true });
  });
});
