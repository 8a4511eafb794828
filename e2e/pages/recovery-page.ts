import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/** The hub's forgotten-password and account-change pages, by test id (any language). */
export class RecoveryPage {
  constructor(readonly page: Page) {}

  /** From the sign-in page: "Forgot your password?", then ask for a link. */
  async askForLink(login: string): Promise<void> {
    await this.page.goto(`${URLS.hub}/login`);
    await this.page.getByTestId('forgot-link').click();
    await this.page.getByTestId('forgot-login').fill(login);
    await this.page.getByTestId('forgot-submit').click();
    await expect(this.page.getByTestId('forgot-sent')).toBeVisible();
  }

  /** Opens a reset link from a mail and sets the new password. */
  async resetWith(link: string, password: string): Promise<void> {
    await this.page.goto(link);
    await this.page.getByTestId('reset-password').fill(password);
    await this.page.getByTestId('reset-confirm').fill(password);
    await this.page.getByTestId('reset-submit').click();
    await expect(this.page.getByTestId('reset-done')).toBeVisible();
    // Post/redirect/get: a reload shows the same page, not "link expired" for the link just used.
    await this.page.reload();
    await expect(this.page.getByTestId('reset-done')).toBeVisible();
  }

  /** On the account page: asks to change the e-mail address. */
  async requestEmailChange(email: string, currentPassword: string): Promise<void> {
    await this.page.goto(`${URLS.hub}/account`);
    await this.page.getByTestId('email-new-input').fill(email);
    await this.page.getByTestId('email-current').fill(currentPassword);
    await this.page.getByTestId('email-submit').click();
    await expect(this.page.getByTestId('account-done')).toBeVisible();
  }

  /** Opens the confirmation link from the mail and confirms. */
  async confirmEmail(link: string): Promise<void> {
    await this.page.goto(link);
    await this.page.getByTestId('email-confirm').click();
    await expect(this.page.getByTestId('email-confirmed')).toBeVisible();
  }
}
