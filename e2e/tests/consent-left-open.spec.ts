import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { expireHubSession, newUser, shot } from '../support.js';

test('Allow on the wiki\'s consent page after the hub session expired while it was open: a way back to the wiki, not "session mismatch"', async ({ browser }) => {
  // A browser review: "Something went wrong: interaction session and authentication session
  // mismatch" (invalid_request), and no way back to the site the person was signing in to.
  const user = await newUser('consent-night');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const wiki = new SitePage(page, URLS.wiki);
  await hub.signInAtPortal(user.login, user.password);
  await wiki.open('/');
  await wiki.clickSignIn();
  await expect(page.getByTestId('consent-allow')).toBeVisible();
  await expireHubSession(context);
  await hub.allowConsent();
  await expect(page.locator('body')).not.toContainText('session mismatch');
  await expect(page.getByTestId('error-title')).toHaveText('You have signed out since');
  await shot(page, 'consent-left-open-allow');
  await page.getByTestId('error-back').click();
  await page.waitForURL(`${URLS.wiki}/`);
  await wiki.expectAnonymous();
  await context.close();
});
