/**
 * The sync page's CSP comes from the beacons' templates while they are built (no beacon URL is
 * read back): it must be what the general computation over the finished beacons gives, for
 * image and script subsites, templated or not, and for the UCenter notes added by a source.
 */
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
