import { TestBrowser } from '../src/testing/browser.js';
import { authorize } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, signOut } from './support.js';

// A sign-out ends every grant of the hub session, one per site the browser signed in to. The audit
// log's grant.revoked entries named the client of the request instead (none at the portal's own
// sign-out, the signing-out site for every grant at a site's end-session): an interoperability
// review with mod_auth_openidc and Authlib found Apache's grant logged as the Authlib client's.
describe('grant.revoked audit entries name the client the grant was given to', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: 'wonderland-123' });
    for (const clientId of ['site-a', 'site-b']) {
      await hub.services.clients.register({ clientId, name: clientId, redirectUris: [`http://${clientId}.test/cb`], postLogoutRedirectUris: [`http://${clientId}.test/bye`], grantTypes: ['authorization_code'], trusted: true });
    }
  });
  afterAll(() => hub.close());

  test('sign-out at the hub after signing in to two sites: one entry per site, each naming its own', async () => {
    const browser = new TestBrowser();
    for (const clientId of ['site-a', 'site-b']) {
      const { params } = codeRequest(clientId, `http://${clientId}.test/cb`);
      const callback = await authorize(browser, hub.url, authUrl(hub.url, params), { login: 'alice', password: 'wonderland-123' });
      expect(callback.searchParams.get('code')).toBeTruthy();
    }
    const since = Date.now();
    expect((await signOut(browser, hub.url)).status).toBe(200);
    const revoked = (await hub.services.audit.search({ event: 'grant.revoked', since })).filter((entry) => entry.detail?.route === 'end_session_confirm');
    expect(revoked.map((entry) => entry.client).sort()).toEqual(['site-a', 'site-b']);
  });

  test("a site's end-session (client_id site-b) names site-a for site-a's grant", async () => {
    const browser = new TestBrowser();
    for (const clientId of ['site-a', 'site-b']) {
      const { params } = codeRequest(clientId, `http://${clientId}.test/cb`);
      await authorize(browser, hub.url, authUrl(hub.url, params), { login: 'alice', password: 'wonderland-123' });
    }
    const since = Date.now();
    const confirm = await (await browser.get(`${hub.url}/session/end?client_id=site-b&post_logout_redirect_uri=${encodeURIComponent('http://site-b.test/bye')}`)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm)![1]!;
    expect((await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' })).status).toBe(200);
    const revoked = (await hub.services.audit.search({ event: 'grant.revoked', since })).filter((entry) => entry.detail?.route === 'end_session_confirm');
    expect(revoked.map((entry) => entry.client).sort()).toEqual(['site-a', 'site-b']);
  });
});
