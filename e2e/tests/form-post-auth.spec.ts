import { createHash, randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { PostingSite } from '../pages/posting-site.js';
import { PORTS, URLS } from '../ports.js';
import { admin, newUser, shot } from '../support.js';

/**
 * OIDC Core §3.1.2.1: a site's form POST to the authorization endpoint. The hub answered it with a
 * redirect carrying every posted value in the URL, so `state` and `login_hint` showed in the
 * address bar and stayed in the history; now the URL carries only a handle of the form the hub
 * keeps (hub/src/oidc/post-as-get.ts).
 */
test('a site\'s form POST to /auth: the sign-in works with what was posted, and no URL the tab showed or requested on the hub holds its state, nonce or login_hint', async ({ browser }) => {
  const port = PORTS.extra + 5;
  const rp = `http://rp-post.localhost:${port}`; // cross-site to the hub, as most sites that post are
  const out = await admin('clients', 'add', '--id', `rp-post-${Date.now()}`, '--name', 'Posting Site', '--trusted', '--redirect-uri', `${rp}/cb`);
  const clientId = /registered client (\S+)/.exec(out)![1]!;
  // A running hub takes a new client up within a second (README, "Admin CLI"): its cache may still
  // answer "unknown" for that long (the run of 0f2b81d's CI rehearsal failed on it once).
  const registered = Date.now();
  const user = await newUser('paula');
  const state = `state-${randomBytes(12).toString('hex')}`;
  const verifier = randomBytes(32).toString('base64url');
  const fields = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: `${rp}/cb`,
    scope: 'openid profile',
    state,
    nonce: `nonce-${randomBytes(12).toString('hex')}`,
    login_hint: user.login,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  const context = await browser.newContext();
  const page = await context.newPage();
  const site = new PostingSite(page, rp);
  try {
    await site.start(port, `${URLS.hub}/auth`, fields);
    await site.open();
    await page.waitForTimeout(Math.max(0, registered + 1_100 - Date.now()));
    await site.submit();
    const hub = new HubPage(page);
    await hub.expectSignInForm();
    // The posted login_hint reached the endpoint: the sign-in form is filled with it.
    await expect(page.getByTestId('login-username')).toHaveValue(user.login);
    await shot(page, 'form-post-auth-sign-in');
    await page.getByTestId('login-password').fill(user.password);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(`${rp}/cb?**`);
    // The answer goes back to the site with the state it posted.
    expect(new URL(page.url()).searchParams.get('state')).toBe(state);
    // Neither the address bar and history nor any request line on the way (a proxy's or the
    // hub's access log) held what the site posted: the redirect carries only the handle.
    const onHub = [...site.shown, ...site.requested].filter((url) => url.startsWith(URLS.hub));
    for (const url of onHub) {
      expect(url).not.toContain(state);
      expect(url).not.toContain(user.login);
      expect(url).not.toContain(fields.nonce);
    }
    expect(site.requested.some((url) => url.startsWith(`${URLS.hub}/auth?hub-posted-form=`))).toBe(true);
  } finally {
    await site.stop();
    await context.close();
  }
});
