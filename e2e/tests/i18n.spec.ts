import { expect, test } from '@playwright/test';
import { HubPage } from '../pages/hub-page.js';
import { SitePage } from '../pages/site-page.js';
import { URLS } from '../ports.js';
import { shot } from '../support.js';

/** The demo's Chinese-named user (demo-sites/src/demo-seed.ts). */
const ZHANGSAN = { login: 'zhangsan', password: 'zhangsan-password-1', name: '张三' };

test.describe('a browser set to Chinese (zh-CN)', () => {
  test.use({ locale: 'zh-CN' });

  test('signs in at the hub in Chinese, sees 张三 on the hub and on bbs, switches to English and keeps it', async ({ page }) => {
    const hub = new HubPage(page);
    await hub.gotoLogin();
    await hub.expectLanguage('zh-CN');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('登录');
    await expect(page.getByTestId('login-submit')).toHaveText('登录');
    await shot(page, 'i18n-zh-login');

    // A wrong password: the error is in Chinese too.
    await hub.signIn(ZHANGSAN.login, 'not-the-password');
    await expect(page.getByTestId('login-error')).toHaveText('用户名或密码不正确。');

    await hub.signIn(ZHANGSAN.login, ZHANGSAN.password);
    await page.waitForURL(`${URLS.hub}/account`);
    await hub.expectLanguage('zh-CN');
    await expect(page.getByTestId('account-name')).toHaveText(ZHANGSAN.name);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`您好，${ZHANGSAN.name}`);
    await expect(page).toHaveTitle(/我的账号/);
    await shot(page, 'i18n-zh-account');

    // The demo site shows the Chinese display name from the ID token.
    const bbs = new SitePage(page, URLS.bbs);
    await bbs.open('/');
    await bbs.expectSignedInAs(ZHANGSAN.name);
    await shot(page, 'i18n-zh-bbs');

    // Switch to English on the account page: back on the same page, in English ...
    await page.goto(`${URLS.hub}/account`);
    await hub.switchLanguage('en');
    expect(new URL(page.url()).pathname).toBe('/account');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${ZHANGSAN.name}`);
    await shot(page, 'i18n-switched-en');

    // ... and remembered on every later page, though the browser still asks for Chinese.
    await page.goto(`${URLS.hub}/no-such-page`);
    await hub.expectLanguage('en');
    await expect(page.getByTestId('error-title')).toHaveText('Page not found');
    await page.goto(`${URLS.hub}/logout`);
    await hub.expectLanguage('en');
    await expect(page.getByTestId('confirm-logout')).toHaveText('Yes, sign me out');

    // And back to Chinese, from the sign-out page.
    await hub.switchLanguage('zh-CN');
    await expect(page.getByTestId('confirm-logout')).toHaveText('是的，退出登录');
    await page.getByTestId('confirm-logout').click();
    await expect(page.getByTestId('signed-out')).toHaveText('您已退出登录');
    await hub.expectLanguage('zh-CN');
    await shot(page, 'i18n-zh-signed-out');
  });
});

test.describe('a browser set to English (en-US)', () => {
  test.use({ locale: 'en-US' });

  test('reads the hub in English, with the switcher offering Chinese', async ({ page }) => {
    const hub = new HubPage(page);
    await hub.gotoLogin();
    await hub.expectLanguage('en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
    await expect(page.getByTestId('lang-zh-CN')).toHaveText('简体中文');
    await hub.signIn(ZHANGSAN.login, ZHANGSAN.password);
    await page.waitForURL(`${URLS.hub}/account`);
    await hub.expectLanguage('en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${ZHANGSAN.name}`);
    await shot(page, 'i18n-en-account');
  });
});
