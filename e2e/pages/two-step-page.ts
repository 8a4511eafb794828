import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/**
 * The hub's two-step pages: the account page's enrolment (/account/two-step), the recovery
 * codes shown once, and the second step of a sign-in. Found by test id, in every language.
 */
export class TwoStepPage {
  constructor(readonly page: Page) {}

  /** From the account page, follows its two-step link. */
  async openFromAccount(): Promise<void> {
    await this.page.goto(`${URLS.hub}/account`);
    await this.page.getByTestId('two-step-link').click();
    await this.page.waitForURL(`${URLS.hub}/account/two-step`);
  }

  /** The secret as the enrolment page shows it in text (for typing into an app by hand). */
  async secret(): Promise<string> {
    await expect(this.page.getByTestId('totp-qr')).toBeVisible();
    expect(await this.page.getByTestId('totp-qr').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    return (await this.page.getByTestId('totp-secret').innerText()).trim();
  }

  /** Confirms the enrolment with the password and a code; returns the recovery codes shown once. */
  async confirm(password: string, code: string): Promise<string[]> {
    await this.page.getByTestId('enrol-password').fill(password);
    await this.page.getByTestId('enrol-code').fill(code);
    await this.page.getByTestId('enrol-submit').click();
    const list = this.page.getByTestId('recovery-codes');
    await expect(list).toBeVisible();
    const codes = (await list.locator('code').allInnerTexts()).map((text) => text.trim());
    await this.page.getByTestId('codes-saved').click();
    await expect(this.page.getByTestId('two-step-status')).toHaveAttribute('data-enabled', 'yes');
    return codes;
  }

  /** The sign-in's second step is showing (and not the password form). */
  async expectChallenge(): Promise<void> {
    await expect(this.page.getByTestId('two-step-code')).toBeVisible();
    await expect(this.page.getByTestId('login-password')).toHaveCount(0);
  }

  async answer(code: string): Promise<void> {
    await this.page.getByTestId('two-step-code').fill(code);
    await this.page.getByTestId('two-step-submit').click();
  }

  async expectRefused(): Promise<void> {
    await expect(this.page.getByTestId('two-step-error')).toBeVisible();
    await this.expectChallenge();
  }
}
