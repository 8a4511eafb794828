import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

test('the same bbs sign-in link opened in two tabs: the tab finished last comes back signed in too', async ({ browser }) => {
  const user = await newUser('twice');
  const context = await browser.newContext();
  const [first, second] = [await context.newPage(), await context.newPage()];
  await new SitePage(first, URLS.bbs).open('/private');
  await new SitePage(second, URLS.bbs).open('/private');
  await new HubPage(second).signIn(user.login, user.password);
  await second.waitForURL(`${URLS.bbs}/private`);
  await new HubPage(first).signIn(user.login, user.password);
  await first.waitForURL(`${URLS.bbs}/private`, { timeout: 15_000 });
  await new SitePage(first, URLS.bbs).expectSignedInAs(user.name);
  await context.close();
});

test('a sign-in form for user 2, sent after another tab signed in as user 1, says who is signed in instead of going on as user 1', async ({ browser }) => {
  const [one, two] = [await newUser('one'), await newUser('two')];
  const context = await browser.newContext();
  const [first, second] = [await context.newPage(), await context.newPage()];
  await new SitePage(second, URLS.bbs).open('/private');
  await new HubPage(first).signInAtPortal(one.login, one.password);

  await new HubPage(second).signIn(two.login, two.password);
  await expect(second.getByTestId('signed-in-as')).toContainText(one.name);
  await shot(second, 'two-tabs-signed-in-as');
  await second.getByTestId('continue-as').click();
  await second.waitForURL(`${URLS.bbs}/private`);
  await new SitePage(second, URLS.bbs).expectSignedInAs(one.name);
  await context.close();
});

test('three bbs tabs reloaded together after a sign-in at the hub: each checks silently and every one comes back signed in', async ({ browser }) => {
  // Each tab makes its own silent check (prompt=none) for the same hub session at the same moment.
  // Before, each made the session a grant of its own, the session kept the last one saved, and the
  // hub refused the other tabs' codes at the token endpoint: "Sign-in failed" in two of three tabs.
  const user = await newUser('tabs');
  const context = await browser.newContext();
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  for (const tab of tabs) {
    await new SitePage(tab, URLS.bbs).open('/');
    await new SitePage(tab, URLS.bbs).expectAnonymous();
  }
  const hub = await context.newPage();
  await new HubPage(hub).signInAtPortal(user.login, user.password);
  await Promise.all(tabs.map((tab) => tab.reload()));
  for (const tab of tabs) {
    await expect(tab.getByText('Sign-in failed')).toHaveCount(0);
    await new SitePage(tab, URLS.bbs).expectSignedInAs(user.name);
  }
  await context.close();
});
