/**
 * Behind a proxy that appends to X-Forwarded-For (a cloud load balancer, ingress-nginx, nginx
 * with `$proxy_add_x_forwarded_for`), the header reaches the hub as `<what the client sent>,
 * <the client's real address>`. With HUB_TRUST_PROXY=true alone the hub trusts every entry and
 * takes the left-most, the client's own word: an attacker evaded every per-address limit by
 * sending a new address each time, and locked others out by sending theirs (an office's NAT
 * address: its people got 429 on the sign-in page). HUB_TRUST_PROXY_HOPS=N trusts only the N
 * proxies nearest the hub, so the address is the one the outermost of them saw: express's
 * `req.ip` (portal pages) and oidc-provider's `ctx.ip` (/auth, the password grant) alike.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const LIMIT = 3;
const ATTACKER = '203.0.113.5';
const OFFICE = '198.51.100.20';

/** A GET as it reaches the hub through one appending proxy: whatever the client sent, then its real address. */
function viaAppendingProxy(hub: RunningHub, path: string, realAddress: string, sent?: string) {
  const forwarded = sent === undefined ? realAddress : `${sent}, ${realAddress}`;
  return fetch(`${hub.url}${path}`, { headers: { 'x-forwarded-for': forwarded }, redirect: 'manual' });
}

describe('HUB_TRUST_PROXY_HOPS: the client address behind a proxy that appends to X-Forwarded-For', () => {
  test('needs HUB_TRUST_PROXY=true and a positive whole number, or start-up is refused naming it', () => {
    expect(() => loadConfig({ HUB_TRUST_PROXY_HOPS: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ HUB_TRUST_PROXY_HOPS: '1' })).toThrow(/HUB_TRUST_PROXY_HOPS: needs HUB_TRUST_PROXY=true/);
    expect(() => loadConfig({ HUB_TRUST_PROXY: 'true', HUB_TRUST_PROXY_HOPS: '0' })).toThrow(/HUB_TRUST_PROXY_HOPS/);
    expect(() => loadConfig({ HUB_TRUST_PROXY: 'true', HUB_TRUST_PROXY_HOPS: 'all' })).toThrow(/HUB_TRUST_PROXY_HOPS/);
    expect(loadConfig({ HUB_TRUST_PROXY: 'true', HUB_TRUST_PROXY_HOPS: '2' }).HUB_TRUST_PROXY_HOPS).toBe(2);
    expect(loadConfig({ HUB_TRUST_PROXY: 'true' }).HUB_TRUST_PROXY_HOPS).toBeUndefined();
  });

  describe.each([
    ['/login', 'a portal page (express)'],
    ['/auth?client_id=hub-portal&response_type=none&scope=openid', 'the authorization endpoint (oidc-provider)'],
  ])('%s, %s, with HUB_TRUST_PROXY_HOPS=1', (path) => {
    let hub: RunningHub;
    beforeEach(async () => {
      hub = await startTestHub('memory', { HUB_TRUST_PROXY: 'true', HUB_TRUST_PROXY_HOPS: '1', SIGNIN_STARTS_PER_IP: String(LIMIT) });
    });
    afterEach(() => hub.close());

    test('a client that sends a new X-Forwarded-For each time is still counted by its real address', async () => {
      for (let i = 0; i < LIMIT; i += 1) {
        const page = await viaAppendingProxy(hub, path, ATTACKER, `192.0.2.${i + 1}`);
        expect(page.status).not.toBe(429);
        await page.arrayBuffer();
      }
      const refused = await viaAppendingProxy(hub, path, ATTACKER, '192.0.2.200');
      expect(refused.status).toBe(429);
    });

    test('a client that sends someone else\'s address uses up its own allowance, not theirs', async () => {
      for (let i = 0; i < LIMIT + 2; i += 1) await (await viaAppendingProxy(hub, path, ATTACKER, OFFICE)).arrayBuffer();
      const officeUser = await viaAppendingProxy(hub, path, OFFICE);
      expect(officeUser.status).not.toBe(429);
    });
  });

  test('with an https:// issuer, the trusted hop\'s X-Forwarded-Proto still makes the requests https: the portal\'s Secure cookie is set', async () => {
    const hub = await startTestHub('memory', { HUB_ISSUER: 'https://id.example.test', HUB_TRUST_PROXY: 'true', HUB_TRUST_PROXY_HOPS: '1' });
    try {
      const page = await fetch(`${hub.url}/login`, { headers: { 'x-forwarded-for': `192.0.2.1, ${ATTACKER}`, 'x-forwarded-proto': 'https' }, redirect: 'manual' });
      expect(page.status).toBe(303);
      expect(page.headers.getSetCookie().join('\n')).toMatch(/^__Host-hub_portal=.*; Secure/m);
    } finally {
      await hub.close();
    }
  });
});
