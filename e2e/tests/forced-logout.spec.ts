import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { AdminPage } from '../pages/admin-page.js';
import { HubPage } from '../pages/hub-page.js';
import { URLS } from '../ports.js';
import { admin, newUser, shot, signedInOnBbsAndWiki } from '../support.js';

test('8. the admin deletes alice: her sessions on bbs and wiki end in every browser, and she cannot sign in again', async ({ browser }) => {
  const alice = await newUser('alice');
  const root = { login: `admin-${randomUUID().slice(0, 8)}`, password: `pw-${randomUUID()}` };
  await admin('users', 'add', '--username', root.login, '--email', `${root.login}@example.test`, '--password', root.password, '--role', 'admin');

  const first = await signedInOnBbsAndWiki(browser, alice);
  const second = await signedInOnBbsAndWiki(browser, alice);

  // A third browser: the admin deletes alice in the adminPage.
  const adminContext = await browser.newContext();
  const adminPage = new AdminPage(await adminContext.newPage());
  await new HubPage(adminPage.page).signInAtPortal(root.login, root.password);
  await adminPage.openUser(alice.login);
  await adminPage.deleteOpenUser();
  // The userdelete notices go server to server through the hub's queue.
  await adminPage.expectDelivered('userdelete', ['bbs', 'wiki']);
  await shot(adminPage.page, '8-admin-deliveries');

  // Both browsers are signed out on their next page load, on both sites.
  for (const { bbs, wiki } of [first, second]) {
    await bbs.open('/');
    await bbs.expectAnonymous();
    await wiki.open('/');
    await wiki.expectAnonymous();
  }
  await shot(first.page, '8-bbs-signed-out-after-delete');
  expect(await new HubPage(first.page).isSignedIn()).toBe(false);

  // And alice cannot sign in again.
  const hub = new HubPage(second.page);
  await hub.gotoLogin();
  await hub.signIn(alice.login, alice.password);
  await expect(second.page.getByTestId('login-error')).toBeVisible();

  // The deletion is in the audit log.
  await adminPage.page.goto(`${URLS.hub}/admin/audit?event=admin.user.delete`);
  await expect(adminPage.page.getByTestId('audit-entry').first()).toBeVisible();

  await Promise.all([first.context.close(), second.context.close(), adminContext.close()]);
});
