import { expect, test, type BrowserContext } from '@playwright/test';
import { SignJWT } from 'jose';
import { DEMO_SECRETS } from '../../demo-sites/src/demo-config.js';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

function requestLoginCookie(cookies: Awaited<ReturnType<BrowserContext['cookies']>>) {
  return cookies.find((cookie) => cookie.name.endsWith('request-login'));
}

test('1. sign in once at the hub: bbs and wiki are signed in without a password; wiki asks consent once', async ({ browser }) => {
  const user = await newUser('alice');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  await hub.signInAtPortal(user.login, user.password);
  await shot(page, '1-hub-account');

  // The sync beacons left a Request-Login marker on both same-site subsites, and no session.
  const bbsCookies = await context.cookies(URLS.bbs);
  expect(requestLoginCookie(bbsCookies)).toBeTruthy();
  expect(bbsCookies.find((c) => c.name.endsWith('sid'))).toBeFalsy();

  const bbs = new SitePage(page, URLS.bbs);
  await bbs.open('/');
  await bbs.expectSignedInAs(user.name);
  await shot(page, '1-bbs-signed-in');

  // The subsite's session cookie lives for the browser session only.
  const sid = (await context.cookies(URLS.bbs)).find((c) => c.name.endsWith('sid'));
  expect(sid?.expires).toBe(-1);

  const wiki = new SitePage(page, URLS.wiki);
  await wiki.open('/');
  // The wiki's silent check answers consent_required the first time: anonymous, no loop.
  await wiki.expectAnonymous();
  await wiki.clickSignIn();
  await expect(page.getByRole('button', { name: 'Allow' })).toBeVisible();
  await shot(page, '1-wiki-consent');
  await hub.allowConsent();
  // The demo's sign-in link returns to the page it was clicked on.
  await page.waitForURL(`${URLS.wiki}/`);
  await wiki.expectSignedInAs(user.name);

  // Next browser session: consent is remembered, the wiki signs in silently after a hub sign-in.
  const second = await browser.newContext();
  const page2 = await second.newPage();
  await new HubPage(page2).signInAtPortal(user.login, user.password);
  const wiki2 = new SitePage(page2, URLS.wiki);
  await wiki2.open('/');
  await wiki2.expectSignedInAs(user.name);
  await shot(page2, '1-wiki-remembered-consent');
  await second.close();
  await context.close();
});

test('2. sign out on wiki: bbs is signed out on its next page load, and so is the hub', async ({ browser }) => {
  const user = await newUser('bob');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const bbs = new SitePage(page, URLS.bbs);
  const wiki = new SitePage(page, URLS.wiki);

  await hub.signInAtPortal(user.login, user.password);
  await wiki.open('/');
  await wiki.clickSignIn();
  await hub.allowConsent();
  await wiki.expectSignedInAs(user.name);
  await bbs.open('/');
  await bbs.expectSignedInAs(user.name);

  await wiki.open('/');
  await wiki.signOut();
  // The hub's sync page signs every subsite out, then returns to the wiki.
  await page.waitForURL(`${URLS.wiki}/`);
  await wiki.expectAnonymous();
  await shot(page, '2-wiki-signed-out');

  await bbs.open('/');
  await bbs.expectAnonymous();
  await shot(page, '2-bbs-signed-out');
  expect(await hub.isSignedIn()).toBe(false);
  await context.close();
});

test('3. a new browser session drops subsite sessions; the hub decides', async ({ browser }) => {
  const user = await newUser('carol');
  for (const remember of [false, true]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await new HubPage(page).signInAtPortal(user.login, user.password, { remember });
    const bbs = new SitePage(page, URLS.bbs);
    await bbs.open('/');
    await bbs.expectSignedInAs(user.name);

    // "Close the browser": keep only persistent cookies.
    const state = await context.storageState();
    await context.close();
    const persisted = { ...state, cookies: state.cookies.filter((cookie) => cookie.expires !== -1) };
    const reopened = await browser.newContext({ storageState: persisted });
    const page2 = await reopened.newPage();
    const bbs2 = new SitePage(page2, URLS.bbs);
    // The kit's long-lived remember marker makes the first page view one silent check: the hub
    // session decides (issue 10): signed in with "keep me signed in", anonymous without.
    await bbs2.open('/');
    if (remember) await bbs2.expectSignedInAs(user.name);
    else await bbs2.expectAnonymous();
    const hub2 = new HubPage(page2);
    expect(await hub2.isSignedIn()).toBe(remember);
    await shot(page2, `3-reopened-remember-${remember}`);
    await reopened.close();
  }
});

