/**
 * The console's password reset refusing the new password (too short, the two differing) answers
 * with the user's page and the reason beside the form, as the console's other forms do. Before, a
 * bare error page whose only link led to the users list, away from the user (a console review).
 */
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: a refused password reset', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  test.each([
    ['too short', { password: 'short', confirm: 'short' }, 'The password needs at least 8 characters.'],
    ['the two differing', { password: 'long-enough-1', confirm: 'long-enough-2' }, 'The two passwords differ.'],
  ])('%s: the user’s page with the reason beside the form, nothing changed', async (_name, typed, reason) => {
    const admin = await signedInAdmin(hub, { login: `root${typed.confirm.length}`, password: 'admin-password-1' });
    const bob = (await hub.services.users.findByLogin('bob')) ?? (await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-1' }));
    const before = (await hub.services.users.findById(bob.id))!.passwordHash;
    const action = `/admin/users/${bob.id}/password`;
    const form = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users/${bob.id}`)).text(), action);
    const refused = await admin.post(`${hub.url}${action}`, { ...form, ...typed });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain(`data-testid="password-error">${reason}`);
    expect(html).toContain(`action="${action}"`);
    expect(html).toContain('aria-describedby="password-error"');
    expect(html).not.toContain(typed.password);
    // Nothing changed: the same stored password.
    expect((await hub.services.users.findById(bob.id))!.passwordHash).toBe(before);
  });
});
