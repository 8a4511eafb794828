import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { expireHubSession, newUser, shot } from '../support.js';

// A browser review: signed in at wiki (bbs followed), the hub session expired, Sign out on bbs
// signed out bbs alone; wiki kept showing the user on a shared computer.
test('signing out at bbs after the hub session expired signs the browser out of wiki too', async ({ browser }) => {
  const user = await newUser('zhangsan');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const bbs = new SitePage(page, URLS.bbs);
  const wiki = new SitePage(page, URLS.wiki);

  await hub.signInAtPortal(user.login, user.password);
  await wiki.open('/');
  await wiki.clickSignIn();
  await hub.allowConsent();
  await page.waitForURL(`${URLS.wiki}/`);
  await wiki.expectSignedInAs(user.name);
  await bbs.open('/');
  await bbs.expectSignedInAs(user.name);

  await expireHubSession(context);
  expect(await hub.isSignedIn()).toBe(false);
  // The sites still show the user (their own sessions): only a sign-out ends them.
  await wiki.open('/');
  await wiki.expectSignedInAs(user.name);

  await bbs.open('/');
  await bbs.expectSignedInAs(user.name);
  const beacons: string[] = [];
  page.on('request', (request) => { if (request.url().includes('/sso/synclogout')) beacons.push(new URL(request.url()).origin); });
  await bbs.signOut();
  await page.waitForURL(`${URLS.bbs}/`);
  await bbs.expectAnonymous();
  await shot(page, 'expired-sign-out-bbs');

  await wiki.open('/');
  await wiki.expectAnonymous();
  await shot(page, 'expired-sign-out-wiki');
  await bbs.open('/');
  await bbs.expectAnonymous();
  // The hub's sync page pinged both (shop, cross-site, gets its beacon without its cookies: its
  // crossSite re-check signs it out, as for any hub session that ended without a sign-out).
  expect(beacons).toEqual(expect.arrayContaining([URLS.bbs, URLS.wiki]));
  await context.close();
});
