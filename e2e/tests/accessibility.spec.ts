import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { awayFromStepEdge, totpCode } from '../../hub/src/testing/totp.js';
import { waitForMail } from '../mailbox.js';
import { AccessibilityCheck } from '../pages/accessibility.js';
import { HubPage } from '../pages/hub-page.js';
import { SignupPage } from '../pages/signup-page.js';
import { SitePage } from '../pages/site-page.js';
import { TwoStepPage } from '../pages/two-step-page.js';
import { URLS } from '../ports.js';
import { admin, newUser } from '../support.js';

/**
 * The hub's pages as people with different needs meet them, in Debian's Chromium, in English
 * and Chinese: axe-core's WCAG 2.2 A/AA rules on every page and state (labels, contrast, 24 px
 * targets, landmarks, `lang`), reflow at 320 CSS px, a title that says when a page shows an
 * error, errors tied to their field and focused, autocomplete tokens password managers need,
 * a keyboard-only sign-in. One browser context, the pages visited in sequence.
 */
const LOCALES = ['en', 'zh-CN'] as const;
type Locale = (typeof LOCALES)[number];
const TITLE_ERROR: Record<Locale, string> = Object.fromEntries(
  LOCALES.map((locale) => [locale, (JSON.parse(readFileSync(new URL(`../../hub/locales/${locale}/common.json`, import.meta.url), 'utf8')) as { titleError: string }).titleError]),
) as Record<Locale, string>;

let context: BrowserContext;
let page: Page;
let check: AccessibilityCheck;

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext();
  page = await context.newPage();
  check = new AccessibilityCheck(page);
});
test.afterAll(async () => {
  await context.close();
});

/** Signs out of the hub (the sign-out form), so the next step starts anonymous. */
async function signOut(): Promise<void> {
  await page.goto(`${URLS.hub}/logout`);
  await page.getByTestId('confirm-logout').click();
  await expect(page.getByTestId('signed-out')).toBeVisible();
}

/** The page as it is now: no axe WCAG A/AA violation, no sideways scrolling at 320 px, buttons with an edge in forced colors, `<html lang>` of the run. */
async function expectAccessible(name: string, locale: Locale): Promise<void> {
  expect.soft(await check.violations(), `axe on ${name} (${locale})`).toEqual([]);
  expect.soft(await check.overflowAt(320), `sideways scrolling at 320 px on ${name} (${locale})`).toBe(0);
  expect.soft(await check.weakFieldBorders(), `field borders under 3:1 on ${name} (${locale})`).toEqual([]);
  expect.soft(await check.edgelessButtonsInForcedColors(), `buttons without an edge in forced colors on ${name} (${locale})`).toEqual([]);
  expect.soft(await page.locator('html').getAttribute('lang'), `<html lang> on ${name}`).toBe(locale);
}

/** The page shows an error: its title says so first, and the field it is about is marked, described by it and focused. */
async function expectErrorOn(field: string, errorId: string, locale: Locale): Promise<void> {
  expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
  const input = page.getByTestId(field);
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  expect((await input.getAttribute('aria-describedby'))?.split(' ')).toContain(errorId);
  await expect(page.locator(`#${errorId}`)).toHaveAttribute('role', 'alert');
  await expect(input).toBeFocused();
}

