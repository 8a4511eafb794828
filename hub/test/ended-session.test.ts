/**
 * A hub session ended while another request of the same browser is saving it stays ended.
 * oidc-provider writes a session it loaded back at the end of a request that changed it (a
 * silent check of one more subsite adds that subsite to the session). A sign-out, or "sign out
 * everywhere", that ended the session in between must not be undone by that write: the
 * record, its uid copy and the user's session index would all come back, and with them the
 * sign-in (oidc/ended-sessions.ts).
 */
import { TestBrowser } from '../src/testing/browser.js';
import { authorize } from '../src/testing/flows.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { openTestStore, startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import type { Store } from '../src/store/store.js';
import { authUrl, codeRequest, signOut } from './support.js';

const FIRST = 'http://first.test/cb';
const SECOND = 'http://second.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };

describe.each(STORE_KINDS)('a hub session ended while a request is saving it (%s)', (kind) => {
  let hub: RunningHub;
  let inner: Store;
  let slowSessionWrites = false;

  beforeAll(async () => {
    inner = await openTestStore(kind);
    const faulty = faultyStore(inner);
    // While set, writes of Session records are slow (as on a loaded Redis), then land.
    faulty.plan((method, key) => (slowSessionWrites && (method === 'set' || method === 'setUnlessMarked') && key.includes(':oidc:Session:') ? { delayMs: 400 } : 'ok'));
    hub = await startTestHub(kind, {}, faulty.store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'first', name: 'First', redirectUris: [FIRST], trusted: true });
    await hub.services.clients.register({ clientId: 'second', name: 'Second', redirectUris: [SECOND], trusted: true });
  });
  afterAll(async () => {
    await hub.close();
    await inner.close();
  });

  /** Signs alice in (for 'first'), then starts a silent check for 'second' whose session save is slow. */
  async function signedInWithSlowSilentCheck(): Promise<{ browser: TestBrowser; silent: Promise<Response> }> {
    const browser = new TestBrowser();
    const first = await authorize(browser, hub.url, authUrl(hub.url, codeRequest('first', FIRST).params), ALICE);
    expect(first.searchParams.get('code')).toBeTruthy();
    slowSessionWrites = true;
    const silent = browser.get(authUrl(hub.url, codeRequest('second', SECOND, { prompt: 'none' }).params));
    await new Promise((resolve) => setTimeout(resolve, 150)); // the silent check is saving now
    slowSessionWrites = false;
    return { browser, silent };
  }

  async function expectSignedOut(browser: TestBrowser): Promise<void> {
    const again = await browser.get(authUrl(hub.url, codeRequest('first', FIRST, { prompt: 'none' }).params));
    const location = new URL(again.headers.get('location')!, hub.url);
    expect(location.searchParams.get('error')).toBe('login_required');
    const alice = await hub.services.users.findByLogin('alice');
    expect(await hub.services.sessions.list(alice!.id)).toEqual([]);
  }

  test('a silent check in flight when the user signs out does not sign them back in', async () => {
    const { browser, silent } = await signedInWithSlowSilentCheck();
    expect((await signOut(browser, hub.url)).status).toBe(200);
    await (await silent).text();
    await expectSignedOut(browser);
  });

  test('nor does one in flight when every session of the user is ended', async () => {
    const { browser, silent } = await signedInWithSlowSilentCheck();
    const alice = await hub.services.users.findByLogin('alice');
    expect(await hub.services.sessions.endAll(alice!.id)).toBe(1);
    await (await silent).text();
    await expectSignedOut(browser);
  });

  test('signing in again after a sign-out works (a new session id is never marked)', async () => {
    const browser = new TestBrowser();
    await authorize(browser, hub.url, authUrl(hub.url, codeRequest('first', FIRST).params), ALICE);
    await signOut(browser, hub.url);
    const back = await authorize(browser, hub.url, authUrl(hub.url, codeRequest('first', FIRST).params), ALICE);
    expect(back.searchParams.get('code')).toBeTruthy();
    const silent = await browser.get(authUrl(hub.url, codeRequest('second', SECOND, { prompt: 'none' }).params));
    expect(new URL(silent.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});
