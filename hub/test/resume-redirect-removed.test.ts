/**
 * A sign-in resumes only to a redirect URI its client still registers. oidc-provider checks
 * `redirect_uri` when the authorization request comes in, not when it resumes: an outside
 * review started a sign-in at a subsite, moved the subsite to a new domain (`clients update
 * --redirect-uri`, the old URI removed), then finished the sign-in, and the hub sent the code
 * to the old, unregistered address (DESIGN: on a bad redirect_uri, an error page, never a redirect).
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, walk } from './support.js';

const OLD = 'http://old.test/sso/callback';
const NEW = 'http://new.test/sso/callback';
const PASSWORD = 'owner-password-1';

describe.each(STORE_KINDS)('a redirect URI removed while a sign-in is in progress (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'owner', email: 'owner@example.test', password: PASSWORD });
  });
  afterAll(() => hub.close());

  /** A browser signed in at the hub, at `clientId`'s consent page: the Allow, and the resume URL it leads to (not yet followed). */
  async function atResume(clientId: string): Promise<{ browser: TestBrowser; resume: string }> {
    const browser = new TestBrowser();
    await walk(browser, hub.url, authUrl(hub.url, codeRequest(clientId, OLD).params), { login: 'owner', password: PASSWORD });
    const started = await browser.get(authUrl(hub.url, codeRequest(clientId, OLD, { prompt: 'consent' }).params));
    const page = await (await browser.get(new URL(started.headers.get('location')!, hub.url).toString())).text();
    const action = attribute(page, /action="(\/interaction\/[^"]+\/confirm)"/);
    const allowed = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(page, '_csrf') });
    return { browser, resume: new URL(allowed.headers.get('location')!, hub.url).toString() };
  }

  test('still registered: the resume returns the code to it', async () => {
    await hub.services.clients.register({ clientId: 'kept', redirectUris: [OLD] });
    const { browser, resume } = await atResume('kept');
    const answer = await browser.get(resume);
    const location = new URL(answer.headers.get('location')!, hub.url);
    expect(location.origin + location.pathname).toBe(OLD);
    expect(location.searchParams.get('code')).toEqual(expect.any(String));
  });

  test('removed meanwhile: an error page, no redirect and no code; audited', async () => {
    await hub.services.clients.register({ clientId: 'moved', name: 'Moved', redirectUris: [OLD] });
    const { browser, resume } = await atResume('moved');
    await hub.services.clients.update('moved', { redirectUris: [NEW] });

    const answer = await browser.get(resume);
    const body = await answer.text();
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(body).toContain('changed the address it returns to');
    expect(body).not.toContain('code=');
    const [entry] = await hub.services.audit.search({ event: 'login.redirect-uri-gone' });
    expect(entry).toMatchObject({ client: 'moved', detail: { redirect_uri: OLD } });

    // A sign-in started at the new address goes through.
    const fresh = await browser.get(authUrl(hub.url, codeRequest('moved', NEW).params));
    const location = new URL(fresh.headers.get('location')!, hub.url);
    expect(location.origin + location.pathname).toBe(NEW);
    expect(location.searchParams.get('code')).toEqual(expect.any(String));
  });
});
