import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/** The UCenter-bound forum (a Discuz! stand-in), through what a person sees on it. */
export class ForumPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.goto(`${URLS.forum}/`);
  }

  async expectSignedInAs(username: string): Promise<void> {
    await expect(this.page.getByTestId('user-name')).toHaveText(username);
  }

  async expectAnonymous(): Promise<void> {
    await expect(this.page.getByTestId('anonymous')).toBeVisible();
  }

  /** The forum's own login form: the forum calls user/login at the hub (UC_API). */
  async signIn(username: string, password: string): Promise<void> {
    await this.open();
    await this.page.getByLabel('Username').fill(username);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByTestId('forum-sign-in').click();
    await expect(this.page.getByTestId('flash')).toBeVisible();
  }

  /** Signs out: the forum calls user/synlogout and puts the answered script tags in the page, which load. */
  async signOut(): Promise<string[]> {
    const loaded: string[] = [];
    this.page.on('requestfinished', (request) => {
      if (request.resourceType() === 'script') loaded.push(request.url());
    });
    await this.page.getByTestId('logout').click();
    await expect(this.page.getByTestId('flash')).toHaveText('Signed out.');
    await this.page.waitForLoadState('networkidle');
    return loaded;
  }
}
