import { expect, type Page } from '@playwright/test';

/** The subsite kit's own error page (a sign-in that could not go on), through what a person sees. */
export class KitErrorPage {
  constructor(readonly page: Page) {}

  async expectShown(status: number, text: string | RegExp): Promise<void> {
    await expect(this.page.locator(`[data-kit-error="${status}"]`)).toBeVisible();
    await expect(this.page.getByTestId('kit-error-message')).toContainText(text);
  }

  async continueWithoutSigningIn(): Promise<void> {
    await this.page.getByTestId('kit-error-continue').click();
  }
}
