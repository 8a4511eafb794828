/**
 * The console's invite form refusing a value (days out of 1–30, an address that is not one) answers
 * as the console's other forms do: the users page with the reason beside the invite form and what
 * was typed in it, and the form can be sent again. Before, a bare error page that lost what was
 * typed, its only link back to the overview (a console review).
 */
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: a refused invite', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', { HUB_SIGNUP: 'invite' });
  }, 60_000);
  afterAll(() => hub.close());

  test.each([
    ['days out of range', { email: 'dora@example.test', days: '31' }, 'An invite is valid for 1 to 30 days.'],
    ['an address that is not one', { email: 'dora', days: '5' }, 'That e-mail address does not look right.'],
  ])('%s: the reason beside the invite form, what was typed kept, and the corrected form sent', async (_name, typed, reason) => {
    const admin = await signedInAdmin(hub, { login: `root${typed.days}`, password: 'admin-password-1' });
    const form = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users`)).text(), '/admin/invites');
    const refused = await admin.post(`${hub.url}/admin/invites`, { ...form, ...typed });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toMatch(new RegExp(`data-testid="invite-error">${reason.replace(/[.]/g, '\\.')}`));
    expect(html).toContain(`name="email" type="email" value="${typed.email}" aria-describedby="invite-error"`);
    expect(html).toContain(`name="days" type="number" min="1" max="30" value="${typed.days}"`);
    expect(html).toContain('data-testid="users"');
    // Corrected and sent again from that page: the invite is made.
    const again = hiddenFieldsOf(html, '/admin/invites');
    const made = await admin.post(`${hub.url}/admin/invites`, { ...again, email: 'dora@example.test', days: '7' });
    expect(made.status).toBe(200);
    expect(await made.text()).toContain('/signup?invite=');
  });
});
