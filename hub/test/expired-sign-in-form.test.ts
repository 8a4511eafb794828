/**
 * A sign-in form sent after its page expired (an hour: the portal session with its CSRF token,
 * and the interaction), by a browser that is not signed in (a browser review: the sign-in page
 * left open over lunch). The portal's own sign-in starts again, saying so, with the login that
 * was typed; a site's sign-in page links back to that site. Before, the portal's form said
 * "go back, reload the page", and the reload said "go back to the site you came from".
 */
import { TestBrowser, hiddenFieldsOf, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const ALICE = { login: 'alice', password: 'wonderland-123' };
const BBS = 'http://bbs.sso.test:5301';
const REDIRECT = `${BBS}/sso/callback`;

interface Form {
  action: string;
  fields: Record<string, string>;
}

async function openForm(browser: TestBrowser, start: string, hub: RunningHub): Promise<Form> {
  const landed = await browser.follow(start);
  expect(landed.response.status).toBe(200);
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(landed.body)![1]!;
  return { action: new URL(action, hub.url).toString(), fields: hiddenFieldsOf(landed.body, action) };
}

describe.each(STORE_KINDS)('a sign-in form sent after its page expired, not signed in (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'bbs', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  test("the portal's sign-in starts again, says so once, keeps the typed login and the next, and signs in", async () => {
    const form = await openForm(new TestBrowser(), `${hub.url}/login?next=${encodeURIComponent('/account?tab=sites')}`, hub);
    // An hour later: the browser's cookies of that page are gone, and so is the interaction.
    const later = new TestBrowser();
    const sent = await later.post(form.action, { ...form.fields, ...ALICE });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`/login?${new URLSearchParams({ next: '/account?tab=sites', restarted: '1', login_hint: 'alice' })}`);
    // The POST, whose token cannot be checked and which no limit counts, stores nothing (a diff
    // review: each forged cross-site POST saved a portal session); GET /login, counted, does.
    expect(sent.headers.get('set-cookie') ?? '').not.toContain('hub_portal');
    const again = await later.follow(new URL(sent.headers.get('location')!, hub.url).toString());
    expect(again.response.status).toBe(200);
    expect(again.body).toContain('data-testid="login-restarted"');
    expect(inputValue(again.body, 'login')).toBe('alice');
    // The password is what is left to type: the focus is there, and the notice describes it.
    expect(again.body).toMatch(/name="password"[^>]*aria-describedby="login-restarted" autofocus/);
    expect(again.body).not.toMatch(/name="login"[^>]*autofocus/);
    // Said once: the same page loaded again does not say it again.
    expect((await later.follow(again.url)).body).not.toContain('login-restarted');
    // Not signed in by the expired form: the account page asks for a sign-in.
    expect((await later.get(`${hub.url}/account`)).status).toBe(303);
    // The new page's form signs in and goes where the first one was going.
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(again.body)![1]!;
    const answer = await later.post(new URL(action, hub.url).toString(), { ...hiddenFieldsOf(again.body, action), ...ALICE });
    expect(answer.status).toBe(200);
    const landed = await later.follow(continueUrlOf(await answer.text(), hub.url), [new URL(hub.url).host]);
    expect(landed.url).toBe(`${hub.url}/account?tab=sites`);
  });

  test("a site's sign-in page links back to that site", async () => {
    const form = await openForm(new TestBrowser(), authUrl(hub.url, codeRequest('bbs', REDIRECT).params), hub);
    const sent = await new TestBrowser().post(form.action, { ...form.fields, ...ALICE });
    expect(sent.status).toBe(400);
    const page = await sent.text();
    expect(page).toContain('This sign-in page has expired');
    expect(page).toContain(`href="${BBS}/" data-testid="error-back"`);
  });

  test("a forged next or client leads no further than the hub's sign-in or the hub's error page", async () => {
    const form = await openForm(new TestBrowser(), `${hub.url}/login`, hub);
    const forged = await new TestBrowser().post(form.action, { ...form.fields, next: 'https://evil.example/x', ...ALICE });
    expect(forged.headers.get('location')).toBe(`/login?${new URLSearchParams({ next: '/account', restarted: '1', login_hint: 'alice' })}`);
    const unknown = await new TestBrowser().post(form.action, { ...form.fields, client: 'no-such-site', ...ALICE });
    expect(unknown.status).toBe(403);
    expect(await unknown.text()).toContain('This form has expired');
  });
});
