/**
 * Two admin tabs (or two admins) editing one subsite: the second save, from a page read before
 * the first, no longer puts back silently what the first changed. An exploratory review in
 * Chromium: tab 1 added a redirect URI and saved, tab 2 (opened before) changed only the name and
 * saved: "Subsite saved", and tab 1's redirect URI was gone.
 */
import { TestBrowser, hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

/** The edit form's hidden fields on the subsite's page, as a browser tab holds them. */
async function editForm(browser: TestBrowser, hub: RunningHub, id: string): Promise<Record<string, string>> {
  return hiddenFieldsOf(await (await browser.get(`${hub.url}/admin/clients/${id}`)).text(), `/admin/clients/${id}`);
}

describe.each(STORE_KINDS)('two tabs editing one subsite on %s', (kind) => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    admin = await signedInAdmin(hub);
    await hub.services.clients.register({ clientId: 'site', name: 'Site', redirectUris: ['http://127.0.0.1:9/cb'] });
  });
  afterAll(() => hub.close());

  test('the stale tab\'s save is refused with its typing kept; saving again from that page then applies it', async () => {
    const base = { name: 'Site', redirectUris: 'http://127.0.0.1:9/cb', grant: 'authorization_code', auth: 'client_secret_basic' };
    const tab1 = await editForm(admin, hub, 'site');
    const tab2 = await editForm(admin, hub, 'site');
    const first = await admin.post(`${hub.url}/admin/clients/site`, { ...tab1, ...base, redirectUris: 'http://127.0.0.1:9/cb\nhttp://127.0.0.1:9/added' });
    expect(first.status).toBe(303);
    const stale = await admin.post(`${hub.url}/admin/clients/site`, { ...tab2, ...base, name: 'Renamed' });
    const html = await stale.text();
    expect(stale.status).toBe(409);
    expect(html).toContain('class="admin-nav"');
    expect(/data-testid="form-error">([^<]*)</.exec(html)?.[1]).toContain('changed since this page was opened');
    expect(html).toContain('value="Renamed"');
    // Nothing of the stale tab was saved: tab 1's redirect URI is still there.
    expect((await hub.services.clients.findUncached('site'))!).toMatchObject({ name: 'Site', redirectUris: ['http://127.0.0.1:9/cb', 'http://127.0.0.1:9/added'] });
    // The refused page's form is of the record as it is now: sent again, it applies (on purpose).
    const seen = /name="_seen" value="([^"]+)"/.exec(html)![1]!;
    const again = await admin.post(`${hub.url}/admin/clients/site`, { ...tab2, _seen: seen, ...base, name: 'Renamed', redirectUris: 'http://127.0.0.1:9/cb\nhttp://127.0.0.1:9/added' });
    expect(again.status).toBe(303);
    expect((await hub.services.clients.findUncached('site'))!).toMatchObject({ name: 'Renamed', redirectUris: ['http://127.0.0.1:9/cb', 'http://127.0.0.1:9/added'] });
  });

  test('a stale tab whose form also holds a refused value is told of the conflict first: fixing the value alone does not put back what the other tab changed', async () => {
    await hub.services.clients.register({ clientId: 'both-wrong', name: 'Both', redirectUris: ['http://127.0.0.1:9/cb'] });
    const base = { name: 'Both', redirectUris: 'http://127.0.0.1:9/cb', grant: 'authorization_code', auth: 'client_secret_basic' };
    const tab1 = await editForm(admin, hub, 'both-wrong');
    const tab2 = await editForm(admin, hub, 'both-wrong');
    expect((await admin.post(`${hub.url}/admin/clients/both-wrong`, { ...tab1, ...base, redirectUris: 'http://127.0.0.1:9/cb\nhttp://127.0.0.1:9/added' })).status).toBe(303);
    // The stale tab: a name past the limit (or any refused value) and, unseen, tab 1's URI missing.
    const stale = await admin.post(`${hub.url}/admin/clients/both-wrong`, { ...tab2, ...base, name: 'x'.repeat(101) });
    const html = await stale.text();
    expect(stale.status).toBe(409);
    expect(/data-testid="form-error">([^<]*)</.exec(html)?.[1]).toContain('changed since this page was opened');
    expect((await hub.services.clients.findUncached('both-wrong'))!.redirectUris).toEqual(['http://127.0.0.1:9/cb', 'http://127.0.0.1:9/added']);
  });

  test('a secret rotated between opening the page and saving is not a conflict (only the settings the form edits count)', async () => {
    const form = await editForm(admin, hub, 'site');
    await hub.services.clients.rotateSecret('site');
    const saved = await admin.post(`${hub.url}/admin/clients/site`, { ...form, name: 'After Rotation', redirectUris: 'http://127.0.0.1:9/cb', grant: 'authorization_code', auth: 'client_secret_basic' });
    expect(saved.status).toBe(303);
  });
});
