/**
 * A user's page opened before another admin (or the CLI) disabled or enabled that user: pressing
 * Disable or Enable there again says the user was so already, ends and sends nothing again, and
 * writes no audit entry. Before, the page said "User disabled: sessions ended, tokens revoked,
 * subsites notified" when nothing had been done, and a second Enable was audited as another
 * `admin.user.enable` by an admin who changed nothing (an exploratory review with two admins).
 */
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: disabling or enabling a user from a stale page', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  test('a user disabled (then enabled) meanwhile: said so, nothing done again, nothing audited', async () => {
    const admin = await signedInAdmin(hub);
    const bob = await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-long-1' });
    const page = `${hub.url}/admin/users/${bob.id}`;
    const disableForm = hiddenFieldsOf(await (await admin.get(page)).text(), `/admin/users/${bob.id}/disable`);
    await hub.services.lifecycle.disable(bob.id, { actor: 'cli' });
    const events = async () => (await hub.services.audit.search({ user: bob.id })).map((entry) => entry.event).filter((event) => event.startsWith('admin.user.'));
    const before = await events();

    const disabled = await admin.post(`${hub.url}/admin/users/${bob.id}/disable`, disableForm);
    expect(disabled.headers.get('location')).toBe(`/admin/users/${bob.id}?done=already-disabled`);
    expect(await (await admin.get(new URL(disabled.headers.get('location')!, hub.url).toString())).text()).toContain('was disabled already');
    expect(await events()).toEqual(before);

    const enableForm = hiddenFieldsOf(await (await admin.get(page)).text(), `/admin/users/${bob.id}/enable`);
    await hub.services.lifecycle.enable(bob.id, { actor: 'cli' });
    const afterCli = await events();
    const enabled = await admin.post(`${hub.url}/admin/users/${bob.id}/enable`, enableForm);
    expect(enabled.headers.get('location')).toBe(`/admin/users/${bob.id}?done=already-enabled`);
    expect(await events()).toEqual(afterCli);
    expect((await hub.services.users.findById(bob.id))!.disabled).toBeFalsy();
  });
});
