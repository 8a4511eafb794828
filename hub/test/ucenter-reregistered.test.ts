/**
 * A UCenter application removed and another registered under its app id (UC_APPID 7 reused for
 * another site) inherits nothing of the removed one: not its pending notes (a deleteuser queued
 * for the old forum deletes a member and every post of theirs at the new one), not a sign-in proof
 * the old one earned (user/synlogin would sign a member in everywhere on the new one's word).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { authcodeDecode } from '../src/ucenter/authcode.js';

const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };
const BOB = { username: 'bob', email: 'bob@example.com', password: 'builder-12345' };

/** A note handler (api/uc.php) that records the notes it can decode with `key` and answers 1. */
class NoteHandler {
  key = '';
  readonly notes: Record<string, string>[] = [];
  readonly server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const plain = authcodeDecode(url.searchParams.get('code') ?? '', this.key);
    if (plain) this.notes.push(Object.fromEntries(new URLSearchParams(plain)));
    res.end(plain ? '1' : '0');
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe.each(STORE_KINDS)('an app id reused after its application was removed, on %s', (kind) => {
  let hub: RunningHub;
  const newForum = new NoteHandler();
  let newBase: string;

  beforeAll(async () => {
    newBase = await newForum.listen();
  });
  afterAll(() => newForum.close());
  beforeEach(async () => {
    newForum.notes.length = 0;
    hub = await startTestHub(kind, { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
  });
  afterEach(() => hub.close());

  it("the removed application's pending notes are not sent to the new one: they fail, saying why", async () => {
    const { apps } = hub.services.ucenter;
    // The old forum is down (nothing listens): its notes wait in the queue.
    await apps.register({ appId: 7, name: 'Old forum', type: 'DISCUZX', url: 'http://old.sso.test:5004', internalUrl: 'http://127.0.0.1:9', updatepw: true });
    const alice = await hub.services.users.create(ALICE);
    const bob = await hub.services.users.create(BOB);
    await hub.services.lifecycle.delete(alice.id); // deleteuser at every application
    await hub.services.lifecycle.disable(bob.id); // updatepw at those that take them
    const oldNotes = (await hub.services.deliveries.list('pending')).filter((item) => item.clientId === 'ucenter:7');
    expect(oldNotes.map((item) => item.kind).sort()).toEqual(['ucenter-deleteuser', 'ucenter-updateapps', 'ucenter-updatepw']);

    await apps.remove(7);
    const renewed = await apps.register({ appId: 7, name: 'New forum', type: 'DISCUZX', url: 'http://new.sso.test:5006', internalUrl: newBase, updatepw: true });
    newForum.key = renewed.key;
    for (let round = 0; round < 3; round += 1) await hub.deliveryWorker.runOnce();

    // Only what was queued for the new registration (the application list it caches).
    expect(newForum.notes.map((note) => note.action)).toEqual(['updateapps']);
    const failed = await hub.services.deliveries.list('failed');
    for (const item of oldNotes) {
      expect(failed).toContainEqual(expect.objectContaining({ id: item.id, status: 'failed', lastError: expect.stringMatching(/removed|gone/) }));
    }
    // An admin's "Retry now" of one of them does not send it either.
    const deleteuser = oldNotes.find((item) => item.kind === 'ucenter-deleteuser')!;
    expect(await hub.services.deliveries.retryNow(deleteuser.id)).toBe(true);
    await hub.deliveryWorker.runOnce();
    expect(newForum.notes.map((note) => note.action)).toEqual(['updateapps']);
    expect(await hub.services.deliveries.get(deleteuser.id)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/removed/) });
  });

  it("a note an older hub queued (no generation) before the new registration is not sent to it either", async () => {
    const { apps } = hub.services.ucenter;
    await apps.register({ appId: 7, name: 'Old forum', type: 'DISCUZX', url: 'http://old.sso.test:5004', internalUrl: 'http://127.0.0.1:9' });
    const legacy = await hub.services.deliveries.enqueue({ kind: 'ucenter-deleteuser', clientId: 'ucenter:7', sub: 'gone-user', reason: 'deleted', ucenterUid: 4242, url: 'http://127.0.0.1:9/api/uc.php' });
    expect(legacy.clientGeneration).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000))); // the next second: registrations are dated in seconds
    await apps.remove(7);
    const renewed = await apps.register({ appId: 7, name: 'New forum', type: 'DISCUZX', url: 'http://new.sso.test:5006', internalUrl: newBase });
    newForum.key = renewed.key;
    for (let round = 0; round < 3; round += 1) await hub.deliveryWorker.runOnce();
    expect(newForum.notes.map((note) => note.action)).toEqual(['updateapps']);
    expect(await hub.services.deliveries.get(legacy.id)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/removed/) });
  });

  it("a sign-in proof the removed application earned is no proof for the new one (user/synlogin)", async () => {
    const { apps } = hub.services.ucenter;
    const old = await apps.register({ appId: 7, name: 'Old forum', type: 'DISCUZX', url: 'http://old.sso.test:5004' });
    await apps.register({ name: 'Wiki', type: 'OTHER', url: 'http://wiki.sso.test:5002' });
    const alice = await hub.services.users.create(ALICE);
    const oldClient = new UcClient({ api: `${hub.url}/ucenter`, key: old.key, appId: 7 });
    expect((await oldClient.userLogin('alice', ALICE.password))[0]).toBe(String(alice.uid));
    await apps.remove(7);
    const renewed = await apps.register({ appId: 7, name: 'New forum', type: 'DISCUZX', url: 'http://new.sso.test:5006' });
    const newClient = new UcClient({ api: `${hub.url}/ucenter`, key: renewed.key, appId: 7 });
    // Before: the old forum's proof let the new one sign alice in at the wiki without her password.
    expect(await newClient.synlogin(alice.uid!)).toBe('');
  });
});

describe('removing an application drops its pending notes at once', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    // An hour's backoff: a note that failed once waits at least half an hour before its next attempt.
    hub = await startTestHub('memory', { DELIVERY_BACKOFF_BASE_MS: '3600000', DELIVERY_BACKOFF_MAX_MS: '3600000' });
  });
  afterAll(() => hub.close());

  it('a note waiting out its backoff fails on the next round, the application named gone', async () => {
    const { apps } = hub.services.ucenter;
    await apps.register({ appId: 9, name: 'Down forum', type: 'DISCUZX', url: 'http://down.sso.test:5004', internalUrl: 'http://127.0.0.1:9' });
    const alice = await hub.services.users.create(ALICE);
    await hub.services.lifecycle.delete(alice.id);
    await hub.deliveryWorker.runOnce(); // refused: rescheduled half an hour or more ahead
    const waiting = (await hub.services.deliveries.list('pending')).filter((item) => item.clientId === 'ucenter:9');
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((item) => item.nextAttemptAt > Date.now() + 600_000)).toBe(true);
    await apps.remove(9);
    await hub.deliveryWorker.runOnce();
    expect((await hub.services.deliveries.list('pending')).filter((item) => item.clientId === 'ucenter:9')).toEqual([]);
    for (const item of waiting) expect(await hub.services.deliveries.get(item.id)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/gone/) });
  });
});
