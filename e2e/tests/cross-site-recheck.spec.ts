import { expect, test, type BrowserContext } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { KEY_PREFIX, URLS } from '../ports.js';
import { cookieOf, expireHubSession, newUser, withDemoRedis } from '../support.js';

/**
 * The hub session of this browser ends without a logout (as when it expires), and shop's session
 * was last verified 16 minutes ago (its crossSiteRecheckSeconds is the default 900): both written
 * in Redis, since neither can be waited for in a test.
 */
async function hubSessionExpiresAndTimePasses(context: BrowserContext): Promise<void> {
  await expireHubSession(context);
  const signed = decodeURIComponent(await cookieOf(context, URLS.shop, 'sso.sid')); // s:<id>.<signature>
  const key = `${KEY_PREFIX}demo:shop:sess:${signed.slice(2, signed.lastIndexOf('.'))}`;
  await withDemoRedis(async (redis) => {
    const stored = JSON.parse((await redis.get(key))!) as { sso: { verifiedAt: number } };
    stored.sso.verifiedAt -= 16 * 60;
    await redis.set(key, JSON.stringify(stored), { KEEPTTL: true });
  });
}

test('cross-site shop: after the hub session ended without a logout and another user signed in, shop re-checks and follows', async ({ browser }) => {
  const bob = await newUser('bob');
  const zhangsan = await newUser('zhangsan');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const shop = new SitePage(page, URLS.shop);
  await hub.signInAtPortal(bob.login, bob.password);
  await shop.open('/private');
  await shop.expectSignedInAs(bob.name);

  await hubSessionExpiresAndTimePasses(context);
  await hub.signInAtPortal(zhangsan.login, zhangsan.password);
  // The sync beacon could not tell shop (its cookies are dropped cross-site); the re-check does.
  await shop.open('/private');
  await shop.expectSignedInAs(zhangsan.name);
  // Verified again just now: the next page views stay on shop.
  const hubVisits: string[] = [];
  page.on('request', (request) => { if (request.url().startsWith(URLS.hub)) hubVisits.push(request.url()); });
  await shop.open('/');
  await shop.expectSignedInAs(zhangsan.name);
  expect(hubVisits).toEqual([]);
  await context.close();
});
