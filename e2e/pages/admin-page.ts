import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/** The hub's admin console, through what an administrator sees. */
export class AdminPage {
  constructor(readonly page: Page) {}

  /** Finds a user by search and opens their page. */
  async openUser(login: string): Promise<void> {
    await this.page.goto(`${URLS.hub}/admin/users`);
    await this.page.getByTestId('user-search').fill(login);
    await this.page.getByRole('button', { name: 'Search' }).click();
    await this.page.getByTestId('user-link').filter({ hasText: login }).click();
    await expect(this.page.getByRole('heading', { level: 1 })).toContainText(login);
  }

  async deleteOpenUser(): Promise<void> {
    await this.page.getByTestId('delete-user').click();
    // The console asks first (irreversible): the confirmation page's own button deletes.
    await expect(this.page.getByTestId('confirm-consequences')).toBeVisible();
    await this.page.getByTestId('confirm').click();
    await expect(this.page.getByTestId('admin-notice')).toContainText('User deleted');
  }

  /** Waits until the queue shows `kind` delivered to each of `clients`. */
  async expectDelivered(kind: string, clients: string[]): Promise<void> {
    await expect
      .poll(async () => {
        await this.page.goto(`${URLS.hub}/admin/deliveries?status=delivered`);
        const rows = this.page.locator(`[data-testid="delivery"][data-kind="${kind}"]`);
        return (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-client')))).sort();
      }, { timeout: 15_000 })
      .toEqual(expect.arrayContaining([...clients].sort()));
  }
}
