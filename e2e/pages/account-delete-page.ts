import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/** The account page's "Delete my account" (/account/delete) and the signed-out page after it. Found by test id, in every language. */
export class AccountDeletePage {
  constructor(readonly page: Page) {}

  /** From the account page, follows its link. */
  async openFromAccount(): Promise<void> {
    await this.page.goto(`${URLS.hub}/account`);
    await this.page.getByTestId('delete-account-link').click();
    await this.page.waitForURL(`${URLS.hub}/account/delete`);
    await expect(this.page.getByTestId('delete-form')).toBeVisible();
  }

  async submit(password: string, options: { confirm?: boolean; code?: string } = {}): Promise<void> {
    await this.page.getByTestId('delete-current').fill(password);
    if (options.code !== undefined) await this.page.getByTestId('delete-code').fill(options.code);
    if (options.confirm ?? true) await this.page.getByTestId('delete-confirm').check();
    await this.page.getByTestId('delete-submit').click();
  }

  async expectDeleted(): Promise<void> {
    await this.page.waitForURL(`${URLS.hub}/account/deleted`);
    await expect(this.page.getByTestId('account-deleted')).toBeVisible();
  }
}
