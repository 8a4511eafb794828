/**
 * What the running hub owns (issue 9, operators 1 and 4): its own portal client and the
 * secrets it shares through the store. The admin CLI never writes them; a running hub
 * puts them back when another process changed them or the store lost them.
 */
import { runCli } from '../src/cli.js';
import { PORTAL_CLIENT_ID } from '../src/portal/portal-routes.js';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { RedisStore } from '../src/store/redis.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { deleteByPrefix, scanKeys } from '../src/store/redis-client.js';
import { SecretBox } from '../src/two-step/secret-box.js';

const CHECK_MS_NUMBER = 200; // how often the test hub re-checks what it owns, in ms
const CHECK_MS = String(CHECK_MS_NUMBER);

/** The hub's /login walked to the sign-in page: 200 with the form, or the error it ended on. */
async function openSignIn(hub: RunningHub): Promise<{ status: number; body: string }> {
  const browser = new TestBrowser();
  const landed = await browser.follow(`${hub.url}/login`, [new URL(hub.url).host]);
  return { status: landed.response.status, body: landed.body };
}

async function storedPortalClient(hub: RunningHub): Promise<{ redirectUris: string[] } | undefined> {
  const raw = await hub.store.get(hub.services.keys.client(PORTAL_CLIENT_ID));
  return raw ? (JSON.parse(raw) as { redirectUris: string[] }) : undefined;
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe('the hub owns its portal client (Redis)', () => {
  let hub: RunningHub;

  beforeEach(async () => {
    hub = await startTestHub('redis', { HUB_STORE_CHECK_MS: CHECK_MS });
  });
  afterEach(async () => {
    await hub.close();
  });

  test('the admin CLI run with only REDIS_URL and KEY_PREFIX (another issuer) leaves the hub sign-in working', async () => {
    expect((await openSignIn(hub)).status).toBe(200);
    const lines: string[] = [];
    const code = await runCli(['users', 'list'], { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX }, (line) => lines.push(line));
    expect(code).toBe(0);
    // The CLI wrote nothing of the hub's own client.
    expect((await storedPortalClient(hub))?.redirectUris).toEqual([`${hub.url}/portal/callback`]);
    await sleep(1_200); // past the client cache's refresh interval
    const page = await openSignIn(hub);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
  });

  test('a portal client record written by another process is put back at once; sign-in never breaks', async () => {
    const { store, services } = hub;
    const key = services.keys.client(PORTAL_CLIENT_ID);
    const record = JSON.parse((await store.get(key))!) as Record<string, unknown>;
    await store.set(key, JSON.stringify({ ...record, redirectUris: ['http://hub.sso.localhost:4000/portal/callback'] }));
    await store.incr(services.keys.clientsVersion());
    await sleep(1_200);
    expect((await openSignIn(hub)).status).toBe(200);
    const restored = await eventually(() => storedPortalClient(hub), (client) => client?.redirectUris[0] === `${hub.url}/portal/callback`, 3_000);
    expect(restored?.redirectUris).toEqual([`${hub.url}/portal/callback`]);
  });

  test('a deleted portal client record is restored by the running hub without a restart', async () => {
    const { store, services } = hub;
    await store.del(services.keys.client(PORTAL_CLIENT_ID));
    await store.setRemove(services.keys.clients(), PORTAL_CLIENT_ID);
    const restored = await eventually(() => storedPortalClient(hub), (client) => client !== undefined, 3_000);
    expect(restored?.redirectUris).toEqual([`${hub.url}/portal/callback`]);
    expect(await store.setMembers(services.keys.clients())).toContain(PORTAL_CLIENT_ID);
    expect((await openSignIn(hub)).status).toBe(200);
  });
});

/** Signs in through the portal as a person would: /login, the form, the sync page, /account. */
async function signIn(hub: RunningHub, login: string, password: string): Promise<number> {
  const browser = new TestBrowser();
  const host = new URL(hub.url).host;
  const form = await browser.follow(`${hub.url}/login?next=/account`, [host]);
  if (form.response.status !== 200) return form.response.status;
  const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
  const answer = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), login, password });
  const sync = await answer.text();
  if (answer.status !== 200) return answer.status;
  const landed = await browser.follow(continueUrlOf(sync, hub.url), [host]);
  return /\/account$/.test(new URL(landed.url).pathname) ? landed.response.status : 404;
}

/** What Redis losing its data looks like to this hub: every key under its prefix gone. */
async function flushPrefix(hub: RunningHub): Promise<number> {
  const { client } = hub.store as RedisStore;
  return deleteByPrefix(client, hub.config.KEY_PREFIX);
}

