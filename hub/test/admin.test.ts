/**
 * The admin console (/admin): admins only, CSRF on every form, every action audited; user
 * deletion is the forced logout (hub sessions end, subsites get a queued userdelete).
 */
import { secretDigest } from '../src/clients/client-secret.js';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { totpCode } from '../src/testing/totp.js';
import { isSignedIn, pageWithCsrf } from './support.js';

const ADMIN = { login: 'root', password: 'admin-password-1' };
const ALICE = { login: 'alice', password: 'wonderland-123' };

/** Signs in at the portal and lands on `next`. */
async function signIn(hub: RunningHub, credentials: { login: string; password: string }, next = '/account'): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const login = await browser.follow(`${hub.url}/login?next=${encodeURIComponent(next)}`);
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
  const answer = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), ...credentials });
  expect(answer.status).toBe(200);
  await browser.follow(continueUrlOf(await answer.text(), hub.url));
  return browser;
}

/** An admin page, with its CSRF token. */
const page = pageWithCsrf;

describe.each(STORE_KINDS)('admin console on %s', (kind) => {
  let hub: RunningHub;
  let admin: TestBrowser;
  let aliceId: string;
  let adminId: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    const { users, clients } = hub.services;
    adminId = (await users.create({ username: ADMIN.login, email: 'root@example.test', password: ADMIN.password, roles: ['admin'] })).id;
    aliceId = (await users.create({ username: ALICE.login, email: 'alice@example.test', password: ALICE.password })).id;
    await clients.register({ clientId: 'bbs', name: 'Forum', redirectUris: ['http://127.0.0.1:9/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
    admin = await signIn(hub, ADMIN);
  });
  afterAll(() => hub.close());

  test('not signed in: sent to sign in; signed in without the admin role: 403', async () => {
    const anonymous = await new TestBrowser().get(`${hub.url}/admin/users`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/admin/users')}`);
    const alice = await signIn(hub, ALICE);
    for (const url of ['/admin', '/admin/users', '/admin/audit.jsonl', '/admin/deliveries']) {
      expect((await alice.get(`${hub.url}${url}`)).status).toBe(403);
    }
    const { csrf } = await page(alice, `${hub.url}/account`);
    expect((await alice.post(`${hub.url}/admin/users/${aliceId}/delete`, { _csrf: csrf })).status).toBe(403);
    expect(await hub.services.users.findById(aliceId)).toBeDefined();
  });

  test('creating a user with a taken username: the form again inside the console, what was typed kept (never the password), the reason beside it (a review: a bare page lost it all)', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/users`);
    const answer = await admin.post(`${hub.url}/admin/users`, { _csrf: csrf, username: ALICE.login, email: 'second-alice@example.test', name: 'Second Alice', password: 'a-long-new-password-1', admin: 'yes' });
    const html = await answer.text();
    expect(answer.status).toBe(409);
    expect(html).toContain('class="admin-nav"');
    expect(/data-testid="create-error">([^<]*)</.exec(html)?.[1]).toContain(ALICE.login);
    expect(html).toContain('value="second-alice@example.test"');
    expect(html).toContain('value="Second Alice"');
    expect(html).toMatch(/name="admin" value="yes" checked/);
    expect(html).not.toContain('a-long-new-password-1');
    expect((await hub.services.users.findByLogin('second-alice@example.test'))).toBeUndefined();
  });

  test('registering a subsite with a bad redirect URI: the form again with every field kept and the reason in the reader\'s language (a review: a bare page, in English on zh-CN pages)', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/clients`);
    const form = { _csrf: csrf, clientId: 'typed-site', name: 'Typed Site', redirectUris: 'not a url', syncLoginUrl: 'http://typed.test/sso/synclogin', syncLogoutUrl: 'http://typed.test/sso/synclogout', backchannelLogoutUri: 'http://typed.test/sso/bcl', trusted: 'yes' };
    const answer = await admin.post(`${hub.url}/admin/clients`, form);
    const html = await answer.text();
    expect(answer.status).toBe(400);
    expect(html).toContain('class="admin-nav"');
    expect(/data-testid="form-error">([^<]*)</.exec(html)?.[1]).toBe('redirect URI is not a URL: not a url');
    for (const value of ['typed-site', 'Typed Site', 'http://typed.test/sso/synclogin', 'http://typed.test/sso/synclogout', 'http://typed.test/sso/bcl']) expect(html).toContain(`value="${value}"`);
    expect(html).toContain('>not a url</textarea>');
    expect(html).toMatch(/name="trusted" value="yes" checked/);
    expect(await hub.services.clients.findUncached('typed-site')).toBeUndefined();
    admin.cookies(hub.url).set('lang', 'zh-CN');
    try {
      const chinese = await admin.post(`${hub.url}/admin/clients`, form);
      expect(/data-testid="form-error">([^<]*)</.exec(await chinese.text())?.[1]).toBe('回调地址（redirect URI）不是有效的网址：not a url');
    } finally {
      admin.cookies(hub.url).delete('lang');
    }
  });

  test('every table header names its column, the buttons\' one for screen readers (axe: empty-table-header, a review)', async () => {
    for (const path of ['/admin/deliveries', '/admin/ucenter', `/admin/users/${aliceId}`]) {
      const { status, html } = await page(admin, `${hub.url}${path}`);
      expect([path, status]).toEqual([path, 200]);
      expect([path, html.includes('<th></th>')]).toEqual([path, false]);
    }
  });

  test('every form needs the CSRF token of the admin’s session', async () => {
    const missing = await admin.post(`${hub.url}/admin/users`, { username: 'mallory', email: 'm@example.test', password: 'mallory-pass-1' });
    expect(missing.status).toBe(403);
    const other = await signIn(hub, ADMIN);
    const { csrf: foreign } = await page(other, `${hub.url}/admin/users`);
    const wrong = await admin.post(`${hub.url}/admin/users`, { _csrf: foreign, username: 'mallory', email: 'm@example.test', password: 'mallory-pass-1' });
    expect(wrong.status).toBe(403);
    expect(await hub.services.users.findByLogin('mallory')).toBeUndefined();
  });

  test('search, create, reset a password, disable and enable a user; each audited', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/users`);
    const created = await admin.post(`${hub.url}/admin/users`, { _csrf: csrf, username: 'carol', email: 'carol@example.test', password: 'carol-pass-123' });
    expect(created.status).toBe(303);
    const carol = (await hub.services.users.findByLogin('carol'))!;
    expect(created.headers.get('location')).toBe(`/admin/users/${carol.id}?done=user-created`);

    const search = await page(admin, `${hub.url}/admin/users?q=car`);
    expect(search.html).toContain('carol@example.test');
    expect(search.html).not.toContain('alice@example.test');

    const detail = await page(admin, `${hub.url}/admin/users/${carol.id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).not.toMatch(/argon2/);
    await admin.post(`${hub.url}/admin/users/${carol.id}/password`, { _csrf: detail.csrf, password: 'new-carol-pass-1', confirm: 'new-carol-pass-1' });
    await signIn(hub, { login: 'carol', password: 'new-carol-pass-1' });
    expect((await admin.post(`${hub.url}/admin/users/${carol.id}/disable`, { _csrf: detail.csrf })).status).toBe(303);
    expect((await hub.services.users.findById(carol.id))!.disabled).toBe(true);
    expect((await admin.post(`${hub.url}/admin/users/${carol.id}/enable`, { _csrf: detail.csrf })).status).toBe(303);
    expect((await hub.services.users.findById(carol.id))!.disabled).toBe(false);

    const events = (await hub.services.audit.search({ user: carol.id })).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['admin.user.create', 'admin.user.password', 'admin.user.disable', 'admin.user.enable', 'login.success']));
    const [entry] = await hub.services.audit.search({ event: 'admin.user.create' });
    expect(entry).toMatchObject({ actor: adminId, subject: carol.id, ip: '127.0.0.1' });
    // Never a password in the log.
    const exported = await (await admin.get(`${hub.url}/admin/audit.jsonl`)).text();
    expect(exported).not.toMatch(/carol-pass-123|new-carol-pass-1|wonderland-123/);
  });

  test('the audit log finds a user by username or address, not only by id (an attacker review: "root" found none of root\'s own actions)', async () => {
    const dave = await hub.services.users.create({ username: 'dave', email: 'dave@example.test', password: 'dave-password-77' });
    await signIn(hub, { login: 'dave', password: 'dave-password-77' });
    const events = async (query: string) => {
      const { html } = await page(admin, `${hub.url}/admin/audit?${query}`);
      return [...html.matchAll(/data-testid="audit-entry" data-event="([^"]*)"/g)].map((match) => match[1]);
    };
    for (const user of ['dave', 'DAVE', 'dave@example.test', dave.id]) expect(await events(`user=${encodeURIComponent(user)}`)).toContain('login.success');
    // The admin's own actions, by the admin's name.
    expect(await events(`user=${ADMIN.login}&event=admin.`)).toContain('admin.user.create');
    const exported = await (await admin.get(`${hub.url}/admin/audit.jsonl?user=dave&event=login.success`)).text();
    expect(exported.trim().split('\n').map((line) => JSON.parse(line) as { actor: string })).toEqual([expect.objectContaining({ actor: dave.id })]);
    // A login typed for nobody still finds the failures typed so.
    await hub.services.audit.record({ event: 'login.failure', actor: 'nobody-here', ip: '127.0.0.1' });
    expect(await events('user=nobody-here')).toEqual(['login.failure']);
  });

  test('shows a user’s sessions; ends one; delete is the forced logout, queued for every subsite', async () => {
    const first = await signIn(hub, ALICE);
    const second = await signIn(hub, ALICE);
    const detail = await page(admin, `${hub.url}/admin/users/${aliceId}`);
    expect(detail.html.match(/sessions\/[^/"]+\/end"/g)).toHaveLength(3); // two here, one from the 403 test
    const sessions = await hub.services.lifecycle.sessionsOf(aliceId);
    await admin.post(`${hub.url}/admin/users/${aliceId}/sessions/${sessions[0]!.uid}/end`, { _csrf: detail.csrf });
    expect(await hub.services.lifecycle.sessionsOf(aliceId)).toHaveLength(2);

    const deleted = await admin.post(`${hub.url}/admin/users/${aliceId}/delete`, { _csrf: detail.csrf, confirmed: 'yes' });
    expect(deleted.status).toBe(303);
    expect(await hub.services.users.findById(aliceId)).toBeUndefined();
    expect(await isSignedIn(first, hub.url)).toBe(false);
    expect(await isSignedIn(second, hub.url)).toBe(false);
    const queued = (await hub.services.deliveries.list('pending')).find((item) => item.sub === aliceId);
    expect(queued).toMatchObject({ kind: 'userdelete', clientId: 'bbs', sub: aliceId });
    const queue = await page(admin, `${hub.url}/admin/deliveries`);
    expect(queue.html).toContain(aliceId);
    expect(queue.html).toContain('/retry"');
    const audit = await page(admin, `${hub.url}/admin/audit?event=admin.user.delete`);
    expect(audit.html).toContain(aliceId);
    const jsonl = await admin.get(`${hub.url}/admin/audit.jsonl?event=admin.user.delete`);
    expect(jsonl.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await jsonl.text()).trim().split('\n').map((line) => JSON.parse(line) as { event: string; subject: string });
    expect(lines).toEqual([expect.objectContaining({ event: 'admin.user.delete', subject: aliceId })]);
  });

  test('delivery queue with many items: says how many it shows, lists one subsite, and makes all of its notices due at once', async () => {
    // An outside review: a subsite back from a day of maintenance had its notices waiting up to
    // an hour each (their backoff), behind 200 other items the console listed with no word of the
    // rest, and "Retry now" one item at a time was the only way to send them sooner.
    const { deliveries } = hub.services;
    const later = Date.now() + 3_600_000;
    const park = async (clientId: string, count: number) => {
      for (let n = 0; n < count; n++) await deliveries.enqueue({ kind: 'userdelete', clientId, sub: `${clientId}-user-${n}`, url: `http://127.0.0.1:9/${clientId}/sso/userdelete` });
      // Retried before: each waits for its backoff.
      for (const claim of await deliveries.claimDue(count + 300)) await deliveries.reschedule(claim, { attempts: 9 }, later);
    };
    await park('elsewhere', 201);
    await park('backagain', 3);

    const all = await page(admin, `${hub.url}/admin/deliveries`);
    expect(all.html).toContain(`Showing the first 200 of ${(await deliveries.counts()).pending}`);
    const one = await page(admin, `${hub.url}/admin/deliveries?status=pending&client=backagain`);
    expect(one.html.match(/data-testid="delivery"/g)).toHaveLength(3);
    expect(one.html).not.toContain('data-client="elsewhere"');
    expect(one.html).toContain('data-testid="retry-subsite"');

    // The subsite's view says itself that it shows fewer than it has (the last read saw it from the URL).
    const many = await page(admin, `${hub.url}/admin/deliveries?status=pending&client=elsewhere`);
    expect(many.html.match(/data-testid="delivery"/g)).toHaveLength(200);
    expect(many.html).toContain('More are left');
    expect(one.html).not.toContain('More are left');

    const retried = await admin.post(`${hub.url}/admin/deliveries/retry-subsite`, { _csrf: one.csrf, client: 'backagain', status: 'pending' });
    expect(retried.status).toBe(303);
    expect(retried.headers.get('location')).toContain('done=retried-subsite');
    const items = await deliveries.list('pending', 1000);
    expect(items.filter((item) => item.clientId === 'backagain').every((item) => item.nextAttemptAt <= Date.now())).toBe(true);
    expect(items.filter((item) => item.clientId === 'elsewhere').every((item) => item.nextAttemptAt === later)).toBe(true);
    const [entry] = await hub.services.audit.search({ event: 'admin.delivery.retry', client: 'backagain' });
    expect(entry).toMatchObject({ actor: adminId, detail: { status: 'pending', count: 3 } });
    // A press for a subsite with nothing to retry changes nothing and is not audited.
    expect((await admin.post(`${hub.url}/admin/deliveries/retry-subsite`, { _csrf: one.csrf, client: 'nothing-here', status: 'failed' })).status).toBe(303);
    await hub.services.audit.flush();
    expect(await hub.services.audit.search({ event: 'admin.delivery.retry', client: 'nothing-here' })).toEqual([]);
    // Out of the way of the tests after this one.
    for (const item of items.filter((queued) => ['elsewhere', 'backagain'].includes(queued.clientId))) {
      await hub.services.store.del(hub.services.keys.deliveryItem(item.id));
      await hub.services.store.zRemove(hub.services.keys.deliveryDue(), item.id);
    }
  });

  test('an admin cannot delete or disable their own account from the console', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/users/${adminId}`);
    expect((await admin.post(`${hub.url}/admin/users/${adminId}/delete`, { _csrf: csrf })).status).toBe(403);
    expect(await hub.services.users.findById(adminId)).toBeDefined();
  });

  test('the admin\'s own page offers no Disable or Delete: the console refuses both there, so the buttons only led to an error page outside the console (exploratory review)', async () => {
    const own = await page(admin, `${hub.url}/admin/users/${adminId}`);
    expect(own.status).toBe(200);
    expect(own.html).toContain('data-testid="own-account"');
    for (const testid of ['disable-user', 'enable-user', 'delete-user', 'revoke-admin']) expect(own.html).not.toContain(`data-testid="${testid}"`);
    // Another user's page still has them.
    const otherId = (await hub.services.users.create({ username: `other-${Date.now()}`, email: `other-${Date.now()}@example.test`, password: 'other-password-123' })).id;
    const other = await page(admin, `${hub.url}/admin/users/${otherId}`);
    for (const testid of ['delete-user']) expect(other.html).toContain(`data-testid="${testid}"`);
    expect(other.html).toMatch(/data-testid="(disable|enable)-user"/);
  });

  test('an admin cannot reset their own password or two-step sign-in from the console: the account page asks for proof first', async () => {
    // A review: the console turned the admin's own two-step sign-in off, and set a new password,
    // with no password or code (the account page refuses both without one): a borrowed or stolen
    // admin session could drop the admin's second step.
    const { twoStep } = hub.services;
    const { secret } = await twoStep.beginEnrolment(adminId, ADMIN.login, 'own-session');
    expect('codes' in (await twoStep.confirmEnrolment(adminId, 'own-session', totpCode(secret)))).toBe(true);
    const before = (await hub.services.users.findById(adminId))!.passwordHash;
    const own = await page(admin, `${hub.url}/admin/users/${adminId}`);
    expect(own.html).toContain('data-testid="own-account"');
    expect(own.html).not.toContain(`/admin/users/${adminId}/two-step/reset`);
    expect(own.html).not.toContain(`/admin/users/${adminId}/password`);
    for (const target of [adminId, ADMIN.login]) {
      const reset = await admin.post(`${hub.url}/admin/users/${target}/two-step/reset`, { _csrf: own.csrf });
      expect(reset.status).toBe(403);
      expect(await reset.text()).toContain('account page');
      const password = await admin.post(`${hub.url}/admin/users/${target}/password`, { _csrf: own.csrf, password: 'another-pw-123', confirm: 'another-pw-123' });
      expect(password.status).toBe(403);
      await password.arrayBuffer();
    }
    expect(await twoStep.isEnabled(adminId)).toBe(true);
    expect((await hub.services.users.findById(adminId))!.passwordHash).toBe(before);
    expect(await isSignedIn(admin, hub.url)).toBe(true);
    await hub.services.twoStepRecords.remove(adminId);
  });

  test('subsites: register (secrets shown once), edit, rotate secret and sync key, remove', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/clients`);
    const registered = await admin.post(`${hub.url}/admin/clients`, {
      _csrf: csrf, clientId: 'wiki', name: 'Wiki', redirectUris: 'http://wiki.test/sso/callback', grant: 'authorization_code',
      auth: 'client_secret_basic', syncLoginUrl: 'http://wiki.test/sso/synclogin', syncLogoutUrl: 'http://wiki.test/sso/synclogout', syncTransport: 'img',
      userdeleteUrl: '', backchannelLogoutUri: 'http://127.0.0.1:9/sso/backchannel-logout',
    });
    const shown = await registered.text();
    const wiki = (await hub.services.clients.find('wiki'))!;
    // Shown from the registration's answer: the store holds only the secret's digest.
    const firstSecret = /data-testid="client-secret">([^<]+)</.exec(shown)![1]!;
    expect(wiki.clientSecret).toBeUndefined();
    expect(wiki.clientSecretDigest).toBe(secretDigest(firstSecret));
    expect(shown).toContain(wiki.sync!.key);
    expect(wiki).toMatchObject({ grantTypes: ['authorization_code'], backchannelLogoutUri: 'http://127.0.0.1:9/sso/backchannel-logout' });
    expect((await page(admin, `${hub.url}/admin/clients/wiki`)).html).not.toContain(firstSecret);

    const form = new URLSearchParams({
      _csrf: csrf, name: 'Wiki 2', redirectUris: 'http://wiki.test/sso/callback\nhttp://wiki.test/alt', grant: 'authorization_code',
      auth: 'client_secret_basic', trusted: 'yes', syncLoginUrl: '', syncLogoutUrl: '', userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete', backchannelLogoutUri: '',
    });
    form.append('grant', 'refresh_token'); // checkboxes: a repeated field
    const saved = await admin.request(`${hub.url}/admin/clients/wiki`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(saved.status).toBe(303);
    // Sync and the back-channel URI both gone: the console says sign-outs no longer reach it.
    expect(saved.headers.get('location')).toContain('done=client-updated-no-logout');
    expect((await page(admin, `${hub.url}${saved.headers.get('location')!}`)).html).toContain('sign-outs at the hub no longer reach it');
    const edited = (await hub.services.clients.findUncached('wiki'))!;
    expect(edited).toMatchObject({ name: 'Wiki 2', trusted: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['http://wiki.test/sso/callback', 'http://wiki.test/alt'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
    expect(edited.sync).toBeUndefined();
    expect(edited.backchannelLogoutUri).toBeUndefined();
    // The audit entry says what changed, as the CLI's does (an outside review: the console's said nothing).
    const [update] = await hub.services.audit.search({ event: 'admin.client.update', client: 'wiki' });
    expect(update!.detail).toEqual({ changed: 'name,redirectUris,grantTypes,trusted,syncLoginUrl,syncLogoutUrl,syncTransport,userdeleteUrl,backchannelLogoutUri' });

    const rotated = await (await admin.post(`${hub.url}/admin/clients/wiki/rotate-secret`, { _csrf: csrf })).text();
    const newSecret = /data-testid="client-secret">([^<]+)</.exec(rotated)![1]!;
    expect(newSecret).not.toBe(firstSecret);
    expect((await hub.services.clients.findUncached('wiki'))!.clientSecretDigest).toBe(secretDigest(newSecret));
    // No overlap asked: the old secret stopped, and the page says so.
    expect(rotated).toContain('data-testid="old-secret-stopped"');
    // Shown once: no language switch that would leave the page and lose it (a review), a note instead.
    expect(rotated).toContain('data-testid="lang-held"');
    expect(rotated).not.toMatch(/href="\/lang\?/);

    expect((await admin.post(`${hub.url}/admin/clients/wiki/remove`, { _csrf: csrf, confirmed: 'yes' })).status).toBe(303);
    expect(await hub.services.clients.findUncached('wiki')).toBeUndefined();
    expect((await hub.services.audit.search({ client: 'wiki' })).map((e) => e.event)).toEqual([
      'admin.client.remove', 'admin.client.rotate-secret', 'admin.client.update', 'admin.client.register',
    ]);
    // The hub's own portal client is not editable.
    expect((await admin.get(`${hub.url}/admin/clients/hub-portal`)).status).toBe(403);
  });

  test('sync added to a subsite later: its key is shown once on saving; a key no one saw is replaced at once by a rotation', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/clients`);
    const base = { _csrf: csrf, redirectUris: 'http://site1.test/sso/callback', grant: 'authorization_code', auth: 'client_secret_basic', userdeleteUrl: '', backchannelLogoutUri: '' };
    await admin.post(`${hub.url}/admin/clients`, { ...base, clientId: 'site1', name: 'Site 1', syncLoginUrl: '', syncLogoutUrl: '', syncTransport: 'img' });
    expect((await hub.services.clients.findUncached('site1'))!.sync).toBeUndefined();

    // Before, the save redirected to the edit page and the key the hub had made was shown nowhere.
    const saved = await admin.post(`${hub.url}/admin/clients/site1`, { ...base, name: 'Site 1', syncLoginUrl: 'http://site1.test/sso/synclogin', syncLogoutUrl: 'http://site1.test/sso/synclogout', syncTransport: 'img' });
    expect(saved.status).toBe(200);
    const withSync = (await hub.services.clients.findUncached('site1'))!.sync!;
    expect(/data-testid="sync-key">([^<]+)</.exec(await saved.text())?.[1]).toBe(withSync.key);
    expect(withSync.keyUnshown).toBeUndefined();

    // That key was shown, so a rotation is a normal one: the hub signs with it for the overlap.
    const rotated = await (await admin.post(`${hub.url}/admin/clients/site1/rotate-sync-key`, { _csrf: csrf })).text();
    const afterRotation = (await hub.services.clients.findUncached('site1'))!.sync!;
    expect(afterRotation.previousKey).toBe(withSync.key);
    expect(rotated).toContain(afterRotation.key);
    expect(rotated).toContain('previousSyncKey');

    // A key the hub made and showed no one (a declarative registration without syncKey): no
    // subsite has it, so the rotation takes effect at once and there is no overlap to speak of.
    await hub.services.clients.upsert({ clientId: 'site2', redirectUris: ['http://site2.test/sso/callback'], syncLoginUrl: 'http://site2.test/sso/synclogin', syncLogoutUrl: 'http://site2.test/sso/synclogout' });
    const unseen = (await hub.services.clients.findUncached('site2'))!.sync!;
    expect(unseen.keyUnshown).toBe(true);
    const replaced = await (await admin.post(`${hub.url}/admin/clients/site2/rotate-sync-key`, { _csrf: csrf })).text();
    const site2 = (await hub.services.clients.findUncached('site2'))!.sync!;
    expect(site2.previousKey).toBeUndefined();
    expect(site2.keyUnshown).toBeUndefined();
    expect(/data-testid="sync-key">([^<]+)</.exec(replaced)?.[1]).toBe(site2.key);
    expect(replaced).not.toContain('previousSyncKey');
    expect(replaced).toContain('data-testid="sync-key-at-once"');
    for (const id of ['site1', 'site2']) await hub.services.clients.remove(id);
  });

  test('the own-account guard holds when the account is named by username, not id', async () => {
    const { csrf } = await page(admin, `${hub.url}/admin/users`);
    for (const action of ['disable', 'delete']) {
      const answer = await admin.post(`${hub.url}/admin/users/${ADMIN.login}/${action}`, { _csrf: csrf });
      expect(answer.status).toBe(403);
    }
    const root = await hub.services.users.findById(adminId);
    expect(root?.disabled).toBe(false);
  });

  test('a password reset is a forced logout: grants and refresh tokens of the old password end', async () => {
    const { users, consents, provider } = hub.services;
    const dave = await users.create({ username: `dave-${Date.now()}`, email: `dave-${Date.now()}@example.test`, password: 'old-password-1' });
    const grant = new provider.Grant({ accountId: dave.id, clientId: 'bbs' });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    await consents.remember(dave.id, 'bbs', { scope: 'openid offline_access', claims: [] });
    const { csrf } = await page(admin, `${hub.url}/admin/users/${dave.id}`);
    const answer = await admin.post(`${hub.url}/admin/users/${dave.id}/password`, { _csrf: csrf, password: 'new-password-1', confirm: 'new-password-1' });
    expect(answer.status).toBe(303);
    expect(await provider.Grant.find(grantId)).toBeUndefined();
    expect(await consents.find(dave.id, 'bbs')).toBeNull();
  });
});
