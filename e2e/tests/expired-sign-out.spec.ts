import { expect, test, type BrowserContext } from '@playwright/test';
import { createClient } from 'redis';
import { digest } from '../../hub/src/store/keys.js';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { KEY_PREFIX, REDIS_URL, URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

/**
 * The browser's hub session expires from idle (HUB_SESSION_TTL; subsite page views do not
 * refresh it): its record is deleted from the demo's store, as Redis does at expiry, since the
 * demo's 12 h cannot be waited for (the e2e demo runs with one HUB_SESSION_TTL for every spec).
 */
async function hubSessionExpires(context: BrowserContext): Promise<void> {
  const id = (await context.cookies(URLS.hub)).find((c) => c.name === 'hub_session')?.value;
  if (!id) throw new Error('no hub_session cookie');
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    expect(await redis.del(`${KEY_PREFIX}oidc:Session:${digest(id)}`)).toBe(1);
  } finally {
    await redis.quit();
  }
}

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

  await hubSessionExpires(context);
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
