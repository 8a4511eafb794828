/**
 * A sign-in the hub ended stays ended when a request of that browser was resuming an
 * authorization meanwhile. oidc-provider gives the session a new id at every resume
 * (`/auth/:uid`, after a consent page, a second step or a sign-in page): the ended-session
 * markers of the old record did not stop the write under the new id, so a resume in flight
 * while the owner pressed "Sign out everywhere else" (or changed the password) signed the other
 * browser back in; and a grant it saved after the ending had revoked the user's grants escaped
 * the revocation, with offline_access tokens that outlive any session (ended-sessions.ts).
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { openTestStore, startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import type { Store, WriteOp } from '../src/store/store.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'owner-password-1';

describe.each(STORE_KINDS)('a resume in flight when the hub ends the sign-in (%s)', (kind) => {
  let hub: RunningHub;
  let inner: Store;
  let rpAuth: string;
  /** The next store call (`get`, or a `write` batch with an op of this kind) on a key containing `key` waits for `release`. */
  let hold: { key: string; op: string; held?: () => void; release: Promise<void> } | undefined;

  /** The store, with the next call that `hold` names held up until the test releases it. */
  function holdingStore(store: Store): Store {
    const matches = (op: string, key: string) => hold !== undefined && hold.held === undefined && op === hold.op && key.includes(hold.key);
    return new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (typeof value !== 'function') return value;
        const method = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
        if (property !== 'get' && property !== 'write') return method;
        return async (...args: unknown[]) => {
          const hit = property === 'get' ? matches('get', String(args[0])) : (args[0] as WriteOp[]).some((op) => matches(op.op, op.key));
          if (hit && hold) {
            const { release } = hold;
            hold.held = () => {};
            await release;
          }
          return method(...args);
        };
      },
    });
  }

  beforeAll(async () => {
    inner = await openTestStore(kind);
    hub = await startTestHub(kind, {}, holdingStore(inner));
    await hub.services.users.create({ username: 'owner', email: 'owner@example.test', password: PASSWORD });
    const rp = await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
    rpAuth = basic('rp', rp.clientSecret!);
  });
  afterAll(async () => {
    await hub.close();
    await inner.close();
  });

  /**
   * The other browser (signed in with the owner's password) asks for offline access: the consent
   * page, its Allow, and the resume URL it leads to (not yet followed).
   */
  async function otherBrowserAtResume(): Promise<{ browser: TestBrowser; resume: string; verifier: string }> {
    const browser = new TestBrowser();
    await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), { login: 'owner', password: PASSWORD });
    const request = codeRequest('rp', REDIRECT, { scope: 'openid offline_access', prompt: 'consent' });
    const started = await browser.get(authUrl(hub.url, request.params));
    const page = await (await browser.get(new URL(started.headers.get('location')!, hub.url).toString())).text();
    const action = attribute(page, /action="(\/interaction\/[^"]+\/confirm)"/);
    const allowed = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(page, '_csrf') });
    return { browser, resume: new URL(allowed.headers.get('location')!, hub.url).toString(), verifier: request.verifier };
  }

  /** "Sign out everywhere else" in the owner's browser while the other browser's resume is held up at its first `op` on `key`. */
  async function endOthersDuringResume(key: string, op: string, admin = false) {
    const owner = await signInAtPortal(hub, 'owner', PASSWORD);
    const ownerUid = await sessionUids();
    const other = await otherBrowserAtResume();
    const byAdmin = admin ? { uid: (await sessionUids()).find((uid) => !ownerUid.includes(uid))! } : undefined;
    const form = await (await owner.get(`${hub.url}/account`)).text();
    // The ending ends sign-ins made before its second (sign-in times are in seconds).
    await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    let release!: () => void;
    hold = { key, op, release: new Promise<void>((resolve) => (release = resolve)) };
    const resumed = other.browser.get(other.resume);
    for (let waited = 0; hold.held === undefined; waited += 10) {
      if (waited > 5000) throw new Error('the resume never reached the store call held up');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (byAdmin) {
      // The admin ends the other browser's session by its uid (as listed before the resume began).
      const user = await hub.services.users.findByLogin('owner');
      await hub.services.lifecycle.endSession(user!.id, byAdmin.uid).catch((error: unknown) => expect((error as Error).name).toBe('NotFoundError'));
    } else {
      const ended = await owner.post(`${hub.url}/account/sessions/end-others`, { _csrf: inputValue(form, '_csrf') });
      await ended.arrayBuffer();
      expect(ended.headers.get('location')).toBe('/account?done=others');
    }
    hold = undefined;
    release();
    const answer = await resumed;
    await answer.arrayBuffer();
    return { owner, other, ended: byAdmin?.uid, callback: new URL(answer.headers.get('location')!, hub.url) };
  }

  async function sessionUids(): Promise<string[]> {
    const user = await hub.services.users.findByLogin('owner');
    return (await hub.services.lifecycle.sessionsOf(user!.id)).map(({ uid }) => uid);
  }

  /** The other browser is signed out (`endedUid`: only its session ended, by an admin; else every session but the owner's). */
  async function expectOnlyOwnerSignedIn(owner: TestBrowser, other: TestBrowser, endedUid?: string): Promise<void> {
    expect(await isSignedIn(other, hub.url)).toBe(false);
    const silent = await other.get(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
    expect(new URL(silent.headers.get('location')!, hub.url).searchParams.get('error')).toBe('login_required');
    expect(await isSignedIn(owner, hub.url)).toBe(true);
    if (endedUid) expect(await sessionUids()).not.toContain(endedUid);
    else expect(await sessionUids()).toHaveLength(1);
  }

  test('held up before reading its grant: no code that outlives the ending, and the other browser stays signed out', async () => {
    const { owner, other, callback } = await endOthersDuringResume(':oidc:Grant:', 'get');
    const code = callback.searchParams.get('code');
    if (code) {
      const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: other.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
      expect(tokens.status).toBe(400);
    } else expect(callback.searchParams.get('error')).toBe('login_required');
    await expectOnlyOwnerSignedIn(owner, other.browser);
  });

  test('held up while saving the session under its new id: the other browser stays signed out', async () => {
    const { owner, other } = await endOthersDuringResume(':oidc:Session:', 'setUnlessMarked');
    await expectOnlyOwnerSignedIn(owner, other.browser);
  });

  test.each([
    ['before reading its grant', ':oidc:Grant:', 'get'],
    ['while saving the session under its new id', ':oidc:Session:', 'setUnlessMarked'],
  ])('an admin ending that one session, the resume held up %s: it stays ended, and no code outlives it', async (_when, key, op) => {
    const { owner, other, ended, callback } = await endOthersDuringResume(key, op, true);
    const code = callback.searchParams.get('code');
    if (code) {
      const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: other.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
      expect(tokens.status).toBe(400);
    }
    await expectOnlyOwnerSignedIn(owner, other.browser, ended);
  });
});
