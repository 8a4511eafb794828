import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

// A browser review acting as people who leave pages open and come back to them.

test("the hub's sign-in page left open until it expired: sent, the sign-in starts again with the login kept, then signs in", async ({ browser }) => {
  const user = await newUser('leftopen');
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  await hub.gotoLogin('/account?tab=sites');
  await page.getByTestId('login-username').fill(user.login);
  await page.getByTestId('login-password').fill(user.password);
  // An hour later: the page's portal session and interaction (cookies of an hour) are gone.
  await context.clearCookies();
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('login-restarted')).toBeVisible();
  await expect(page.locator('body')).not.toContainText(/This form has expired|This sign-in page has expired/);
  await expect(page.getByTestId('login-username')).toHaveValue(user.login);
  await expect(page.getByTestId('login-password')).toBeFocused();
  await shot(page, 'left-open-sign-in-restarted');
  await page.getByTestId('login-password').fill(user.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${URLS.hub}/account?tab=sites`);
  await hub.expectAccountOf(user.login);
  await context.close();
});

test("a site's sign-in answer opened again by a signed-in member: the site's page, signed in, not 'Sign-in failed'", async ({ browser }) => {
  const user = await newUser('reload-cb');
  const context = await browser.newContext();
  const page = await context.newPage();
  const answers: string[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.url().startsWith(`${URLS.bbs}/sso/callback?`)) answers.push(request.url());
  });
  const bbs = new SitePage(page, URLS.bbs);
  await bbs.open('/private');
  await new HubPage(page).signIn(user.login, user.password);
  await page.waitForURL(`${URLS.bbs}/private`);
  await bbs.expectSignedInAs(user.name);
  expect(answers).toHaveLength(1);
  await page.goto(answers[0]!);
  await expect(page.locator('body')).not.toContainText('Sign-in failed');
  await expect(page).toHaveURL(`${URLS.bbs}/`);
  await bbs.expectSignedInAs(user.name);
  await context.close();
});
