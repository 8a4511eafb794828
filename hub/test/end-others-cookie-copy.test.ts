/**
 * "Sign out everywhere else" and a copy of this browser's own hub cookie. The page lists the
 * other sessions; a copy of this browser's session cookie (a leaked cookie file, a shared
 * computer's export, a proxy's log) is no other session, so the list cannot show it, and ending
 * the others left it signed in. A password change gives this session a new id for that reason
 * (portal/current-user.ts `rotateHubSession`); "Sign out everywhere else" now does too, and so
 * does turning two-step sign-in on, which ends the other sessions (signed in with a password
 * alone) for the same reason. Real Redis.
 */
import { randomUUID } from 'node:crypto';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { attribute } from '../src/testing/browser.js';
import { awayFromStepEdge, totpCode } from '../src/testing/totp.js';
import { isSignedIn } from './support.js';

const PASSWORD = 'looking-glass-42';

describe('"Sign out everywhere else" and a copy of this browser\'s cookie (redis)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test('the copy is signed out; this browser stays signed in, the same session (its row and sign-in time)', async () => {
    const username = `u${randomUUID().slice(0, 8)}`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Alice', password: PASSWORD });
    const owner = await signInAtPortal(hub, username, PASSWORD);
    const copy = new TestBrowser();
    const host = new URL(hub.url).host;
    for (const [name, value] of owner.jar.get(host)!) copy.cookies(hub.url).set(name, value);
    expect(await isSignedIn(copy, hub.url)).toBe(true);
    const [before] = await hub.services.lifecycle.sessionsOf(user.id);

    const html = await (await owner.get(`${hub.url}/account`)).text();
    const ended = await owner.post(`${hub.url}/account/sessions/end-others`, { _csrf: inputValue(html, '_csrf') });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, '/account?done=others']);

    expect(await isSignedIn(copy, hub.url)).toBe(false);
    expect(await isSignedIn(owner, hub.url)).toBe(true);
    const after = await hub.services.lifecycle.sessionsOf(user.id);
    expect(after.map(({ uid, loginTs }) => ({ uid, loginTs }))).toEqual([{ uid: before!.uid, loginTs: before!.loginTs }]);
  });

  test('turning two-step sign-in on: the copy (signed in with the password alone) is signed out, this browser stays', async () => {
    const username = `u${randomUUID().slice(0, 8)}`;
    await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Alice', password: PASSWORD });
    const owner = await signInAtPortal(hub, username, PASSWORD);
    const copy = new TestBrowser();
    const host = new URL(hub.url).host;
    for (const [name, value] of owner.jar.get(host)!) copy.cookies(hub.url).set(name, value);

    await awayFromStepEdge();
    const page = await (await owner.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    const enabled = await owner.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: PASSWORD, code: totpCode(secret) });
    await enabled.text();
    expect(enabled.status).toBe(200);

    expect(await isSignedIn(copy, hub.url)).toBe(false);
    expect(await isSignedIn(owner, hub.url)).toBe(true);
  });
});
