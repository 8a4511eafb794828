import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { RecoveryPage } from '../pages/recovery-page.js';
import { waitForMail } from '../mailbox.js';
import { URLS } from '../ports.js';
import { newUser, shot, signedInOnBbsAndWiki } from '../support.js';

/** The first link of a mail that starts with `prefix`. */
function linkIn(links: string[], prefix: string): string {
  const link = links.find((candidate) => candidate.startsWith(prefix));
  if (!link) throw new Error(`no ${prefix} link in the mail`);
  return link;
}

for (const locale of ['en', 'zh-CN'] as const) {
  test(`forgot password (${locale}): reset by the received e-mail signs out the old sessions on the hub, bbs and wiki`, async ({ browser }) => {
    test.setTimeout(150_000); // two browsers, three sites, two mails, on a loaded machine
    const alice = await newUser('reset');
    const email = `${alice.login}@example.test`;
    // Alice's usual browser: signed in at the hub, bbs and wiki.
    const old = await signedInOnBbsAndWiki(browser, alice);

    // Another browser, in the person's language: forgot password from the sign-in page.
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const recovery = new RecoveryPage(page);
    const since = Date.now();
    await recovery.askForLink(email);
    await expect(page.locator('html')).toHaveAttribute('lang', locale);
    const mail = await waitForMail(email, { since, filter: (m) => m.links.some((link) => link.includes('/password/reset?token=')) });
    expect(mail.lang).toBe(locale);
    const newPassword = `new-${randomUUID()}`;
    await recovery.resetWith(linkIn(mail.links, `${URLS.hub}/password/reset?token=`), newPassword);
    await shot(page, `recovery-${locale}-reset-done`);

    // The old browser is signed out everywhere: the hub at once, bbs and wiki by back-channel logout.
    expect(await new HubPage(old.page).isSignedIn()).toBe(false);
    for (const site of [old.bbs, old.wiki]) {
      await expect(async () => {
        await site.open('/');
        await site.expectAnonymous();
      }).toPass({ timeout: 30_000 });
    }
    await shot(old.page, `recovery-${locale}-bbs-signed-out`);
    // The user is told, in their language.
    const notice = await waitForMail(email, { since, filter: (m) => !m.links.some((link) => link.includes('/password/reset?token=')) });
    expect(notice.lang).toBe(locale);

    // The new password signs in; the link does not work twice.
    await new HubPage(page).signInAtPortal(alice.login, newPassword);
    await page.goto(linkIn(mail.links, `${URLS.hub}/password/reset?token=`));
    await expect(page.getByTestId('reset-invalid')).toBeVisible();
    await Promise.all([old.context.close(), context.close()]);
  });
}

test('change e-mail (zh-CN): a link to the new address, a notice to the old; the address changes when confirmed', async ({ browser }) => {
  test.setTimeout(120_000);
  const alice = await newUser('email');
  const oldEmail = `${alice.login}@example.test`;
  const newEmail = `${alice.login}@new.example.test`;
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await new HubPage(page).signInAtPortal(alice.login, alice.password);
  const recovery = new RecoveryPage(page);
  const since = Date.now();
  await recovery.requestEmailChange(newEmail, alice.password);
  await expect(page.getByTestId('account-email')).toContainText(oldEmail);

  const notice = await waitForMail(oldEmail, { since });
  expect(notice.lang).toBe('zh-CN');
  expect(notice.text).toContain(newEmail);
  const confirm = await waitForMail(newEmail, { since });
  expect(confirm.lang).toBe('zh-CN');
  await recovery.confirmEmail(linkIn(confirm.links, `${URLS.hub}/account/email/confirm?token=`));
  await shot(page, 'email-change-zh-CN-confirmed');

  await page.goto(`${URLS.hub}/account`);
  await expect(page.getByTestId('account-email')).toContainText(newEmail);
  await expect(page.getByTestId('email-verified')).toBeVisible();
  await context.close();
});