test('4. a forged, expired or replayed sync code sets no cookie', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const key = new TextEncoder().encode(DEMO_SECRETS.bbs.syncKey);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: { iat: number; exp: number }, signingKey = key) =>
    new SignJWT({ act: 'login', sid: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'sync+jwt' })
      .setIssuer(URLS.hub)
      .setAudience('bbs')
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setJti(crypto.randomUUID())
      .sign(signingKey);

  const forged = await sign({ iat: now, exp: now + 60 }, new TextEncoder().encode('an-attacker-key-that-is-long-enough-0000'));
  const expired = await sign({ iat: now - 600, exp: now - 540 });
  for (const code of [forged, expired, 'not-a-jws']) {
    const response = await page.goto(`${URLS.bbs}/sso/synclogin?time=${now}&code=${encodeURIComponent(code)}`);
    expect(response!.status()).toBeGreaterThanOrEqual(400);
    expect(requestLoginCookie(await context.cookies(URLS.bbs))).toBeFalsy();
  }

  // Replay: a real code from a real sync page, used a second time in another browser.
  const user = await newUser('dave');
  const victim = await browser.newContext();
  const victimPage = await victim.newPage();
  const captured: string[] = [];
  victimPage.on('request', (request) => {
    if (request.url().startsWith(`${URLS.bbs}/sso/synclogin`)) captured.push(request.url());
  });
  await new HubPage(victimPage).signInAtPortal(user.login, user.password);
  expect(captured).toHaveLength(1);
  const replay = await page.goto(captured[0]!);
  expect(replay!.status()).toBeGreaterThanOrEqual(400);
  expect(requestLoginCookie(await context.cookies(URLS.bbs))).toBeFalsy();
  await shot(page, '4-replayed-code-refused');
  await victim.close();
  await context.close();
});

test('6. the hub cannot be framed by another origin', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const blocked: string[] = [];
  page.on('console', (message) => blocked.push(message.text()));
  await page.goto(`${URLS.bbs}/`);
  await page.setContent(`<iframe id="f" src="${URLS.hub}/login" width="600" height="400"></iframe>`);
  await page.waitForTimeout(1500);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const framedHasForm = frame ? await frame.locator('input[name="password"]').count().catch(() => 0) : 0;
  expect(framedHasForm).toBe(0);
  await shot(page, '6-framing-blocked');
  await context.close();
});

test('7. cross-site shop: signed in through the one silent check, and no redirect loop when signed out', async ({ browser }) => {
  const user = await newUser('erin');
  const context = await browser.newContext();
  const page = await context.newPage();
  await new HubPage(page).signInAtPortal(user.login, user.password);

  // Chromium blocks third-party cookies: the cross-site beacon left nothing on shop.localhost.
  expect(requestLoginCookie(await context.cookies(URLS.shop))).toBeFalsy();
  const shop = new SitePage(page, URLS.shop);
  await shop.open('/');
  await shop.expectSignedInAs(user.name);
  await shot(page, '7-shop-signed-in');

  // A browser with no hub session: exactly one silent check, then anonymous, no loop.
  const anon = await browser.newContext();
  const anonPage = await anon.newPage();
  const hubHits: string[] = [];
  anonPage.on('request', (request) => {
    if (request.url().startsWith(URLS.hub)) hubHits.push(request.url());
  });
  const shop2 = new SitePage(anonPage, URLS.shop);
  await shop2.open('/');
  await shop2.expectAnonymous();
  await shop2.open('/');
  await shop2.expectAnonymous();
  expect(hubHits.filter((url) => url.includes('/auth'))).toHaveLength(1);
  await shot(anonPage, '7-shop-anonymous-no-loop');
  await anon.close();
  await context.close();
});
