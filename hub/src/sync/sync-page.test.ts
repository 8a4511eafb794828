/**
 * The sync page's CSP comes from the beacons' templates while they are built (no beacon URL is
 * read back): it must be what the general computation over the finished beacons gives, for
 * image and script subsites, templated or not, and for the UCenter notes added by a source.
 */
import { jwtVerify } from 'jose';
import type { ClientRegistry } from '../clients/client-registry.js';
import type { SubsiteClient } from '../clients/client.js';
import type { ConsentIndex } from '../oidc/consents.js';
import { SyncPlanner, syncPageCsp } from './sync-page.js';

function subsite(clientId: string, loginUrl: string, transport: 'img' | 'script'): SubsiteClient {
  return {
    clientId,
    trusted: true,
    sync: { loginUrl, logoutUrl: loginUrl.replace('synclogin', 'synclogout'), transport, key: `key-of-${clientId}-0123456789abcdef0123456789` },
  } as SubsiteClient;
}

const SUBSITES = [
  subsite('forum', 'https://forum.example.test/sso/synclogin', 'img'),
  subsite('wiki', 'http://wiki.example.test:8080/sso/synclogin', 'img'),
  subsite('legacy', 'https://legacy.example.test/sso/synclogin.php', 'script'),
  // `code` before `time` in the registered URL: no template, the beacon is built the general way.
  subsite('odd', 'https://odd.example.test/sso/synclogin?code=x&time=y', 'img'),
  subsite('old-script', 'https://old.example.test/sync?code=x&time=y', 'script'),
];

function planner(): SyncPlanner {
  const clients = { syncTargets: async () => SUBSITES } as unknown as ClientRegistry;
  const consents = { clientsOf: async () => [] } as unknown as ConsentIndex;
  const sync = new SyncPlanner(clients, consents, 'https://hub.example.test', 60);
  sync.addSource(async (act) => [{ clientId: 'uc:1', url: `https://bbs.example.test/api/uc.php?code=${act}`, transport: 'script', ucenter: true }]);
  return sync;
}

describe('the sync page CSP', () => {
  test.each(['login', 'logout'] as const)('at %s it is the CSP of the finished beacons, scripts by origin and images by scheme', async (act) => {
    const sync = planner();
    const plan = act === 'login'
      ? await sync.forSignIn('account-1')
      : await sync.forSignOut('account-1', Object.fromEntries(SUBSITES.map((client) => [client.clientId, { sid: 'sid-1' }])));
    expect(plan.beacons).toHaveLength(SUBSITES.length + 1); // and the UCenter note
    expect(plan.csp).toBe(syncPageCsp(plan.beacons));
    expect(plan.csp).toContain("img-src 'self' http: https:;");
    expect(plan.csp).toContain("script-src 'self' https://legacy.example.test https://old.example.test https://bbs.example.test;");
  });

  test.each(['login', 'logout'] as const)('at %s each beacon\'s URL is the one its tag points to, templated or not', async (act) => {
    const sync = planner();
    const plan = act === 'login'
      ? await sync.forSignIn('account-1')
      : await sync.forSignOut('account-1', Object.fromEntries(SUBSITES.map((client) => [client.clientId, { sid: 'sid-1' }])));
    expect(plan.tags).toHaveLength(plan.beacons.length);
    plan.beacons.forEach((beacon, i) => {
      const src = /src="([^"]+)"/.exec(plan.tags[i]!)![1]!.replaceAll('&amp;', '&');
      expect(beacon.url).toBe(src);
      expect(new URL(beacon.url).searchParams.get('code')).toMatch(beacon.ucenter ? /./ : /^[\w-]+\.[\w-]+\.[\w-]+$/);
    });
  });
});

describe('the sync codes of a page', () => {
  const codeOf = (tag: string) => new URL(/src="([^"]+)"/.exec(tag)![1]!.replaceAll('&amp;', '&')).searchParams.get('code')!;
  const verifies = async (code: string, key: string, audience: string) => (await jwtVerify(code, new TextEncoder().encode(key), { audience, issuer: 'https://hub.example.test' })).payload;

  test('each is signed with its subsite\'s key, the previous one during a rotation\'s overlap, and names that subsite (keys kept per record)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const rotating = { clientId: 'rotating', trusted: true, sync: { loginUrl: 'https://r.example.test/sso/synclogin', logoutUrl: 'https://r.example.test/sso/synclogout', transport: 'img', key: 'new-key-0123456789abcdef0123456789', previousKey: 'old-key-0123456789abcdef0123456789', rotatedAt: now } } as SubsiteClient;
    // Two records sharing one settings object (as a test double might): each code still names its own subsite.
    const shared = { ...SUBSITES[0]!, clientId: 'forum-twin' } as SubsiteClient;
    let targets: SubsiteClient[] = [SUBSITES[0]!, shared, rotating];
    const clients = { syncTargets: async () => targets } as unknown as ClientRegistry;
    const sync = new SyncPlanner(clients, { clientsOf: async () => [] } as unknown as ConsentIndex, 'https://hub.example.test', 60, 3600);
    for (let round = 0; round < 2; round += 1) {
      const plan = await sync.forSignIn('account-1');
      await verifies(codeOf(plan.tags[0]!), SUBSITES[0]!.sync!.key, 'forum');
      await verifies(codeOf(plan.tags[1]!), SUBSITES[0]!.sync!.key, 'forum-twin');
      await verifies(codeOf(plan.tags[2]!), 'old-key-0123456789abcdef0123456789', 'rotating');
    }
    // The overlap over (the registry's record replaced): the new key signs.
    targets = [{ ...rotating, sync: { ...rotating.sync!, rotatedAt: now - 7200 } }];
    await verifies(codeOf((await sync.forSignIn('account-1')).tags[0]!), 'new-key-0123456789abcdef0123456789', 'rotating');
    await expect(verifies(codeOf((await sync.forSignIn('account-1')).tags[0]!), 'old-key-0123456789abcdef0123456789', 'rotating')).rejects.toThrow();
  });

  test("dated by the store's clock, not this process's: a hub host 90 s ahead still signs codes a subsite accepts (the kit refuses iat beyond 30 s ahead)", async () => {
    // This process runs 90 s ahead of Redis: the StoreClock reads Date.now() minus 90 s. A soak run:
    // the kit refused every sign-in and sign-out code of such a hub ("issued in the future"), and
    // users signed out at the hub stayed signed in at the subsite.
    const storeClock = { now: () => Date.now() - 90_000 };
    const clients = { syncTargets: async () => [SUBSITES[0]!] } as unknown as ClientRegistry;
    const sync = new SyncPlanner(clients, { clientsOf: async () => [] } as unknown as ConsentIndex, 'https://hub.example.test', 60, 0, storeClock);
    for (const plan of [await sync.forSignIn('account-1'), await sync.forSignOut('account-1', { forum: { sid: 's-1' } })]) {
      const claims = await verifies(codeOf(plan.tags[0]!), SUBSITES[0]!.sync!.key, 'forum').catch(() => undefined);
      // jose (no clock tolerance) refuses exp in the past: the code must be valid on the store's time.
      const { payload } = await jwtVerify(codeOf(plan.tags[0]!), new TextEncoder().encode(SUBSITES[0]!.sync!.key), { audience: 'forum', currentDate: new Date(storeClock.now()) });
      expect(Math.abs(payload.iat! - Math.floor(storeClock.now() / 1000))).toBeLessThanOrEqual(1);
      expect(payload.exp! - payload.iat!).toBe(60);
      // On this process's clock (90 s ahead) the code has expired: it was not dated by it.
      expect(claims).toBeUndefined();
    }
  });
});
