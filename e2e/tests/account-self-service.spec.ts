import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { AccessibilityCheck } from '../pages/accessibility.js';
import { AccountDeletePage } from '../pages/account-delete-page.js';
import { HubPage } from '../pages/hub-page.js';
import { SignupPage } from '../pages/signup-page.js';
import { SitePage } from '../pages/site-page.js';
import { TwoStepPage } from '../pages/two-step-page.js';
import { URLS } from '../ports.js';
import { admin, newUser } from '../support.js';

/**
 * The account page's self-service in Debian's Chromium: "Delete my account" (axe WCAG 2.2 A/AA,
 * errors tied to their field and focused, en and zh-CN), each session's browser, and Back after a
 * refused form, which must not ask "Confirm Form Resubmission" (POST-redirect-GET), and a long
 * e-mail address or display name, which must wrap at 320 px (WCAG 1.4.10) and not widen the page.
 */
const LOCALES = ['en', 'zh-CN'] as const;
type Locale = (typeof LOCALES)[number];
const TITLE_ERROR: Record<Locale, string> = Object.fromEntries(
  LOCALES.map((locale) => [locale, (JSON.parse(readFileSync(new URL(`../../hub/locales/${locale}/common.json`, import.meta.url), 'utf8')) as { titleError: string }).titleError]),
) as Record<Locale, string>;

async function expectAccessible(page: Page, name: string): Promise<void> {
  const check = new AccessibilityCheck(page);
  expect.soft(await check.violations(), `axe on ${name}`).toEqual([]);
  expect.soft(await check.overflowAt(320), `sideways scrolling at 320 px on ${name}`).toBe(0);
}

for (const locale of LOCALES) {
  test(`delete my account: accessible, errors on their field, then signed out (${locale})`, async ({ browser }) => {
    const context = await browser.newContext({ locale, extraHTTPHeaders: { 'accept-language': locale } });
    const page = await context.newPage();
    const hub = new HubPage(page);
    const user = await newUser('self-delete');
    await hub.signInAtPortal(user.login, user.password);
    // This browser, named on the account page (Chromium on Linux).
    await expect(page.getByTestId('this-device')).toContainText('Chrom');

    const deletion = new AccountDeletePage(page);
    await deletion.openFromAccount();
    await expectAccessible(page, `delete page (${locale})`);

    await deletion.submit('not-the-password');
    await expect(page.getByTestId('delete-error')).toBeVisible();
    expect(page.url()).toBe(`${URLS.hub}/account/delete`);
    expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
    await expect(page.getByTestId('delete-current')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByTestId('delete-current')).toBeFocused();
    await expectAccessible(page, `delete page with an error (${locale})`);

    await deletion.submit(user.password);
    await deletion.expectDeleted();
    await expectAccessible(page, `account deleted (${locale})`);
    expect(await hub.isSignedIn()).toBe(false);
    await context.close();
  });
}

test('Back after a refused form and a change: no "Confirm Form Resubmission", the page is fetched with GET', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const user = await newUser('prg');
  await hub.signInAtPortal(user.login, user.password);

  // Refused: a wrong current password. The page shows the error, under GET /account.
  await page.getByTestId('password-current').fill('not-the-password');
  await page.getByTestId('password-new').fill('orbit tulip cactus lantern');
  await page.getByTestId('password-confirm').fill('orbit tulip cactus lantern');
  await page.getByTestId('password-submit').click();
  await expect(page.getByTestId('password-error')).toBeVisible();
  await expect(page.getByTestId('password-current')).toBeFocused();

  // A change that goes through, then Back to the page with the error.
  await page.getByTestId('name-input').fill('New Name');
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('account-done')).toBeVisible();
  const back = await page.goBack();
  // Before, this entry was the POST's answer: Chromium refused to show it without sending the form again (ERR_CACHE_MISS).
  expect(back).not.toBeNull();
  expect(back!.request().method()).toBe('GET');
  expect(page.url()).toBe(`${URLS.hub}/account`);
  await expect(page.getByTestId('account-name')).toHaveText('New Name');
  await context.close();
});

