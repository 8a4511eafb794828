/**
 * Records anyone can make the hub store without signing in, from one address (an exhaustion
 * review, on a 64 MB Redis): every GET of a page that shows a form (forgotten password, sign-up,
 * a mailed link's page, a sign-in page) stored a new portal session for its CSRF token, an hour,
 * counted nowhere (one address filled the store in minutes); an anonymous GET /session/end's
 * session lived as long as a signed-in one (12 h).
 */
import { ANONYMOUS_SESSION_TTL } from '../src/oidc/session-ttl.js';
import { scanKeys } from '../src/store/redis-client.js';
import { RedisStore } from '../src/store/redis.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const LIMIT = 6; // SIGNIN_STARTS_PER_IP in this test
const REDIRECT = 'http://rp.test/cb';
const FORM_PAGES = ['/password/forgot', '/signup', '/signup/resend', '/signup/verify?token=x', '/password/reset?token=x', '/account/email/confirm?token=x', '/account/email/undo?token=x'];

describe.each(STORE_KINDS)('anonymous form pages count against the per-address limit of sign-in starts (%s)', (kind) => {
  let hub: RunningHub;
  let catcher: SmtpCatcher;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub(kind, { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true', SIGNIN_STARTS_PER_IP: String(LIMIT) });
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  async function portalSessions(): Promise<number | undefined> {
    if (!(hub.store instanceof RedisStore)) return undefined;
    let count = 0;
    for await (const batch of scanKeys(hub.store.client, `${hub.config.KEY_PREFIX}portal-sess:*`)) count += batch.length;
    return count;
  }

  const from = (address: string, cookie?: string) => ({ redirect: 'manual' as const, headers: { 'x-forwarded-for': address, accept: 'text/html', ...(cookie ? { cookie } : {}) } });

  test('a flood of cookie-less GETs of the form pages from one address stores at most the limit of portal sessions, then 429', async () => {
    const before = await portalSessions();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 3; i += 1) {
      const page = await fetch(`${hub.url}${FORM_PAGES[i % FORM_PAGES.length]}`, from('203.0.113.20'));
      statuses.push(page.status);
      await page.text();
    }
    expect(statuses.filter((status) => status !== 429)).toHaveLength(LIMIT);
    const refused = await fetch(`${hub.url}/password/forgot`, from('203.0.113.20'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).not.toContain('name="_csrf"');
    const after = await portalSessions();
    if (before !== undefined && after !== undefined) expect(after - before).toBeLessThanOrEqual(LIMIT);
    // Another address is not affected.
    expect((await fetch(`${hub.url}/password/forgot`, from('203.0.113.21'))).status).toBe(200);
  });

  test('HEAD is counted as GET: express answers it with the GET route, which stores the same portal session', async () => {
    const before = await portalSessions();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 3; i += 1) {
      const answer = await fetch(`${hub.url}${i % 2 ? '/login' : '/password/forgot'}`, { ...from('203.0.113.24'), method: 'HEAD' });
      statuses.push(answer.status);
    }
    expect(statuses.filter((status) => status !== 429)).toHaveLength(LIMIT);
    const after = await portalSessions();
    if (before !== undefined && after !== undefined) expect(after - before).toBeLessThanOrEqual(LIMIT);
  });

  test('a browser that has its portal session reloads a form page as often as it likes: nothing new is stored, nothing counted', async () => {
    const first = await fetch(`${hub.url}/password/forgot`, from('203.0.113.22'));
    expect(first.status).toBe(200);
    const cookie = first.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    expect(cookie).toContain('hub_portal=');
    for (let i = 0; i < LIMIT * 2; i += 1) {
      const again = await fetch(`${hub.url}${FORM_PAGES[i % FORM_PAGES.length]}`, from('203.0.113.22', cookie));
      expect(again.status).not.toBe(429);
      await again.text();
    }
  });

  test('a sign-in page fetched again and again without the portal cookie is counted too', async () => {
    const started = await fetch(authUrl(hub.url, codeRequest('rp', REDIRECT).params), from('203.0.113.23'));
    const page = new URL(started.headers.get('location')!, hub.url).href;
    const interactionCookies = started.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 2; i += 1) {
      const answer = await fetch(page, from('203.0.113.23', interactionCookies));
      statuses.push(answer.status);
      await answer.text();
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT - 1); // the /auth took one
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('an anonymous sign-out page\'s session', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test(`is kept ${ANONYMOUS_SESSION_TTL} s, not HUB_SESSION_TTL (12 h)`, async () => {
    const store = hub.store as RedisStore;
    const sessions = async () => {
      const found: string[] = [];
      for await (const batch of scanKeys(store.client, `${hub.config.KEY_PREFIX}oidc:Session:*`)) found.push(...batch);
      return found;
    };
    const before = new Set(await sessions());
    const page = await fetch(`${hub.url}/session/end`);
    expect(page.status).toBe(200);
    await page.text();
    const made = (await sessions()).filter((key) => !before.has(key));
    expect(made).toHaveLength(1);
    const ttl = await store.client.ttl(made[0]!);
    expect(ttl).toBeGreaterThan(ANONYMOUS_SESSION_TTL - 60);
    expect(ttl).toBeLessThanOrEqual(ANONYMOUS_SESSION_TTL + 10);
  });
});