describe('after the store loses its data (Redis)', () => {
  let hub: RunningHub;

  beforeEach(async () => {
    hub = await startTestHub('redis', { HUB_STORE_CHECK_MS: CHECK_MS });
  });
  afterEach(async () => {
    await hub.close();
  });

  test('the running hub restores its keys and portal client; sign-in works again within seconds', async () => {
    const { store, services } = hub;
    await services.users.create({ username: 'dora', email: 'dora@example.test', password: 'data-loss-pass-1' });
    expect(await signIn(hub, 'dora', 'data-loss-pass-1')).toBe(200);
    const jwksBefore = await (await fetch(`${hub.url}/jwks`)).json();
    const signingBefore = await store.get(services.keys.signingKeys());
    const cookiesBefore = await store.get(services.keys.cookieKeys());

    expect(await flushPrefix(hub)).toBeGreaterThan(0);
    const flushedAt = Date.now();
    const restored = await eventually(
      async () => [await store.get(services.keys.signingKeys()), await store.get(services.keys.cookieKeys()), await storedPortalClient(hub)] as const,
      ([signing, cookies, portal]) => signing !== null && cookies !== null && portal !== undefined,
      3_000,
    );
    const restoredAfterMs = Date.now() - flushedAt;
    // The same keys as before, from the process's memory: tokens and cookies already out there stay valid.
    expect(restored[0]).toBe(signingBefore);
    expect(restored[1]).toBe(cookiesBefore);
    expect(restored[2]?.redirectUris).toEqual([`${hub.url}/portal/callback`]);
    expect(restoredAfterMs).toBeLessThan(CHECK_MS_NUMBER * 5);
    expect(await (await fetch(`${hub.url}/jwks`)).json()).toEqual(jwksBefore);
    expect(await hub.services.readiness()).toEqual({ ready: true, reasons: [] });

    // Users are data the operator restores (here: created again); sign-in works at once.
    await services.users.create({ username: 'dora', email: 'dora@example.test', password: 'data-loss-pass-1' });
    expect(await signIn(hub, 'dora', 'data-loss-pass-1')).toBe(200);
  });

  test('the two-step key is restored from the running hub, so a secret sealed after the loss still opens after a restart', async () => {
    const { store, services } = hub;
    const key = services.keys.twoStepKeys();
    const before = await store.get(key);
    expect(before).not.toBeNull();
    await store.del(key);
    // An enrolment after the loss: sealed with the key this process holds.
    const { secret } = await services.twoStep.beginEnrolment('user-1', 'dora', 'session-1');
    const sealed = (await services.twoStepRecords.findPending('user-1'))!.secret;
    expect(await services.readiness()).toEqual({ ready: true, reasons: [] });
    const restored = await store.get(key);
    expect(restored).toBe(before);
    // What a restarted (or second) process loads opens it.
    expect(new SecretBox(JSON.parse(restored!) as string[]).open(sealed, 'user-1')).toBe(secret);
  });

  test('two-step keys another process created after the loss are merged with this process’s; both processes seal with one key', async () => {
    const { store, services } = hub;
    const key = services.keys.twoStepKeys();
    const mine = JSON.parse((await store.get(key))!) as string[];
    const first = await services.twoStep.beginEnrolment('user-1', 'dora', 'session-1');
    const sealedByMine = (await services.twoStepRecords.findPending('user-1'))!.secret;
    // A second process started on the emptied store before this one restored its key.
    const theirs = ['another-process-two-step-key-0123456789abcdef'];
    await store.set(key, JSON.stringify(theirs));
    expect(await services.readiness()).toEqual({ ready: true, reasons: [] });
    const merged = JSON.parse((await store.get(key))!) as string[];
    expect(merged).toEqual([...theirs, ...mine]);
    // The other process's first key now seals here too, and what either sealed opens with the merged list.
    const second = await services.twoStep.beginEnrolment('user-2', 'erin', 'session-1');
    expect(new SecretBox(theirs).open((await services.twoStepRecords.findPending('user-2'))!.secret, 'user-2')).toBe(second.secret);
    expect(new SecretBox(merged).open(sealedByMine, 'user-1')).toBe(first.secret);
  });

  test('what the hub cannot take over live makes it not ready, with the reason, on /readyz', async () => {
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, reasons: [] });
    // Another process created new cookie keys after the store lost them.
    await hub.store.set(hub.services.keys.cookieKeys(), JSON.stringify(['another-process-cookie-key-0123456789abcdef']));
    const answer = await fetch(`${hub.url}/readyz`);
    expect(answer.status).toBe(503);
    const body = (await answer.json()) as { ready: boolean; reasons: string[] };
    expect(body.ready).toBe(false);
    expect(body.reasons.join('\n')).toMatch(/cookie keys in the store differ .*restart this process/);
    expect(JSON.stringify(body)).not.toContain('another-process-cookie-key');
  });

  test('a damaged signing key set makes the hub not ready, and keys rotate repairs it with no token left unverifiable', async () => {
    const before = ((await (await fetch(`${hub.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    await hub.store.set(hub.services.keys.signingKeys(), '{"keys":');
    const damaged = await hub.services.readiness();
    expect(damaged.ready).toBe(false);
    expect(damaged.reasons.join('\n')).toMatch(/signing key set is unreadable: run `npm run hub -- keys rotate`/);
    // Still signing and publishing with the keys it holds meanwhile.
    expect(((await (await fetch(`${hub.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid)).toEqual(before);
    const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, HUB_STORE_CHECK_MS: CHECK_MS };
    expect(await runCli(['keys', 'rotate'], env, () => {})).toBe(0);
    expect(await hub.services.readiness()).toEqual({ ready: true, reasons: [] });
    const stored = JSON.parse((await hub.store.get(hub.services.keys.signingKeys()))!) as { keys: { kid: string }[] };
    expect(stored.keys.map((key) => key.kid)).toEqual(expect.arrayContaining(before));
    expect(stored.keys).toHaveLength(before.length + 3); // a new key of each kind: RS256, ES256, EdDSA
  });
});