test('Back after a refused two-step form: no "Confirm Form Resubmission", the two-step page is fetched with GET', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const user = await newUser('prg-two-step');
  await hub.signInAtPortal(user.login, user.password);
  const twoStep = new TwoStepPage(page);
  await twoStep.openFromAccount();
  const secret = await twoStep.secret();

  // Refused: a wrong password on the enrolment form. The page shows the error, under GET /account/two-step.
  await page.getByTestId('enrol-password').fill('not-the-password');
  await page.getByTestId('enrol-code').fill('123456');
  await page.getByTestId('enrol-submit').click();
  await expect(page.getByTestId('two-step-error')).toBeVisible();
  await expect(page.getByTestId('enrol-password')).toBeFocused();
  expect(page.url()).toBe(`${URLS.hub}/account/two-step`);
  // The same set-up: the app the owner scanned still fits.
  expect(await twoStep.secret()).toBe(secret);

  // On to the account page, then Back to the page with the error.
  await page.getByTestId('two-step-back').click();
  await page.waitForURL(`${URLS.hub}/account`);
  const back = await page.goBack();
  // Answered in the POST, this entry was the POST's answer: Chromium would not show it without sending the password again (ERR_CACHE_MISS).
  expect(back).not.toBeNull();
  expect(back!.request().method()).toBe('GET');
  expect(page.url()).toBe(`${URLS.hub}/account/two-step`);
  await expect(page.getByTestId('enrol-password')).toBeVisible();
  await context.close();
});

test('a long e-mail address and a long display name wrap at 320 px: account, delete, check-your-inbox and the bbs', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const hub = new HubPage(page);
  const check = new AccessibilityCheck(page);
  // Real addresses this long exist (first.last.department@subdivision.company.co.uk) and have no
  // hyphen or space a line may break at; before, each page that shows one scrolled sideways at 320 px.
  const id = String(Date.now() % 1_000_000);
  const login = `first_last_${id}`;
  const email = `firstname.lastname.department${id}@subdivision.examplecompany.co.uk`;
  const password = `pw-${id}-long-enough`;
  await admin('users', 'add', '--username', login, '--email', email, '--name', 'Jo', '--password', password);
  await hub.gotoLogin();
  await hub.signIn(email, password);
  await page.waitForURL(`${URLS.hub}/account`);
  expect.soft(await check.overflowAt(320), 'sideways scrolling at 320 px on the account page (long e-mail address)').toBe(0);

  // A display name of 100 letters (the field's maximum) in one word: the heading wraps too, at any width.
  await page.getByTestId('name-input').fill('W'.repeat(100));
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('account-done')).toBeVisible();
  expect.soft(await check.overflowAt(1280), 'sideways scrolling at 1280 px on the account page (long display name)').toBe(0);
  expect.soft(await check.overflowAt(320), 'sideways scrolling at 320 px on the account page (long display name)').toBe(0);
  await page.goto(`${URLS.hub}/account/delete`);
  expect.soft(await check.overflowAt(320), 'sideways scrolling at 320 px on the delete page').toBe(0);

  const bbs = new SitePage(page, URLS.bbs);
  await bbs.open('/private');
  await bbs.expectSignedInAs('W'.repeat(100));
  expect.soft(await check.overflowAt(320), 'sideways scrolling at 320 px on the bbs (long name and address)').toBe(0);

  await hub.signOut();
  const signup = new SignupPage(page);
  await signup.open();
  await signup.fill({ username: `other_${id}`, email, name: 'Other', password: 'orbit tulip cactus lantern' });
  await signup.submit();
  await signup.expectSent();
  expect.soft(await check.overflowAt(320), 'sideways scrolling at 320 px on "check your inbox" (long e-mail address)').toBe(0);
  await context.close();
});
