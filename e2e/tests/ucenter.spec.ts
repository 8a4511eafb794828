import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ForumPage } from '../pages/forum-page.js';
import { HubPage } from '../pages/hub-page.js';
import { URLS } from '../ports.js';
import { admin, newUser, shot, signedInOnBbsAndWiki } from '../support.js';

/**
 * The forum is bound to UCenter (UC_API = the hub, UC_APPID 1): it signs members in with
 * user/login, takes synlogin/synlogout notes on its api/uc.php from the hub's sync page,
 * calls user/synlogout at its own sign-out, and gets deleteuser through the hub's queue.
 */

test('U1. signing in at the hub signs the UCenter forum in (synlogin note as <script reload="1">)', async ({ browser }) => {
  const user = await newUser('ucfan');
  const context = await browser.newContext();
  const page = await context.newPage();
  const noteRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(`${URLS.forum}/api/uc.php?`)) noteRequests.push(request.url());
  });
  await new HubPage(page).signInAtPortal(user.login, user.password);
  expect(noteRequests).toHaveLength(1);
  const forum = new ForumPage(page);
  await forum.open();
  await forum.expectSignedInAs(user.login);
  await shot(page, 'u1-forum-signed-in-from-hub');
  await context.close();
});

test('U2. signing out at the forum (user/synlogout, scripts shown) signs bbs and wiki out', async ({ browser }) => {
  const user = await newUser('ucout');
  const { context, page, bbs, wiki } = await signedInOnBbsAndWiki(browser, user);
  const forum = new ForumPage(page);
  await forum.open();
  await forum.expectSignedInAs(user.login);
  const loaded = await forum.signOut();
  expect(loaded.some((url) => url.startsWith(`${URLS.bbs}/sso/synclogout?`))).toBe(true);
  expect(loaded.some((url) => url.startsWith(`${URLS.wiki}/sso/synclogout?`))).toBe(true);
  await forum.expectAnonymous();
  await shot(page, 'u2-forum-signed-out');
  await bbs.open('/');
  await bbs.expectAnonymous();
  await wiki.open('/');
  await wiki.expectAnonymous();
  await context.close();
});

test('U3. the admin deletes the user: the forum gets deleteuser through the queue and ends the session', async ({ browser }) => {
  const user = await newUser('ucdel');
  const context = await browser.newContext();
  const page = await context.newPage();
  const forum = new ForumPage(page);
  await forum.signIn(user.login, user.password);
  await forum.expectSignedInAs(user.login);
  await admin('users', 'delete', user.login);
  // The running hub's worker delivers the queued note; the forum answers "1".
  await expect
    .poll(async () => {
      await forum.open();
      return page.getByTestId('anonymous').isVisible();
    }, { timeout: 20_000 })
    .toBe(true);
  await expect(page.getByTestId('deleted-uids')).toBeVisible();
  await shot(page, 'u3-forum-after-deleteuser');
  await context.close();
});

test('U4. an imported UCenter user with a legacy md5 hash signs in at the forum and is rehashed', async ({ browser }) => {
  const name = `legacy-${randomUUID().slice(0, 8)}`;
  const uid = 100_000 + Math.floor(Math.random() * 800_000);
  const salt = randomUUID().slice(0, 6);
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const dir = await mkdtemp(join(tmpdir(), 'uc-e2e-'));
  const file = join(dir, 'uc_members.csv');
  await writeFile(file, `uid,username,email,password,salt,regdate\n${uid},${name},${name}@example.test,${md5(md5('old-pw') + salt)},${salt},1400000000\n`);
  const count = async () => Number(/^(\d+)/.exec(await admin('ucenter', 'legacy-count'))![1]);
  expect(await admin('ucenter', 'import', file)).toMatch(/imported 1 users/);
  const before = await count();
  expect(before).toBeGreaterThanOrEqual(1);

  const context = await browser.newContext();
  const page = await context.newPage();
  const forum = new ForumPage(page);
  await forum.signIn(name, 'old-pw');
  await forum.expectSignedInAs(name);
  expect(await count()).toBe(before - 1);
  // Rehashed to argon2id: the same password now works at the hub's portal too.
  const hub = new HubPage(page);
  await hub.signInAtPortal(name, 'old-pw');
  await context.close();
});

test('U5. the sync page moves on once the forum note has answered, also when it answered before the page script ran', async ({ browser }) => {
  const user = await newUser('ucquick');
  const context = await browser.newContext();
  const page = await context.newPage();
  // The page's own script arrives after the note's answer (a slow link, a cold cache): the note's
  // async <script> has fired its load event before anyone listened.
  await page.route(`${URLS.hub}/static/sync.js`, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await route.continue();
  });
  let noteAnswered = 0;
  page.on('requestfinished', (request) => {
    if (request.url().startsWith(`${URLS.forum}/api/uc.php?`)) noteAnswered = Date.now();
  });
  const hub = new HubPage(page);
  await hub.gotoLogin();
  const leaving = page.waitForRequest(`${URLS.hub}/account`);
  await hub.signIn(user.login, user.password);
  await leaving;
  const left = Date.now();
  expect(noteAnswered).toBeGreaterThan(0);
  // SYNC_WAIT_MS is 1,500 in e2e: the page waited all of it after its script ran (about 2 s after the note).
  expect(left - noteAnswered).toBeLessThan(1_300);
  // The move to /account finished before the next navigation (else one interrupts the other).
  await page.waitForURL(`${URLS.hub}/account`);
  await new ForumPage(page).open();
  await new ForumPage(page).expectSignedInAs(user.login);
  await context.close();
});
