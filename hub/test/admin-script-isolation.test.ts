/**
 * The console against a script running in the hub's origin. A sync page's `<script>` beacon (a
 * UCenter application's note, a subsite on the script transport) runs there; an attacker's review
 * kept one running on a user's sync page (it cancelled the page's timer and held the beacons'
 * events) and, once an admin signed in in the same browser, it fetched /admin/users, read the
 * token and created an admin. The console now answers pages only (Fetch Metadata), keeps a token
 * of its own that no portal page shows, and keeps no opener's hold on it.
 */
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const ADMIN = { login: 'root', password: 'admin-password-1' };

describe('admin console and scripts in the hub origin', () => {
  let hub: RunningHub;
  let admin: TestBrowser;
  let bobId: string;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: ADMIN.login, email: 'root@example.test', password: ADMIN.password, roles: ['admin'] });
    bobId = (await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-1' })).id;
    admin = new TestBrowser();
    const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), ...ADMIN });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
  });
  afterAll(() => hub.close());

  test("a script's fetch() of an admin page is refused; the browser's own navigation is served, with no opener's hold", async () => {
    for (const mode of ['cors', 'same-origin', 'no-cors']) {
      const fetched = await admin.get(`${hub.url}/admin/users`, { 'sec-fetch-mode': mode, 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' });
      expect([mode, fetched.status]).toEqual([mode, 403]);
      expect(await fetched.text()).not.toMatch(/name="_csrf"/);
    }
    const page = await admin.get(`${hub.url}/admin/users`, { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'same-origin' });
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('noopener-allow-popups');
    await page.text();
    // A program without the headers (and the tests) still reads it.
    expect((await admin.get(`${hub.url}/admin/users`)).status).toBe(200);
    // A script's POST is refused before its token is even looked at.
    const posted = await admin.post(`${hub.url}/admin/users/${bobId}/disable`, { _csrf: 'x' }, { 'sec-fetch-mode': 'cors' });
    expect(posted.status).toBe(403);
  });

  test("a portal page's token does not pass the console's forms; the console's own does", async () => {
    const account = await (await admin.get(`${hub.url}/account`)).text();
    const portalToken = inputValue(account, '_csrf');
    const users = await (await admin.get(`${hub.url}/admin/users/${bobId}`)).text();
    const adminToken = inputValue(users, '_csrf');
    expect(adminToken).not.toBe(portalToken);
    expect(account).not.toContain(adminToken);
    const withPortal = await admin.post(`${hub.url}/admin/users/${bobId}/disable`, { _csrf: portalToken }, { 'sec-fetch-mode': 'navigate' });
    expect(withPortal.status).toBe(403);
    expect((await hub.services.users.findById(bobId))!.disabled).toBe(false);
    const withAdmin = await admin.post(`${hub.url}/admin/users/${bobId}/disable`, { _csrf: adminToken }, { 'sec-fetch-mode': 'navigate' });
    expect(withAdmin.status).toBe(303);
    expect((await hub.services.users.findById(bobId))!.disabled).toBe(true);
    // And the portal's forms still take the portal's token.
    const renamed = await admin.post(`${hub.url}/account/name`, { _csrf: portalToken, name: 'Root' });
    expect(renamed.status).toBeLessThan(400);
  });
});