describe('stopping the hub', () => {
  it('waits for a store check in flight, so nothing is written back after the clean-up', async () => {
    const { faultyStore } = await import('../src/testing/faulty-store.js');
    const { openTestStore } = await import('../src/testing/test-hub.js');
    const faulty = faultyStore(await openTestStore('redis'));
    const hub = await startTestHub('redis', {}, faulty.store);
    const prefix = hub.config.KEY_PREFIX;
    try {
      // The portal client goes missing; the next check puts it back, slowly.
      await hub.store.del(hub.services.keys.client(PORTAL_CLIENT_ID));
      faulty.plan((_method, key) => (key === hub.services.keys.client(PORTAL_CLIENT_ID) ? { delayMs: 400 } : 'ok'));
      const readiness = fetch(`${hub.url}/readyz`).catch(() => undefined); // starts a check
      await new Promise((resolve) => setTimeout(resolve, 100));
      await hub.close(); // stops the hub, then deletes every key under its prefix
      await readiness;
      await new Promise((resolve) => setTimeout(resolve, 600));
      const left: string[] = [];
      for await (const keys of scanKeys((hub.store as RedisStore).client, `${prefix}*`)) left.push(...keys);
      expect(left).toEqual([]);
    } finally {
      await faulty.store.close();
    }
  });
});

describe('readiness is a fresh check', () => {
  it('does not hand back a check that read the store before the call (a periodic check in flight)', async () => {
    const { faultyStore } = await import('../src/testing/faulty-store.js');
    const { openTestStore } = await import('../src/testing/test-hub.js');
    const faulty = faultyStore(await openTestStore('redis'), { reads: true });
    let hub: RunningHub | undefined;
    try {
      // Checks only when asked (in the test's time): the test starts the one "in flight" itself.
      hub = await startTestHub('redis', { HUB_STORE_CHECK_MS: '60000', HUB_KEY_ACTIVATION_DELAY_MS: '300000' }, faulty.store);
      const signingKeys = hub.services.keys.signingKeys();
      const good = (await hub.store.get(signingKeys))!;
      await hub.store.set(signingKeys, '{"keys":');
      // The check reads the damaged set, then waits on its next read.
      const cookieKeys = hub.services.keys.cookieKeys();
      faulty.plan((method, key) => (method === 'get' && key === cookieKeys ? { delayMs: 400 } : 'ok'));
      const inFlight = hub.services.owned.check();
      await sleep(100);
      faulty.plan(undefined);
      await hub.store.set(signingKeys, good); // repaired meanwhile (an operator's `keys rotate`)
      expect(await hub.services.readiness()).toEqual({ ready: true, reasons: [] });
      expect((await inFlight).ready).toBe(false); // the check in flight did read the damaged set
    } finally {
      await hub?.close();
      await faulty.store.close();
    }
  });
});
