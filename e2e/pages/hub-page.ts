import { expect, type Page } from '@playwright/test';
import { URLS } from '../ports.js';

/**
 * The hub's portal pages: sign-in, consent, account, sign-out. Elements are found by test id,
 * not by their words, so the same steps work in every language (en, zh-CN).
 */
export class HubPage {
  constructor(readonly page: Page) {}

  async gotoLogin(next = '/account'): Promise<void> {
    await this.page.goto(`${URLS.hub}/login?next=${encodeURIComponent(next)}`);
  }

  async signIn(login: string, password: string, options: { remember?: boolean } = {}): Promise<void> {
    await this.page.getByTestId('login-username').fill(login);
    await this.page.getByTestId('login-password').fill(password);
    if (options.remember) await this.page.getByTestId('login-remember').check();
    await this.page.getByTestId('login-submit').click();
  }

  /** Signs in from the portal and waits for the account page (after the sync page). */
  async signInAtPortal(login: string, password: string, options: { remember?: boolean } = {}): Promise<void> {
    await this.gotoLogin();
    await this.signIn(login, password, options);
    await this.page.waitForURL(`${URLS.hub}/account`);
    await expect(this.page.getByTestId('account-username')).toHaveText(login);
  }

  /** Follows a sign-in link with a raw (attacker-written) `next`, as a person clicking it would. */
  async followLoginLink(rawNext: string): Promise<void> {
    await this.page.goto(`${URLS.hub}/login?next=${rawNext}`);
  }

  /** Where the browser is now: its origin must be the hub's. */
  async expectOnHub(path?: string): Promise<void> {
    await this.page.waitForLoadState('load');
    const url = new URL(this.page.url());
    expect(url.origin).toBe(URLS.hub);
    if (path !== undefined) expect(url.pathname).toBe(path);
  }

  /** The hub's sign-in form is showing (from the portal or from a subsite). */
  async expectSignInForm(): Promise<void> {
    await expect(this.page.getByTestId('login-submit')).toBeVisible();
  }

  /** Cancel on the sign-in page. */
  async cancelSignIn(): Promise<void> {
    await this.page.getByTestId('login-cancel').click();
  }

  /** The account page of `login` is showing. */
  async expectAccountOf(login: string): Promise<void> {
    await expect(this.page.getByTestId('account-username')).toHaveText(login);
  }

  async allowConsent(): Promise<void> {
    await this.page.getByTestId('consent-allow').click();
  }

  async isSignedIn(): Promise<boolean> {
    await this.page.goto(`${URLS.hub}/account`);
    return new URL(this.page.url()).pathname === '/account';
  }

  async signOut(): Promise<void> {
    await this.page.goto(`${URLS.hub}/logout`);
    await this.page.getByTestId('confirm-logout').click();
    await expect(this.page.getByTestId('signed-out')).toBeVisible();
  }

  /** Clicks the language switcher in the page's header (`en` or `zh-CN`). */
  async switchLanguage(locale: 'en' | 'zh-CN'): Promise<void> {
    await this.page.getByTestId(`lang-${locale}`).click();
    await this.expectLanguage(locale);
  }

  /** The page is written in `locale`: `<html lang>` says so. */
  async expectLanguage(locale: 'en' | 'zh-CN'): Promise<void> {
    await expect(this.page.locator('html')).toHaveAttribute('lang', locale);
  }
}
