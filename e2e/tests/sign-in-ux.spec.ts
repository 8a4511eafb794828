import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

/** Texts of the hub's error pages for old sign-in pages: a signed-in user never sees them. */
const EXPIRED = /This sign-in page has expired|This form has expired/;

test('back button after sign-in: the old sign-in page continues to the account page, no error', async ({ browser }) => {
  const user = await newUser('back');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  await hub.signInAtPortal(user.login, user.password);
  await page.goBack();
  await page.waitForURL(`${URLS.hub}/account`);
  await hub.expectAccountOf(user.login);
  await expect(page.locator('body')).not.toContainText(EXPIRED);
  await shot(page, 'ux-back-after-sign-in');
  await context.close();
});

test('two tabs: the second sign-in form, sent after the first tab signed in, continues instead of 403', async ({ browser }) => {
  const user = await newUser('tabs');
  const context = await browser.newContext();
  const first = await context.newPage();
  const second = await context.newPage();
  const hub1 = new HubPage(first);
  const hub2 = new HubPage(second);
  await hub1.gotoLogin('/account');
  await hub2.gotoLogin('/account');
  await hub2.expectSignInForm();
  await hub1.signIn(user.login, user.password);
  await first.waitForURL(`${URLS.hub}/account`);

  await hub2.signIn(user.login, user.password);
  await second.waitForURL(`${URLS.hub}/account`);
  await hub2.expectAccountOf(user.login);
  await expect(second.locator('body')).not.toContainText(EXPIRED);
  await shot(second, 'ux-second-tab');
  await context.close();
});

test('Cancel on the hub sign-in started from bbs /private: back on bbs, anonymous, no loop', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authorizationRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${URLS.hub}/auth?`)) authorizationRequests.push(request.url());
  });
  const bbs = new SitePage(page, URLS.bbs);
  const hub = new HubPage(page);
  await bbs.open('/private');
  await page.waitForURL(new RegExp(`^${URLS.hub}/interaction/`));
  await hub.expectSignInForm();
  await hub.cancelSignIn();
  await page.waitForURL((url) => url.origin === URLS.bbs);
  await bbs.expectAnonymous();
  // Stays there: no second authorization request, no way back to the sign-in page by itself.
  await page.waitForTimeout(1_500);
  expect(new URL(page.url()).origin).toBe(URLS.bbs);
  expect(authorizationRequests).toHaveLength(1);
  await shot(page, 'ux-cancel-back-on-bbs');
  await context.close();
});

test('/favicon.ico answers on every origin (hub, bbs, wiki, shop, forum)', async ({ browser }) => {
  // In Chromium: Node does not resolve *.localhost.
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const origin of [URLS.hub, URLS.bbs, URLS.wiki, URLS.shop, URLS.forum]) {
    const response = await page.goto(`${origin}/favicon.ico`);
    expect(response!.status(), origin).toBe(200);
    expect(response!.headers()['content-type'], origin).toMatch(/^image\//);
  }
  await context.close();
});

test("the hub's 404 is a page, with a way home", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(`${URLS.hub}/no/such/page`);
  expect(response!.status()).toBe(404);
  await expect(page.getByTestId('error-title')).toHaveText('Page not found');
  await expect(page.getByRole('link', { name: 'Go to sso-hub' })).toBeVisible();
  await shot(page, 'ux-404');
  await context.close();
});

test('the #fragment of the site page a sign-in started from is there again after it: bbs (password) and wiki (password, then consent)', async ({ browser }) => {
  // An outside review: path and query came back, the fragment was lost at the sign-in form's POST.
  const user = await newUser('fragment');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  await page.goto(`${URLS.bbs}/private?tab=2#section-3`);
  await page.waitForURL(new RegExp(`^${URLS.hub}/interaction/`));
  await hub.signIn(user.login, user.password);
  await page.waitForURL((url) => url.origin === URLS.bbs);
  expect(page.url()).toBe(`${URLS.bbs}/private?tab=2#section-3`);
  await new SitePage(page, URLS.bbs).expectSignedInAs(user.name);

  // Signed in at the hub now: wiki asks only its consent, whose form keeps the fragment too.
  await page.goto(`${URLS.wiki}/private?q=1#notes`);
  await page.waitForURL(new RegExp(`^${URLS.hub}/interaction/`));
  await hub.allowConsent();
  await page.waitForURL((url) => url.origin === URLS.wiki);
  expect(page.url()).toBe(`${URLS.wiki}/private?q=1#notes`);
  await context.close();
});

test('Back to a finished sign-in page after signing out: a way back to the site (bbs) or a new sign-in (portal), not "expired"', async ({ browser }) => {
  const user = await newUser('back-out');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const bbs = new SitePage(page, URLS.bbs);

  // Signs in from bbs: the hub's sign-in page is an entry of the history.
  await bbs.open('/');
  await bbs.clickSignIn();
  await hub.expectSignInForm();
  const siteSignInPage = page.url();
  await hub.signIn(user.login, user.password);
  await page.waitForURL(`${URLS.bbs}/**`);
  await bbs.expectSignedInAs(user.name);
  // Signs out at the hub, then goes Back through the history to that sign-in page (the hub's pages
  // are no-store: Back fetches them again, as this goto does).
  await hub.signOut();
  await page.goto(siteSignInPage);
  await expect(page.locator('body')).not.toContainText(EXPIRED);
  await expect(page.getByTestId('error-title')).toHaveText('You have signed out since');
  await page.getByTestId('error-back').click();
  await page.waitForURL(`${URLS.bbs}/`);
  await bbs.expectAnonymous();
  await shot(page, 'ux-back-to-site-sign-in-after-sign-out');

  // The portal's own sign-in page: a new one, for the same destination.
  await hub.gotoLogin('/account');
  const portalSignInPage = page.url();
  await hub.signIn(user.login, user.password);
  await page.waitForURL(`${URLS.hub}/account`);
  await hub.signOut();
  await page.goto(portalSignInPage);
  await hub.expectSignInForm();
  await expect(page.locator('body')).not.toContainText(EXPIRED);
  await hub.signIn(user.login, user.password);
  await page.waitForURL(`${URLS.hub}/account`);
  await hub.expectAccountOf(user.login);
  await context.close();
});
