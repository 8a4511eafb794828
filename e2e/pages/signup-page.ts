import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/** The hub's sign-up and e-mail verification pages, by test id (the same steps in every language). */
export class SignupPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto(`${URLS.hub}/signup`);
  }

  async fill(person: { username: string; email: string; name: string; password: string }): Promise<void> {
    await this.page.getByTestId('signup-username').fill(person.username);
    await this.page.getByTestId('signup-email').fill(person.email);
    await this.page.getByTestId('signup-name').fill(person.name);
    await this.page.getByTestId('signup-password').fill(person.password);
    await this.page.getByTestId('signup-confirm').fill(person.password);
  }

  async submit(): Promise<void> {
    await this.page.getByTestId('signup-submit').click();
  }

  async expectSent(): Promise<void> {
    await expect(this.page.getByTestId('signup-sent')).toBeVisible();
  }

  async expectError(field: string): Promise<void> {
    await expect(this.page.getByTestId('signup-error')).toHaveAttribute('data-field', field);
  }

  /** Opens the link from the mail and presses the button (the GET alone spends nothing). */
  async verify(link: string): Promise<void> {
    await this.page.goto(link);
    await this.page.getByTestId('verify-submit').click();
    await expect(this.page.getByTestId('verified')).toBeVisible();
  }
}
