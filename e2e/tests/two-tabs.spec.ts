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

test('three bbs tabs reloaded together after a sign-in at the hub: none ends on "Sign-in failed", and each is signed in by its next view at the latest', async ({ browser }) => {
  // Tabs whose page views leave together each make a silent check (prompt=none) for the same hub
  // session. Before, each made the session a grant of its own, the session kept the last one saved,
  // and the hub refused the other tabs' codes at the token endpoint: "Sign-in failed" in two of
  // three tabs. A tab whose view leaves while another tab's check is pending is served as it is
  // (the kit starts no second check then), and a tab whose check finished second must not end the
  // session the first made under the first tab's page view (hub/test/silent-codes-at-once.test.ts
  // and subsite-kit/src/routes/tabs-at-once.test.ts hold the two deterministically).
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
  for (const tab of tabs) await expect(tab.getByText('Sign-in failed')).toHaveCount(0);
  for (const tab of tabs) {
    if (await tab.getByTestId('user-name').count() === 0) await tab.reload();
    await new SitePage(tab, URLS.bbs).expectSignedInAs(user.name);
  }
  await context.close();
});
