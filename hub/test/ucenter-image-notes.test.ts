/**
 * Where the sync page may run no script (an admin's sign-in, the pages of an account switch),
 * Discuz! X forums still get their notes, as images: its api/uc.php sets or clears its cookie
 * in a header, which a browser takes from an image too. Before, those notes were left out: an
 * admin's sign-in never reached a forum, and a browser switched from bob to dora at the hub kept
 * bob signed in at every forum (a forum helper's review in Chromium, Discuz! X3.5's api/uc.php).
 * Applications of other types keep no note there (their handler may answer code).
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { decodeNote } from '../src/testing/ucenter-client.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';
import { authUrl, codeRequest } from './support.js';

const BOB = { username: 'bob', email: 'bob@example.com', password: 'builder-pass-1' };
const ROOT = { username: 'root', email: 'root@example.com', password: 'root-password-12', roles: ['admin' as const] };

function forumImages(html: string, forum: UcenterApp): Record<string, string>[] {
  return [...html.matchAll(/<img class="beacon" src="([^"]+)"[^>]*data-client="ucenter:\d+">/g)]
    .map((m) => new URL(m[1]!.replace(/&amp;/g, '&')))
    .filter((u) => u.hostname === 'forum.sso.test')
    .map((u) => decodeNote(u.searchParams.get('code')!, forum.key)!);
}

describe('Discuz! X notes as images where the sync page runs no script', () => {
  let hub: RunningHub;
  let forum: UcenterApp;
  let rootUid: number;
  let bobUid: number;
  const hubHost = () => new URL(hub.url).host;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004', updatepw: true });
    await hub.services.ucenter.apps.register({ name: 'Wiki', url: 'http://wiki.sso.test:5002/extensions/Auth_UC' });
    await hub.services.clients.upsert({
      clientId: 'bbs', name: 'BBS', redirectUris: ['http://bbs.sso.test:5001/sso/callback'],
      syncLoginUrl: 'http://bbs.sso.test:5001/sso/synclogin', syncLogoutUrl: 'http://bbs.sso.test:5001/sso/synclogout', trusted: true,
    });
    rootUid = (await hub.services.users.create(ROOT)).uid!;
    bobUid = (await hub.services.users.create(BOB)).uid!;
  });
  afterAll(() => hub.close());

  async function signIn(browser: TestBrowser, login: string, password: string, from = `${hub.url}/login`) {
    const landed = await browser.follow(from, [hubHost()]);
    const answer = await browser.post(new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login, password });
    return { html: await answer.text(), csp: answer.headers.get('content-security-policy') ?? '' };
  }

  it("an admin's sign-in: the forum's synlogin note as an image, no script, nothing for the wiki", async () => {
    const page = await signIn(new TestBrowser(), 'root', ROOT.password);
    expect(page.html).not.toMatch(/<script class="beacon"/);
    expect(page.csp).toMatch(/script-src 'self';/);
    expect(forumImages(page.html, forum)).toEqual([expect.objectContaining({ action: 'synlogin', uid: String(rootUid), username: 'root' })]);
    expect(page.html).not.toContain('wiki.sso.test');
  });

  it("an account switch from bob to the admin: the admin's synlogin and the ended session's synlogout, both as images (the forum ends signed out, not as bob)", async () => {
    const browser = new TestBrowser();
    const bob = await signIn(browser, 'bob', BOB.password);
    expect(bob.html).toMatch(/<script class="beacon" type="text\/javascript"/); // a plain sign-in: as before
    await browser.follow(continueUrlOf(bob.html, hub.url), [hubHost()]);
    const toAdmin = await signIn(browser, 'root', ROOT.password, authUrl(hub.url, codeRequest('bbs', 'http://bbs.sso.test:5001/sso/callback', { prompt: 'login' }).params));
    const ending = await browser.get(continueUrlOf(toAdmin.html, hub.url));
    const endForm = await ending.text();
    const fields = Object.fromEntries([...endForm.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const signOutPage = await browser.post(`${hub.url}/session/end/confirm`, fields);
    const signOutHtml = await signOutPage.text();
    expect(signOutHtml).not.toMatch(/<script class="beacon"/);
    expect(forumImages(signOutHtml, forum)).toEqual([expect.objectContaining({ action: 'synlogout' })]);
    expect(forumImages(toAdmin.html, forum)).toEqual([expect.objectContaining({ action: 'synlogin', uid: String(rootUid) })]);
    expect(bobUid).toBeGreaterThan(0);
  });
});
