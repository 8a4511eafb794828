/**
 * The account page's list of other sessions names each one's browser ("Safari 17 on iOS"), as
 * recorded at its sign-in, and when it was last used (a browser review: the list showed only
 * "Signed in <time>", so a person could not tell their phone from a stranger's laptop). The
 * User-Agent is attacker-controlled: only a family from a fixed list and a major version are
 * kept, never the header, never the address. Real Redis.
 */
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import type { RedisStore } from '../src/store/redis.js';
import { authUrl, codeRequest, walk } from './support.js';

const PASSWORD = 'looking-glass-42';
const REDIRECT = 'http://rp.test/cb';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)> ${'A'.repeat(6000)}`;

/** The rows of the other-sessions list: each row's HTML and its session uid. */
function rowsOf(html: string): { row: string; uid: string }[] {
  const list = /data-testid="other-sessions">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<li[\s\S]*?<\/li>/g)].map(([row]) => ({ row, uid: /name="session" value="([^"]+)"/.exec(row)![1]! }));
}

describe('Account page: the browser and last use of each session (redis)', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.clients.register({ clientId: 'rp', name: 'Relying Party', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code'] });
  });
  afterAll(() => hub.close());

  async function newUser(): Promise<string> {
    const username = `dev-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Devices', password: PASSWORD });
    return username;
  }

  test('each session names the browser it signed in from, in both languages; this browser too', async () => {
    const username = await newUser();
    const a = await signInAtPortal(hub, username, PASSWORD, new TestBrowser(FIREFOX_LINUX));
    await signInAtPortal(hub, username, PASSWORD, new TestBrowser(SAFARI_IPHONE));

    const html = await (await a.get(`${hub.url}/account`)).text();
    expect(html).toContain('data-testid="this-device">This browser: Firefox 128 on Linux<');
    const rows = rowsOf(html);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).toContain('<strong data-testid="session-device">Safari 17 on iOS</strong> · Signed in ');

    const zh = await (await a.get(`${hub.url}/account`, { 'accept-language': 'zh-CN' })).text();
    expect(zh).toContain('当前浏览器：Linux 上的 Firefox 128');
    expect(rowsOf(zh)[0]!.row).toContain('iOS 上的 Safari 17');
  });

  test('a hostile or missing User-Agent: "Unknown browser", nothing of the header stored or shown', async () => {
    const username = await newUser();
    const a = await signInAtPortal(hub, username, PASSWORD, new TestBrowser(FIREFOX_LINUX));
    await signInAtPortal(hub, username, PASSWORD, new TestBrowser(HOSTILE));
    await signInAtPortal(hub, username, PASSWORD, new TestBrowser(''));

    const html = await (await a.get(`${hub.url}/account`)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('onerror');
    const rows = rowsOf(html);
    expect(rows).toHaveLength(2);
    for (const { row, uid } of rows) {
      expect(row).toContain('<strong data-testid="session-device">Unknown browser</strong>');
      // What the store holds is the description alone: a few bytes, no markup, no address.
      const stored = await hub.services.store.get(hub.services.keys.oidcSessionDevice(uid));
      expect(stored).toBe('{}');
    }
  });

  test('the description lives as long as its session: pushed out whenever the session is used', async () => {
    const username = await newUser();
    const a = await signInAtPortal(hub, username, PASSWORD, new TestBrowser(FIREFOX_LINUX));
    const b = await signInAtPortal(hub, username, PASSWORD, new TestBrowser(SAFARI_IPHONE));
    const { uid } = rowsOf(await (await a.get(`${hub.url}/account`)).text())[0]!;
    const key = hub.services.keys.oidcSessionDevice(uid);
    const client = (hub.services.store as RedisStore).client;
    expect(await client.ttl(key)).toBeGreaterThan(hub.config.HUB_SESSION_TTL - 60);
    await client.expire(key, 30);
    // B signs in to a site (its hub session is used and saved again): the description follows.
    const request = codeRequest('rp', REDIRECT, { scope: 'openid' });
    await walk(b, hub.url, authUrl(hub.url, request.params));
    expect(await client.ttl(key)).toBeGreaterThan(hub.config.HUB_SESSION_TTL - 60);
    expect(rowsOf(await (await a.get(`${hub.url}/account`)).text())[0]!.row).toContain('Safari 17 on iOS');
  });

  test('a session used after its sign-in says when it was last used', async () => {
    const username = await newUser();
    const user = (await hub.services.users.findByUsername(username))!;
    const a = await signInAtPortal(hub, username, PASSWORD, new TestBrowser(FIREFOX_LINUX));
    await signInAtPortal(hub, username, PASSWORD, new TestBrowser(SAFARI_IPHONE));
    let html = await (await a.get(`${hub.url}/account`)).text();
    // Just signed in: the sign-in is its last use, said once.
    expect(rowsOf(html)[0]!.row).not.toContain('session-last-seen');

    // Its sign-in two hours ago (its record rewritten so), its last use now.
    const sessions = await hub.services.sessions.list(user.id);
    const other = sessions.find(({ payload }) => payload.uid === rowsOf(html)[0]!.uid)!;
    const twoHoursAgo = Math.floor(Date.now() / 1000) - 7200;
    await hub.services.store.set(other.key, JSON.stringify({ ...other.payload, loginTs: twoHoursAgo }), { ttlSeconds: hub.config.HUB_SESSION_TTL });
    html = await (await a.get(`${hub.url}/account`)).text();
    const row = rowsOf(html)[0]!.row;
    expect(row).toMatch(/Signed in [^·]+ · <span data-testid="session-last-seen">last used [^<]+<\/span>/);
    expect(inputValue(html, '_csrf')).not.toBe('');
  });
});
