/**
 * The hub's small pages (issue 9, item 15): the signed-out page's wording, /favicon.ico, a
 * friendly 404 page for every non-protocol path (protocol paths keep RFC 6749 JSON), and
 * the admin audit page naming the users and clients behind the ids.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { isSignedIn, postForm, signOut } from './support.js';

const ROOT = { login: 'root', password: 'admin-password-1' };
const ALICE = { login: 'alice', password: 'wonderland-123' };
/** Signs that a page shows a stack trace or server internals. */
const LEAKS = [/\bat [\w.<>]+ \(/, /node_modules/, /\/work\//, /\.ts:\d+/, /TypeError|ReferenceError|SyntaxError/];

async function signIn(hub: RunningHub, credentials: { login: string; password: string }, next = '/account'): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const login = await browser.follow(`${hub.url}/login?next=${encodeURIComponent(next)}`);
  const action = new URL(attribute(login.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
  const answer = await browser.post(action, { _csrf: inputValue(login.body, '_csrf'), ...credentials });
  expect(answer.status).toBe(200);
  await browser.follow(continueUrlOf(await answer.text(), hub.url));
  return browser;
}

describe.each(STORE_KINDS)("the hub's small pages (%s)", (kind) => {
  let hub: RunningHub;
  let aliceId: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: ROOT.login, email: 'root@example.test', password: ROOT.password, roles: ['admin'] });
    aliceId = (await hub.services.users.create({ username: ALICE.login, email: 'alice@example.test', password: ALICE.password })).id;
    await hub.services.clients.register({ clientId: 'bbs', name: 'Forum', redirectUris: ['http://bbs.sso.test:5401/sso/callback'] });
  });
  afterAll(() => hub.close());

  test('the signed-out page says it in one plain sentence', async () => {
    const browser = await signIn(hub, ALICE);
    const out = await signOut(browser, hub.url);
    const landed = await browser.follow(continueUrlOf(out.html, hub.url));
    expect(landed.response.status).toBe(200);
    const text = /data-testid="signed-out-text">([^<]*)</.exec(landed.body)?.[1];
    expect(text).toBe('You have been signed out of sso-hub and every site you used with it.');
    expect(landed.body).not.toMatch(/signed out and of/);
  });

  test('"No, stay signed in" signs nobody out and says nothing of the kind; with a site that asked, it names that site alone (a review: it landed on "You are signed out")', async () => {
    const browser = await signIn(hub, ALICE);
    const question = await (await browser.get(`${hub.url}/session/end`)).text();
    expect(attribute(question, /<a href="([^"]*)" class="link" data-testid="stay-signed-in"/)).toBe('/');
    expect(await isSignedIn(browser, hub.url)).toBe(true);

    const asked = await (await browser.get(`${hub.url}/session/end?client_id=bbs`)).text();
    expect(/data-testid="stay-signed-in">([^<]*)</.exec(asked)?.[1]).toBe('No, sign me out of Forum only');
    const answer = await browser.post(`${hub.url}/session/end/confirm`, { xsrf: inputValue(asked, 'xsrf') });
    expect(answer.status).toBe(303);
    const landed = await browser.follow(new URL(answer.headers.get('location')!, hub.url).toString());
    expect(/data-testid="signed-out">([^<]*)</.exec(landed.body)?.[1]).toBe('You are signed out of Forum');
    expect(/data-testid="signed-out-text">([^<]*)</.exec(landed.body)?.[1]).toBe('You were signed out of Forum only. Your sign-in at sso-hub and at the other sites is unchanged.');
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });

  test('/favicon.ico is an icon, cacheable', async () => {
    const response = await fetch(`${hub.url}/favicon.ico`);
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\//);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect([...body.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // an ICO file
  });

  test.each(['/nope', '/account/nope', '/portal/nope', '/wp-login.php', '/static/nope.css', `/${'x'.repeat(300)}?q=<script>`])(
    'a friendly 404 page at %s, leaking nothing',
    async (path) => {
      const response = await new TestBrowser().get(`${hub.url}${path}`);
      const html = await response.text();
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain('Page not found');
      expect(html).toContain('href="/"');
      expect(html).not.toContain('<script>');
      for (const leak of LEAKS) expect(html).not.toMatch(leak);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    },
  );

  test('protocol paths keep their RFC 6749 JSON errors', async () => {
    const token = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: 'nope', redirect_uri: 'http://x.test/' });
    expect(token.status).toBeGreaterThanOrEqual(400);
    expect(token.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof token.body.error).toBe('string');
    const discovery = await fetch(`${hub.url}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(hub.url);
  });

  test('the admin audit page shows usernames and client names next to the ids', async () => {
    await signIn(hub, ALICE); // login.success: actor and subject alice, client hub-portal
    await hub.services.audit.record({ event: 'token.issued', actor: aliceId, subject: aliceId, client: 'bbs' });
    const admin = await signIn(hub, ROOT, '/admin');
    const response = await admin.get(`${hub.url}/admin/audit?user=${encodeURIComponent(aliceId)}`);
    const html = await response.text();
    expect(response.status).toBe(200);
    const cells = (name: string) => [...html.matchAll(new RegExp(`data-testid="audit-${name}">(.*?)</td>`, 'g'))].map((m) => m[1]!);
    expect(cells('actor').length).toBeGreaterThan(0);
    // An entry with no actor (a grant revoked by the engine at sign-out) shows a dash, not an empty id.
    const withId = [...cells('actor'), ...cells('subject')].filter((cell) => cell !== '—');
    expect(withId.length).toBeGreaterThan(0);
    for (const cell of withId) {
      expect(cell).toContain(`<strong>alice</strong>`);
      expect(cell).toContain(`<code>${aliceId}</code>`);
    }
    expect(cells('client')).toContain('<strong>Forum</strong> bbs');
  });
});
