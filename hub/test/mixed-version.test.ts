import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientRegistry, syncSigningKey } from '../src/clients/client-registry.js';
import type { DeliveryItem } from '../src/delivery/delivery.js';
import { TestBrowser } from '../src/testing/browser.js';
import { LEGACY_DELETEUSER_GRACE_MS, UcenterNotes } from '../src/ucenter/app-notes.js';
import { continueUrlOf, signInAt } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'wonderland-123';

/**
 * A rolling update (or a rollback) runs two versions of the hub on one Redis: a record one
 * writes, the other reads. These cases write what the previous version wrote (reproduced with
 * the previous commit's hub and this one behind one balancer) and check this version reads it.
 */
describe('records written by the previous version of the hub (redis)', () => {
  let hub: RunningHub;
  let n = 0;

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /**
   * The previous version's sign-in left `{ login }` on its interaction, without the password
   * check's sign-in generation. For a user whose sign-ins this version had once ended (so with a
   * generation), the resume here compared '' with it and sent the browser back to the sign-in
   * page: behind a round-robin balancer, every other sign-in of such a user during the update.
   */
  test('a sign-in whose password an older hub checked resumes here, for a user whose sign-ins were ended before', async () => {
    n += 1;
    const user = await hub.services.users.create({ username: `mixed${n}`, email: `mixed${n}@example.test`, password: PASSWORD });
    // Earlier, on this version: "end all sessions" (or a password reset) gave the user a generation.
    await hub.services.lifecycle.endAllSessions(user.id);
    expect((await hub.services.users.findById(user.id))?.signInGeneration).toBeTruthy();
    const browser = new TestBrowser();
    const start = await browser.follow(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const { response, body } = await signInAt(browser, hub.url, start.url, user.username, PASSWORD);
    expect(response.status).toBe(200);
    const continueUrl = continueUrlOf(body, hub.url);
    // The result as the older hub stored it: the same, without signInGeneration.
    const uid = decodeURIComponent(new URL(continueUrl).pathname.split('/').pop()!);
    const interaction = (await hub.services.provider.Interaction.find(uid))!;
    const { signInGeneration: _dropped, ...asOlderHubWroteIt } = interaction.result as Record<string, unknown>;
    interaction.result = asOlderHubWroteIt;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));

    const landed = await browser.follow(continueUrl);
    expect(new URL(landed.url).origin).toBe(new URL(REDIRECT).origin);
    expect(new URL(landed.url).searchParams.get('code')).toBeTruthy();
  });

  test('a generation recorded by this version is still checked (an ending after the password refuses the resume)', async () => {
    n += 1;
    const user = await hub.services.users.create({ username: `mixed${n}`, email: `mixed${n}@example.test`, password: PASSWORD });
    const browser = new TestBrowser();
    const start = await browser.follow(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const { body } = await signInAt(browser, hub.url, start.url, user.username, PASSWORD);
    await hub.services.lifecycle.endAllSessions(user.id);
    const landed = await browser.follow(continueUrlOf(body, hub.url));
    expect(landed.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
  });
});

/**
 * Hubs before a6464bf queued a UCenter deleteuser at every disable (Discuz! deletes the member
 * and every post on it). Such a note left pending (the forum down during the update) was sent by
 * this version, which sends deleteuser for deleted users only: reproduced with 807e9d2's CLI
 * (`users disable`) and this hub delivering once the forum was back.
 */
describe('a UCenter deleteuser an older hub queued (redis)', () => {
  let hub: RunningHub;
  const received: string[] = [];
  const forum = createServer((req, res) => {
    received.push(req.url ?? '');
    res.end('1');
  });
  let notes: UcenterNotes;
  let url: string;

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await new Promise<void>((resolve) => forum.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(forum.address() as AddressInfo).port}`;
    const app = await hub.services.ucenterApps.register({ appId: 1, name: 'Forum', url });
    // As the older hub registered it (before its notes were queued): no generation, an earlier date.
    const { generation: _generation, ...older } = app;
    await hub.services.store.set(hub.services.keys.ucenterApp(1), JSON.stringify({ ...older, createdAt: older.createdAt - 86_400 }));
    notes = new UcenterNotes(hub.services.ucenterApps, hub.services.users, hub.services.deliveries, { url: hub.url, name: 'sso-hub' }, hub.services.store, hub.services.keys);
  });
  afterAll(async () => {
    forum.closeAllConnections();
    await new Promise((resolve) => forum.close(resolve));
    await hub.close();
  });
  beforeEach(() => {
    received.length = 0;
  });

  /** The item as 807e9d2 stored it: no `reason`. */
  function olderHubsItem(sub: string, ageMs: number): DeliveryItem {
    const now = Date.now();
    return { id: `older-${sub}`, kind: 'ucenter-deleteuser', clientId: 'ucenter:1', sub, ucenterUid: 42, url: `${url}/api/uc.php`, status: 'pending', attempts: 3, createdAt: now - ageMs, nextAttemptAt: now };
  }

  test('queued at a disable (the user is still there): not sent, failed with the reason', async () => {
    const user = await hub.services.users.create({ username: 'stays', email: 'stays@example.test', password: PASSWORD });
    await hub.services.users.update(user.id, { disabled: true });
    const outcome = await notes.attempt(olderHubsItem(user.id, LEGACY_DELETEUSER_GRACE_MS + 1_000), `${url}/api/uc.php`, 2_000);
    expect(outcome).toMatchObject({ unsendable: true, error: expect.stringMatching(/older hub/) });
    expect(received).toEqual([]);
  });

  test('queued a moment ago with its user still there (a deletion in progress): retried, not sent, not failed', async () => {
    const user = await hub.services.users.create({ username: 'going', email: 'going@example.test', password: PASSWORD });
    const outcome = await notes.attempt(olderHubsItem(user.id, 0), `${url}/api/uc.php`, 2_000);
    expect(outcome.unsendable).toBeFalsy();
    expect(outcome.error).toMatch(/still exists/);
    expect(received).toEqual([]);
  });

  test('queued for a deletion (the user is gone): sent', async () => {
    const outcome = await notes.attempt(olderHubsItem('a-deleted-user', LEGACY_DELETEUSER_GRACE_MS + 1_000), `${url}/api/uc.php`, 2_000);
    expect(outcome).toMatchObject({ status: 200 });
    expect(received).toHaveLength(1);
  });

  test("this version's deleteuser says why, and is sent even before the user's record has gone", async () => {
    const user = await hub.services.users.create({ username: 'deleted', email: 'deleted@example.test', password: PASSWORD });
    await notes.enqueueDeleteuser(user.id);
    const queued = (await hub.services.deliveries.list('pending')).find((item) => item.sub === user.id)!;
    expect(queued.reason).toBe('deleted');
    expect(await notes.attempt(queued, queued.url, 2_000)).toMatchObject({ status: 200 });
  });
});

/**
 * A client this version's start-up seed made (its sync key marked unshown), then, after a
 * rollback, a sync key rotation on the older hub: it copied the sync settings whole, so the key
 * it had just shown (and the subsite now holds) kept the mark. Back on this version, the next
 * rotation after the overlap replaced that key at once, with no overlap: every sync failed at
 * the subsite until it was configured again.
 */
describe("a sync key an older hub's rotation showed (redis)", () => {
  let hub: RunningHub;
  const DAY = 86_400;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test('is no longer taken as unshown: the next rotation keeps it as the previous key', async () => {
    const { store, keys } = hub.services;
    const registry = new ClientRegistry(store, keys);
    const seeded = await registry.register({ clientId: 'seeded', redirectUris: ['https://app.example/cb'], syncLoginUrl: 'https://app.example/sso/synclogin', syncLogoutUrl: 'https://app.example/sso/synclogout' }, { keyShown: false });
    expect(seeded.sync!.keyUnshown).toBe(true);
    // What 807e9d2's rotateSyncKey wrote two days ago: { ...sync, previousKey, key, rotatedAt }.
    const shownKey = 'S'.repeat(43);
    const rotatedByOlderHub = { ...seeded, sync: { ...seeded.sync!, previousKey: seeded.sync!.key, key: shownKey, rotatedAt: Math.floor(Date.now() / 1000) - 2 * DAY } };
    await store.set(keys.client('seeded'), JSON.stringify(rotatedByOlderHub));

    const fresh = new ClientRegistry(store, keys);
    const rotated = (await fresh.rotateSyncKey('seeded', DAY)).sync!;
    expect(rotated.previousKey).toBe(shownKey);
    expect(syncSigningKey(rotated, DAY)).toBe(shownKey);
  });
});
