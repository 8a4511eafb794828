import { expect, test } from '@playwright/test';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { shot } from '../support.js';

test('issue 10: Cancel on the hub\'s sign-in page, started from a protected page, returns to the site\'s public page, no loop', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let authorizeRequests = 0;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === URLS.hub && url.pathname === '/auth') authorizeRequests += 1;
  });
  const bbs = new SitePage(page, URLS.bbs);
  await bbs.open('/private');
  await expect(page.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForURL(`${URLS.bbs}/`);
  await bbs.expectAnonymous();
  await page.waitForTimeout(500);
  expect(new URL(page.url()).pathname).toBe('/');
  expect(authorizeRequests).toBe(1);
  await shot(page, '10-cancel-to-public-page');
  await context.close();
});
