import { expect, test } from '@playwright/test';
import { awayFromStepEdge, totpCode } from '../../hub/src/testing/totp.js';
import { HubPage } from '../pages/hub-page.js';
import { TwoStepPage } from '../pages/two-step-page.js';
import { URLS } from '../ports.js';
import { newUser, shot } from '../support.js';

for (const locale of ['en', 'zh-CN'] as const) {
  test.describe(`two-step sign-in (${locale})`, () => {
    test.use({ locale });

    test('enrol TOTP → sign out → the next sign-in asks the code → a recovery code works once, not twice', async ({ page }) => {
      test.setTimeout(120_000);
      const user = await newUser('totp');
      const hub = new HubPage(page);
      const twoStep = new TwoStepPage(page);
      await hub.signInAtPortal(user.login, user.password);
      await expect(page.locator('html')).toHaveAttribute('lang', locale);

      // Enrol: the secret read off the page, the code computed here with otpauth.
      await twoStep.openFromAccount();
      const secret = await twoStep.secret();
      await shot(page, `two-step-enrol-${locale}`);
      await awayFromStepEdge();
      const codes = await twoStep.confirm(user.password, totpCode(secret, -1));
      expect(codes).toHaveLength(10);
      await hub.signOut();

      // The next sign-in asks the code after the password; the hub session starts only then.
      await hub.gotoLogin();
      await hub.signIn(user.login, user.password);
      await twoStep.expectChallenge();
      await shot(page, `two-step-challenge-${locale}`);
      await twoStep.answer(totpCode(secret));
      await page.waitForURL(`${URLS.hub}/account`);
      await hub.expectAccountOf(user.login);
      await hub.signOut();

      // A recovery code works once…
      await hub.gotoLogin();
      await hub.signIn(user.login, user.password);
      await twoStep.answer(codes[0]!);
      await page.waitForURL(`${URLS.hub}/account`);
      await hub.expectAccountOf(user.login);
      await hub.signOut();

      // …and not twice.
      await hub.gotoLogin();
      await hub.signIn(user.login, user.password);
      await twoStep.answer(codes[0]!);
      await twoStep.expectRefused();
      await shot(page, `two-step-recovery-reused-${locale}`);
      expect(await hub.isSignedIn()).toBe(false);
    });
  });
}
