/**
 * ASVS 5 V7.4.4: every page that needs a signed-in user offers sign-out. Only the account page
 * did: the two-step settings, the recovery codes shown after enrolling, "Delete my account" and
 * every page of the admin console had none (an audit); sign-out was a link away, on /account.
 */
import { inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { awayFromStepEdge, totpCode } from '../src/testing/totp.js';

const ADMIN = { username: 'root', email: 'root@example.test', password: 'a-long-admin-password-1' };
let hub: RunningHub;

beforeAll(async () => {
  hub = await startTestHub('memory');
  await hub.services.users.create({ ...ADMIN, roles: ['admin'] });
});
afterAll(() => hub.close());

const SIGN_OUT = /<a [^>]*href="\/logout"[^>]*>Sign out<\/a>/;

test('account, two-step settings, recovery codes, account deletion and the admin console link to sign-out', async () => {
  const browser = await signInAtPortal(hub, ADMIN.username, ADMIN.password);
  for (const path of ['/account', '/account/two-step', '/account/delete', '/admin', '/admin/users', '/admin/clients', '/admin/audit']) {
    const page = await browser.follow(`${hub.url}${path}`);
    expect([path, page.response.status]).toEqual([path, 200]);
    expect([path, SIGN_OUT.test(page.body)]).toEqual([path, true]);
  }
  // The page that shows the recovery codes once, after enrolling.
  await awayFromStepEdge();
  const settings = await browser.follow(`${hub.url}/account/two-step`);
  const secret = /data-testid="totp-secret">([A-Z2-7 ]+)</.exec(settings.body)![1]!.replace(/\s/g, '');
  const enabled = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(settings.body, '_csrf'), proof: ADMIN.password, code: totpCode(secret) });
  const codesPage = await enabled.text();
  expect(codesPage).toContain('data-testid="recovery-codes"');
  expect(SIGN_OUT.test(codesPage)).toBe(true);
});
