import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { KitErrorPage } from '../pages/kit-error-page.js';
import { SitePage } from '../pages/site-page.js';
import { startExtraSite } from '../extra-site.js';
import { PORTS, URLS } from '../ports.js';
import { admin, newUser, shot } from '../support.js';

/** Requests the browser makes to the hub's authorization endpoint. */
function countAuthorizeRequests(page: import('@playwright/test').Page): () => number {
  let count = 0;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === URLS.hub && url.pathname === '/auth') count += 1;
  });
  return () => count;
}

test('issue 10: a wrong client secret ends on the kit\'s error page after one hub round trip, never a redirect loop', async ({ browser }) => {
  const site = await startExtraSite(PORTS.extra, (real) => ({ ...real, clientSecret: 'a-client-secret-the-hub-never-issued-0123456789' }));
  const user = await newUser('loop');
  const context = await browser.newContext();
  const page = await context.newPage();
  const authorizeRequests = countAuthorizeRequests(page);
  try {
    await page.goto(`${site.url}/private`);
    // requireLogin → /sso/login → the hub's sign-in page.
    await new HubPage(page).signIn(user.login, user.password);
    const error = new KitErrorPage(page);
    await error.expectShown(502, 'invalid_client');
    await shot(page, '10-wrong-client-secret');
    expect(new URL(page.url()).pathname).toBe('/sso/callback');
    // Give a loop the time to show itself: nothing more happens.
    await page.waitForTimeout(1_000);
    expect(new URL(page.url()).pathname).toBe('/sso/callback');
    expect(authorizeRequests()).toBe(1);
    await error.continueWithoutSigningIn();
    await new SitePage(page, site.url).expectAnonymous();
    expect(authorizeRequests()).toBe(1);
  } finally {
    await context.close();
    await site.close();
  }
});

test('issue 10: a wrong sync key: sign-out at the hub leaves the site signed in; the integration check says "wrong key"', async ({ browser }) => {
  const site = await startExtraSite(PORTS.extra, (real) => ({ ...real, syncKey: 'a-sync-key-the-hub-never-issued-0123456789abc' }));
  const user = await newUser('synckey');
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const hub = new HubPage(page);
    await hub.signInAtPortal(user.login, user.password);
    const extra = new SitePage(page, site.url);
    // The sync beacon was refused (wrong key), so the site signs in on a click, not by itself.
    await extra.open('/');
    await extra.expectAnonymous();
    await extra.clickSignIn();
    await extra.expectSignedInAs(user.name);

    await hub.signOut();
    await extra.open('/');
    // The defect the check exists for: the synclogout beacon was refused, the site never heard.
    await extra.expectSignedInAs(user.name);
    await shot(page, '10-wrong-sync-key-still-signed-in');

    const report = await admin('clients', 'check', site.clientId, '--base-url', site.internalUrl).catch((error: Error) => error.message);
    expect(report).toContain('synclogin: wrong key');
    expect(report).toContain('synclogout: wrong key');
    expect(report).toContain(`${site.clientId}: FAILED`);
  } finally {
    await context.close();
    await site.close();
  }
});
