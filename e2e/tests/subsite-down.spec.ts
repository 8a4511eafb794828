import { expect, test } from '@playwright/test';
import { createServer } from 'node:http';
import { loadDemoConfig } from '../../demo-sites/src/demo-config.js';
import { createDemoSite } from '../../demo-sites/src/site.js';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { DEMO_ENV, PORTS, URLS } from '../ports.js';
import { admin, newUser, shot } from '../support.js';

test('5. a subsite that is down does not block sign-in; it catches up on its next visit', async ({ browser }) => {
  // A fourth subsite, registered but not running.
  const out = await admin(
    'clients', 'add', '--id', `down-${Date.now()}`, '--name', 'Down Site', '--trusted',
    '--redirect-uri', `${URLS.down}/sso/callback`, '--post-logout-uri', `${URLS.down}/`,
    '--sync-login-url', `${URLS.down}/sso/synclogin`, '--sync-logout-url', `${URLS.down}/sso/synclogout`,
  );
  const clientId = /registered client (\S+)/.exec(out)![1]!;
  const clientSecret = /client secret \(shown once\): (\S+)/.exec(out)![1]!;
  const syncKey = /sync key \(shown once\): (\S+)/.exec(out)![1]!;

  const user = await newUser('frank');
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  await new HubPage(page).signInAtPortal(user.login, user.password);
  expect(Date.now() - started).toBeLessThan(10_000);
  await shot(page, '5-signed-in-with-a-site-down');

  // The site comes up; on its next visit (a sign-in click) no password is asked.
  const config = loadDemoConfig({ ...DEMO_ENV, REDIS_URL: undefined });
  const app = await createDemoSite(
    { name: 'bbs', clientId, title: 'Down Site', port: PORTS.down, origin: URLS.down, clientSecret, syncKey, trusted: true, crossSite: false },
    config,
  );
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(PORTS.down, '127.0.0.1', resolve));
  try {
    const site = new SitePage(page, URLS.down);
    await site.open('/');
    await site.expectAnonymous();
    await site.clickSignIn();
    await page.waitForURL(`${URLS.down}/`); // the sign-in link returns to the page it was on
    await site.expectSignedInAs(user.name);
    await shot(page, '5-site-caught-up');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await context.close();
  }
});
