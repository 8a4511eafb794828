import { expect, type Page } from '@playwright/test';

/** A demo subsite (bbs, wiki, shop), through what a person sees on it. */
export class SitePage {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {}

  async open(path = '/'): Promise<void> {
    await this.page.goto(`${this.url}${path}`);
  }

  async expectSignedInAs(name: string): Promise<void> {
    await expect(this.page.getByTestId('user-name')).toHaveText(name);
  }

  async expectAnonymous(): Promise<void> {
    await expect(this.page.getByTestId('anonymous')).toBeVisible();
  }

  async signOut(): Promise<void> {
    await this.page.getByTestId('logout').click();
  }

  async clickSignIn(): Promise<void> {
    await this.page.getByTestId('login').click();
  }
}
