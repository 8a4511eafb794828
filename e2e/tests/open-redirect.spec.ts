import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { newUser, shot } from '../support.js';

/**
 * Issue 9 item 8 (RFC 9700 §4.11): `next` values that only become `//evil.example/…` after
 * the browser's own URL normalisation. A signed-in user following such a link stays on the hub.
 */
test('8. a signed-in user following /login?next=/.//evil.example/x stays on the hub', async ({ browser }) => {
  const user = await newUser('oscar');
  const context = await browser.newContext();
  // Every request the browser makes off the hub to evil.example (it does not resolve here:
  // such a navigation fails, so the request itself is the evidence).
  const offSite: string[] = [];
  context.on('request', (request) => {
    if (new URL(request.url()).hostname === 'evil.example') offSite.push(request.url());
  });
  const page = await context.newPage();
  const hub = new HubPage(page);
  try {
    await hub.signInAtPortal(user.login, user.password);
    for (const next of ['/.//evil.example/x', '/x/..//evil.example', '/%2e%2e//evil.example/x']) {
      await hub.followLoginLink(next).catch(() => undefined); // an off-site hop fails to resolve; checked next
      expect(offSite).toEqual([]);
      await hub.expectOnHub('/account');
      await expect(page.getByTestId('account-username')).toHaveText(user.login);
    }
    await shot(page, '8-open-redirect-stays-on-hub');
    expect(offSite).toEqual([]);
  } finally {
    await context.close();
  }
});
