import { expect, test, type BrowserContext } from '@playwright/test';
import { createClient } from 'redis';
import { digest } from '../../hub/src/store/keys.js';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { KEY_PREFIX, REDIS_URL, URLS } from '../ports.js';
import { newUser } from '../support.js';

/** The value of the browser's cookie `name` for `url`. */
async function cookie(context: BrowserContext, url: string, name: string): Promise<string> {
  const found = (await context.cookies(url)).find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} cookie for ${url}`);
  return found.value;
}

/**
 * The hub session of this browser ends without a logout (as when it expires), and shop's session
 * was last verified 16 minutes ago (its crossSiteRecheckSeconds is the default 900): both written
 * in Redis, since neither can be waited for in a test.
 */
async function hubSessionExpiresAndTimePasses(context: BrowserContext): Promise<void> {
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    const hubSession = `${KEY_PREFIX}oidc:Session:${digest(await cookie(context, URLS.hub, 'hub_session'))}`;
    expect(await redis.del(hubSession)).toBe(1);
    const signed = decodeURIComponent(await cookie(context, URLS.shop, 'sso.sid')); // s:<id>.<signature>
    const key = `${KEY_PREFIX}demo:shop:sess:${signed.slice(2, signed.lastIndexOf('.'))}`;
    const stored = JSON.parse((await redis.get(key))!) as { sso: { verifiedAt: number } };
    stored.sso.verifiedAt -= 16 * 60;
    await redis.set(key, JSON.stringify(stored), { KEEPTTL: true });
  } finally {
    await redis.quit();
  }
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