for (const locale of LOCALES) {
  test.describe(locale, () => {
    test.beforeAll(async () => {
      await context.clearCookies();
      await context.addCookies([{ name: 'lang', value: locale, url: URLS.hub }]);
    });

    test(`sign-in: the form, a wrong password, a locked account (${locale})`, async () => {
      const hub = new HubPage(page);
      const user = await newUser('a11y');
      await hub.gotoLogin();
      await expectAccessible('sign-in', locale);
      expect(await page.title()).not.toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
      await expect(page.getByTestId('login-username')).toHaveAttribute('autocomplete', 'username');
      await expect(page.getByTestId('login-password')).toHaveAttribute('autocomplete', 'current-password');
      await expect(page.getByTestId('login-username')).toBeFocused();

      await hub.signIn(user.login, 'not-the-password');
      await expectAccessible('sign-in, wrong password', locale);
      await expectErrorOn('login-password', 'login-error', locale);
      await expect(page.getByTestId('login-username')).toHaveAttribute('aria-invalid', 'true');
      // What the user typed is kept, not the password.
      await expect(page.getByTestId('login-username')).toHaveValue(user.login);
      await expect(page.getByTestId('login-password')).toHaveValue('');

      // Locked (LOGIN_MAX_FAILURES_PER_ACCOUNT, 5 by default): a wait, not a wrong entry; the password field is where to go on.
      for (let attempt = 0; attempt < 5; attempt += 1) await hub.signIn(user.login, 'not-the-password');
      await expect(page.getByTestId('login-error')).toBeVisible();
      await expectAccessible('sign-in, locked', locale);
      expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
      await expect(page.getByTestId('login-password')).toBeFocused();
      expect(await page.getByTestId('login-password').getAttribute('aria-describedby')).toBe('login-error');
      await expect(page.getByTestId('login-password')).not.toHaveAttribute('aria-invalid', 'true');
    });

    test(`sign-up, an unverified sign-in, resend, verification (${locale})`, async () => {
      const signup = new SignupPage(page);
      const hub = new HubPage(page);
      await signup.open();
      await expectAccessible('sign-up', locale);
      // Hints are read with their field.
      await expect(page.getByTestId('signup-username')).toHaveAttribute('aria-describedby', 'username-hint');
      await expect(page.getByTestId('signup-password')).toHaveAttribute('aria-describedby', 'password-hint');
      for (const [field, token] of [['username', 'username'], ['email', 'email'], ['name', 'name'], ['password', 'new-password'], ['confirm', 'new-password']]) {
        await expect(page.getByTestId(`signup-${field}`)).toHaveAttribute('autocomplete', token!);
      }
      const id = randomUUID().slice(0, 8);
      const person = { username: `a11y-${id}`, email: `a11y-${id}@example.com`, name: `A ${id}`, password: 'orbit tulip cactus lantern' };
      await signup.fill(person);
      await page.getByTestId('signup-confirm').fill('orbit tulip cactus lantern two');
      await signup.submit();
      await signup.expectError('password');
      await expectAccessible('sign-up, passwords differ', locale);
      await expectErrorOn('signup-password', 'signup-error', locale);
      await expect(page.getByTestId('signup-username')).not.toBeFocused();
      await expect(page.getByTestId('signup-email')).toHaveValue(person.email);
      await expect(page.getByTestId('signup-name')).toHaveValue(person.name);

      await signup.fill(person);
      await signup.submit();
      await signup.expectSent();
      await expectAccessible('sign-up sent', locale);
      const mail = await waitForMail(person.email);
      const link = mail.links.find((candidate) => candidate.startsWith(`${URLS.hub}/signup/verify?token=`))!;

      await hub.gotoLogin();
      await hub.signIn(person.username, person.password);
      await expect(page.getByTestId('login-resend')).toBeVisible();
      await expectAccessible('sign-in, unverified', locale);
      // The way on is the resend link: it has the focus.
      await expect(page.getByTestId('login-resend')).toBeFocused();

      await page.goto(`${URLS.hub}/signup/resend`);
      await expectAccessible('resend', locale);
      await page.goto(`${URLS.hub}/signup/verify?token=nonsense`);
      await expect(page.getByTestId('verify-error')).toBeVisible();
      await expectAccessible('verification link not valid', locale);
      expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
      await page.goto(link);
      await expectAccessible('verification', locale);
      await page.getByTestId('verify-submit').click();
      await expect(page.getByTestId('verified')).toBeVisible();
      await expectAccessible('verified', locale);
    });

    test(`password recovery: request, reset form, error, done (${locale})`, async () => {
      const user = await newUser('a11y');
      await page.goto(`${URLS.hub}/password/forgot`);
      await expectAccessible('forgotten password', locale);
      const since = Date.now();
      await page.getByTestId('forgot-login').fill(user.login);
      await page.getByTestId('forgot-submit').click();
      await expect(page.getByTestId('forgot-sent')).toBeVisible();
      await expectAccessible('forgotten password, sent', locale);
      const mail = await waitForMail(`${user.login}@example.test`, { since });
      const link = mail.links.find((candidate) => candidate.startsWith(`${URLS.hub}/password/reset`))!;

      await page.goto(link);
      await expectAccessible('reset form', locale);
      // Password managers save the new password under the account's username.
      await expect(page.getByTestId('reset-username')).toHaveAttribute('autocomplete', 'username');
      await expect(page.getByTestId('reset-username')).toHaveValue(user.login);
      await expect(page.getByTestId('reset-password')).toHaveAttribute('autocomplete', 'new-password');
      await page.getByTestId('reset-password').fill('orbit tulip cactus lantern');
      await page.getByTestId('reset-confirm').fill('orbit tulip cactus lantern two');
      await page.getByTestId('reset-submit').click();
      await expect(page.getByTestId('reset-error')).toBeVisible();
      await expectAccessible('reset form, passwords differ', locale);
      await expectErrorOn('reset-password', 'reset-error', locale);
      await expect(page.getByTestId('reset-username')).toHaveValue(user.login);

      await page.getByTestId('reset-password').fill('orbit tulip cactus lantern');
      await page.getByTestId('reset-confirm').fill('orbit tulip cactus lantern');
      await page.getByTestId('reset-submit').click();
      await expect(page.getByTestId('reset-done')).toBeVisible();
      await expectAccessible('reset done', locale);
      await page.goto(`${URLS.hub}/password/reset?token=nonsense`);
      await expectAccessible('reset link not valid', locale);
      expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
    });

    test(`sync page without JavaScript, account page and its errors, consent, signed-in-as (${locale})`, async () => {
      const hub = new HubPage(page);
      const user = await newUser('a11y');
      // The sync page's script kept away: the page stays, and its link goes on (as without JavaScript).
      await page.route('**/static/sync.js', (route) => route.abort());
      await hub.gotoLogin();
      await hub.signIn(user.login, user.password);
      await expect(page.getByTestId('sync-title')).toBeVisible();
      await expectAccessible('sync page', locale);
      await page.unroute('**/static/sync.js');
      await page.getByTestId('continue').click();
      await hub.expectAccountOf(user.login);
      await expectAccessible('account', locale);

      await page.getByTestId('password-current').fill('not-the-password');
      await page.getByTestId('password-new').fill('orbit tulip cactus lantern');
      await page.getByTestId('password-confirm').fill('orbit tulip cactus lantern');
      await page.getByTestId('password-submit').click();
      await expect(page.getByTestId('password-error')).toBeVisible();
      await expectAccessible('account, wrong current password', locale);
      await expectErrorOn('password-current', 'password-error', locale);

      await page.getByTestId('password-current').fill(user.password);
      await page.getByTestId('password-new').fill('orbit tulip cactus lantern');
      await page.getByTestId('password-confirm').fill('orbit tulip cactus lantern two');
      await page.getByTestId('password-submit').click();
      await expectErrorOn('password-new', 'password-error', locale);

      // The e-mail form: the username in it for password managers, the typed address kept after an error.
      await expect(page.getByTestId('email-form-username')).toHaveAttribute('autocomplete', 'username');
      await expect(page.getByTestId('email-form-username')).toHaveValue(user.login);
      await page.getByTestId('email-new-input').fill(`${user.login}-new@example.test`);
      await page.getByTestId('email-current').fill('not-the-password');
      await page.getByTestId('email-submit').click();
      await expect(page.getByTestId('email-error')).toBeVisible();
      await expectErrorOn('email-current', 'email-error', locale);
      await expect(page.getByTestId('email-new-input')).toHaveValue(`${user.login}-new@example.test`);

      // The e-mail change: the confirmation page from the mail, and the same page for a link that is not valid.
      const since = Date.now();
      await page.getByTestId('email-new-input').fill(`${user.login}-new@example.test`);
      await page.getByTestId('email-current').fill(user.password);
      await page.getByTestId('email-submit').click();
      await expect(page.getByTestId('account-done')).toBeVisible();
      const confirmMail = await waitForMail(`${user.login}-new@example.test`, { since });
      await page.goto(confirmMail.links.find((link) => link.startsWith(`${URLS.hub}/account/email/confirm`))!);
      await expect(page.getByTestId('email-confirm')).toBeVisible();
      await expectAccessible('e-mail confirmation', locale);
      await page.goto(`${URLS.hub}/account/email/confirm?token=nonsense`);
      await expect(page.getByTestId('email-invalid')).toBeVisible();
      await expectAccessible('e-mail confirmation link not valid', locale);
      expect(await page.title()).toMatch(new RegExp(`^${TITLE_ERROR[locale]}`));
      await page.goto(`${URLS.hub}/account`);

      await page.getByTestId('name-input').fill('   ');
      await page.getByTestId('name-submit').click();
      await expect(page.getByTestId('name-error')).toBeVisible();
      await expectErrorOn('name-input', 'name-error', locale);

      // Password managers' "change password": /.well-known/change-password leads to the account page's password form.
      const landed = await page.goto(`${URLS.hub}/.well-known/change-password`);
      let first = landed!.request();
      while (first.redirectedFrom()) first = first.redirectedFrom()!;
      expect(first.url()).toBe(`${URLS.hub}/.well-known/change-password`);
      expect((await first.response())!.status()).toBe(303);
      expect(page.url()).toBe(`${URLS.hub}/account#change-password`);
      await expect(page.locator('#change-password')).toBeVisible();

      const wiki = new SitePage(page, URLS.wiki);
      await wiki.open('/');
      await wiki.clickSignIn();
      await expect(page.getByTestId('consent-allow')).toBeVisible();
      await expectAccessible('consent', locale);
      await hub.allowConsent();
      await page.waitForURL(`${URLS.wiki}/**`);
      // Each "Withdraw" button names its site (a screen reader's or voice control's list of buttons has no context).
      await page.goto(`${URLS.hub}/account`);
      const allowed = page.getByTestId('consents').locator('li');
      await expect(allowed).toHaveCount(1);
      const site = (await allowed.evaluate((li) => li.firstChild?.textContent ?? '')).trim();
      expect(site).not.toBe('');
      await expect(allowed.getByTestId('withdraw')).toHaveAccessibleName(new RegExp(site));
      await expectAccessible('account with an allowed site', locale);

      // A sign-in form for another account, sent after this browser signed in: "signed in as".
      const other = await newUser('a11y');
      await signOut();
      const second = await context.newPage();
      await new SitePage(second, URLS.bbs).open('/private');
      await hub.signInAtPortal(user.login, user.password);
      await new HubPage(second).signIn(other.login, other.password);
      await expect(second.getByTestId('signed-in-as')).toBeVisible();
      const secondCheck = new AccessibilityCheck(second);
      expect.soft(await secondCheck.violations(), `axe on signed-in-as (${locale})`).toEqual([]);
      expect.soft(await secondCheck.overflowAt(320), `sideways scrolling at 320 px on signed-in-as (${locale})`).toBe(0);
      await second.close();
      await signOut();
      await expectAccessible('signed out', locale);
    });

    test(`two-step: enrolment, recovery codes, settings, the second step and its recovery-code field (${locale})`, async () => {
      const hub = new HubPage(page);
      const twoStep = new TwoStepPage(page);
      const user = await newUser('a11y');
      await hub.signInAtPortal(user.login, user.password);
      await twoStep.openFromAccount();
      await expectAccessible('two-step enrolment', locale);
      await expect(page.getByTestId('enrol-username')).toHaveAttribute('autocomplete', 'username');
      await expect(page.getByTestId('enrol-username')).toHaveValue(user.login);
      await expect(page.getByTestId('enrol-code')).toHaveAttribute('inputmode', 'numeric');
      await expect(page.getByTestId('enrol-code')).toHaveAttribute('autocomplete', 'one-time-code');
      const secret = await twoStep.secret();
      await page.getByTestId('enrol-password').fill(user.password);
      await page.getByTestId('enrol-code').fill('000000');
      await page.getByTestId('enrol-submit').click();
      await expect(page.getByTestId('two-step-error')).toBeVisible();
      await expectAccessible('two-step enrolment, wrong code', locale);
      await expectErrorOn('enrol-code', 'two-step-error', locale);

      await awayFromStepEdge();
      await page.getByTestId('enrol-password').fill(user.password);
      await page.getByTestId('enrol-code').fill(totpCode(secret, -1));
      await page.getByTestId('enrol-submit').click();
      await expect(page.getByTestId('recovery-codes')).toBeVisible();
      await expectAccessible('recovery codes', locale);
      const codes = (await page.getByTestId('recovery-codes').locator('code').allInnerTexts()).map((text) => text.trim());
      await page.getByTestId('codes-saved').click();
      await expectAccessible('two-step settings', locale);
      await page.getByTestId('disable-proof').fill('not-the-password');
      await page.getByTestId('two-step-disable').click();
      await expect(page.getByTestId('two-step-error')).toBeVisible();
      await expectErrorOn('disable-proof', 'two-step-error', locale);
      await expect(page.getByTestId('regenerate-proof')).not.toHaveAttribute('aria-invalid', 'true');

      await signOut();
      await hub.gotoLogin();
      await hub.signIn(user.login, user.password);
      await twoStep.expectChallenge();
      await expectAccessible('second step', locale);
      await expect(page.getByTestId('two-step-code')).toHaveAttribute('inputmode', 'numeric');
      await expect(page.getByTestId('two-step-code')).toHaveAttribute('autocomplete', 'one-time-code');
      await twoStep.answer('000000');
      await expectAccessible('second step, wrong code', locale);
      await expectErrorOn('two-step-code', 'two-step-error', locale);

      // A recovery code has letters: its field does not ask phones for a digits-only keyboard.
      await page.getByTestId('use-recovery-code').click();
      const recovery = page.getByTestId('recovery-code');
      await expect(recovery).toBeVisible();
      expect(await recovery.getAttribute('inputmode')).toBeNull();
      await expectAccessible('second step, recovery code', locale);
      await recovery.fill('aaaaa-aaaaa');
      await page.getByTestId('recovery-submit').click();
      // A wrong recovery code comes back to the recovery-code field, open.
      await expectErrorOn('recovery-code', 'two-step-error', locale);
      await page.getByTestId('recovery-code').fill(codes[0]!);
      await page.getByTestId('recovery-submit').click();
      await page.waitForURL(`${URLS.hub}/account`);
      await hub.expectAccountOf(user.login);
      await signOut();
    });

    test(`sign-out questions, account deletion, the kit's own pages (${locale})`, async () => {
      const hub = new HubPage(page);
      const user = await newUser('a11y');
      await hub.signInAtPortal(user.login, user.password);
      // The hub's sign-out question: on its own, and asked for a site (with "stay signed in to <site>").
      await page.goto(`${URLS.hub}/logout`);
      await expect(page.getByTestId('confirm-logout')).toBeVisible();
      await expectAccessible('sign-out question', locale);
      await expect(page.getByTestId('confirm-logout')).toBeFocused();
      await page.goto(`${URLS.hub}/session/end?client_id=wiki`);
      await expect(page.getByTestId('stay-signed-in')).toBeVisible();
      await expectAccessible('sign-out question for a site', locale);

      // Deleting the account: the question, a wrong password, the page after.
      await page.goto(`${URLS.hub}/account/delete`);
      await expectAccessible('account deletion', locale);
      await page.getByTestId('delete-current').fill('not-the-password');
      await page.getByTestId('delete-confirm').check();
      await page.getByTestId('delete-submit').click();
      await expect(page.getByTestId('delete-error')).toBeVisible();
      await expectAccessible('account deletion, wrong password', locale);
      await expectErrorOn('delete-current', 'delete-error', locale);
      await page.getByTestId('delete-current').fill(user.password);
      await page.getByTestId('delete-confirm').check();
      await page.getByTestId('delete-submit').click();
      await expect(page.getByTestId('account-deleted')).toBeVisible();
      await expectAccessible('account deleted', locale);

      // The kit's own pages (English on every site: `lang="en"`): its sign-out page and a sign-in answer it cannot use.
      for (const [name, path] of [['kit sign-out page', '/sso/logout'], ['kit error page', '/sso/callback?code=nonsense&state=nonsense']] as const) {
        await page.goto(`${URLS.wiki}${path}`);
        expect.soft(await check.violations(), `axe on ${name} (${locale})`).toEqual([]);
        expect.soft(await check.overflowAt(320), `sideways scrolling at 320 px on ${name} (${locale})`).toBe(0);
        expect.soft(await page.locator('html').getAttribute('lang'), `<html lang> on ${name}`).toBe('en');
        expect.soft(await page.locator('meta[name=viewport]').count(), `viewport on ${name}`).toBe(1);
      }
    });

    test(`error pages (${locale})`, async () => {
      await page.goto(`${URLS.hub}/no/such/page`);
      await expect(page.getByTestId('error-title')).toBeVisible();
      await expectAccessible('404', locale);
      await page.goto(`${URLS.hub}/interaction/nonsense`);
      await expect(page.getByTestId('error-title')).toBeVisible();
      await expectAccessible('sign-in page expired', locale);
    });

    test(`admin console (${locale})`, async () => {
      const root = { login: `admin-${randomUUID().slice(0, 8)}`, password: `pw-${randomUUID()}` };
      await admin('users', 'add', '--username', root.login, '--email', `${root.login}@example.test`, '--password', root.password, '--role', 'admin');
      await new HubPage(page).signInAtPortal(root.login, root.password);
      for (const path of ['/admin', '/admin/users', '/admin/clients', '/admin/clients/bbs', '/admin/deliveries', '/admin/ucenter', '/admin/audit']) {
        await page.goto(`${URLS.hub}${path}`);
        await expectAccessible(path, locale);
      }
      // The page an irreversible action asks on (removing a subsite), left by its Cancel link.
      await page.goto(`${URLS.hub}/admin/clients/bbs`);
      await page.getByTestId('remove-client').click();
      await expectAccessible('/admin/clients/bbs/remove (confirmation)', locale);
      await page.getByTestId('confirm-cancel').click();
      await expect(page).toHaveURL(`${URLS.hub}/admin/clients/bbs`);
      await page.goto(`${URLS.hub}/admin/users?q=${root.login}`);
      await page.getByTestId('user-link').first().click();
      await expectAccessible('/admin/users/:id', locale);
      await signOut();
    });
  });
}

test('keyboard only: sign in with Tab and Enter, every stop visibly focused, no trap', async () => {
  await context.clearCookies();
  const user = await newUser('a11y');
  await new HubPage(page).gotoLogin();
  const stops: string[] = [];
  // The username field has the focus on load; Tab walks the page and comes back round (no trap).
  let cameBack = false;
  for (let i = 0; i < 16 && !cameBack; i += 1) {
    stops.push(await check.focused());
    expect.soft(await check.focusVisible(), `focus visible on ${stops.at(-1)}`).toBe(true);
    await page.keyboard.press('Tab');
    cameBack = (await check.focused()) === 'login-username';
  }
  expect(cameBack, `Tab stops: ${stops.join(', ')}`).toBe(true);
  expect(stops.slice(0, 4)).toEqual(['login-username', 'login-password', 'login-remember', 'login-submit']);
  expect(stops).toContain('forgot-link');
  expect(stops).toContain('login-cancel');
  await page.getByTestId('login-username').focus();
  await page.keyboard.type(user.login);
  await page.keyboard.press('Tab');
  await page.keyboard.type(user.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${URLS.hub}/account`);
  await new HubPage(page).expectAccountOf(user.login);
});
