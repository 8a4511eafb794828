/**
 * The settings a hub publishes for the CLI next to it (HUB_ISSUER, sign-up mode, key timing).
 * An operator review found them overwritten by a hub process that never served: started with a
 * wrong HUB_ISSUER on a port already taken, it exited 1, but the CLI then made invite links and
 * sync checks with its issuer; the running hubs republished only once a day.
 */
import { createHub } from '../src/hub.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { readPublishedSettings } from '../src/published-settings.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { randomUUID } from 'node:crypto';

describe.each(STORE_KINDS)('published settings (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
  });
  afterAll(() => hub.close());

  const issuerInStore = async () => (await readPublishedSettings(hub.store, hub.services.keys))?.HUB_ISSUER;

  test('a hub process that is built but never listens publishes nothing', async () => {
    expect(await issuerInStore()).toBe(hub.url);
    const config = loadConfig({ HUB_ISSUER: 'http://wrong.example.test', KEY_PREFIX: hub.config.KEY_PREFIX, LOG_LEVEL: 'silent' });
    const failed = await createHub(config, hub.store, createLogger('silent'));
    await failed.stop();
    expect(await issuerInStore()).toBe(hub.url);
  });

  test('every store check of a running hub puts its settings back: written by another process, or lost with the store', async () => {
    await hub.store.set(hub.services.keys.hubSettings(), JSON.stringify({ HUB_ISSUER: 'http://wrong.example.test' }), { ttlSeconds: 60 });
    expect(await issuerInStore()).toBe('http://wrong.example.test');
    await hub.services.owned.check();
    expect(await issuerInStore()).toBe(hub.url);
    await hub.store.del(hub.services.keys.hubSettings());
    await hub.services.owned.check();
    expect(await issuerInStore()).toBe(hub.url);
  });
});

test('a first publish that failed (a store blip right after listening) is made good by the next store check', async () => {
  const inner = new MemoryStore();
  const { store, plan } = faultyStore(inner);
  const config = loadConfig({ HUB_ISSUER: 'http://127.0.0.1:4999', KEY_PREFIX: `test:${randomUUID()}:`, LOG_LEVEL: 'silent' });
  const hub = await createHub(config, store, createLogger('silent'));
  try {
    plan((_method, key) => (key.endsWith('hub:settings') ? 'fail' : 'ok'));
    await expect(hub.services.owned.publish()).rejects.toThrow();
    plan(undefined);
    await hub.services.owned.check();
    expect((await readPublishedSettings(inner, hub.services.keys))?.HUB_ISSUER).toBe('http://127.0.0.1:4999');
  } finally {
    await hub.stop();
    await inner.close();
  }
});

describe('what differs between two processes of one KEY_PREFIX (an operator review: the warning at every check named nothing)', () => {
  test('the differing settings are named, HUB_JWKS when one process pins its signing keys and the other does not', async () => {
    const { settingsText, differingSettings } = await import('../src/published-settings.js');
    const { generateKeyPair, exportJWK } = await import('jose');
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'pinned-1', alg: 'RS256', use: 'sig' }] });
    const stored = loadConfig({ HUB_ISSUER: 'http://hub.test:4000', LOG_LEVEL: 'silent' });
    const pinned = loadConfig({ HUB_ISSUER: 'http://hub.test:4000', LOG_LEVEL: 'silent', HUB_JWKS: jwks, HUB_SIGNUP: 'open' });
    expect(differingSettings(settingsText(stored), pinned)).toEqual(['HUB_SIGNUP', 'HUB_JWKS']);
    expect(differingSettings(settingsText(stored), stored)).toEqual([]);
    // A pinned hub of the version before publishes no kinds of key: not named (a review: every
    // check of a rolling upgrade warned HUB_JWKS differs); kinds that both published and differ are.
    const before = JSON.stringify({ ...JSON.parse(settingsText(pinned)), signingAlgsFromHubJwks: undefined });
    expect(differingSettings(before, pinned)).toEqual([]);
    const otherKinds = JSON.stringify({ ...JSON.parse(settingsText(pinned)), signingAlgsFromHubJwks: ['RS256', 'ES256'] });
    expect(differingSettings(otherKinds, pinned)).toEqual(['HUB_JWKS']);
  });
});

describe('cookie keys across the processes of one KEY_PREFIX (an outside review: hub1 with HUB_COOKIE_SECRETS=NEW,CUR, hub2 without it, both ready, every sign-in alternating between them failed with no log line)', () => {
  const CUR = 'current-cookie-key-0123456789abcdefghijklmn';
  const NEW = 'the-new-cookie-key-0123456789abcdefghijklmn';
  const warnings = (lines: { level: string; message: string }[]) => lines.filter((line) => line.level === 'warn' && /HUB_COOKIE_SECRETS/.test(line.message));

  /** Two hub processes on one store and prefix; the first one's cookie key is what the store keeps. */
  async function pair(first: Record<string, string>, second: (storedKey: string) => Record<string, string>) {
    const { captureLogger } = await import('../src/testing/capture-logger.js');
    const store = new MemoryStore();
    const KEY_PREFIX = `test:${randomUUID()}:`;
    const one = captureLogger();
    const two = captureLogger();
    const hub1 = await startTestHub('memory', { KEY_PREFIX, HUB_STORE_CHECK_MS: '200', ...first }, store, one.logger);
    const stored = JSON.parse((await store.get(hub1.services.keys.cookieKeys())) ?? '["(none stored)"]') as string[];
    const hub2 = await startTestHub('memory', { KEY_PREFIX, HUB_STORE_CHECK_MS: '200', ...second(stored[0]!) }, store, two.logger);
    await hub1.services.owned.check();
    await hub2.services.owned.check();
    await hub1.services.owned.check();
    return {
      one: one.lines,
      two: two.lines,
      published: await store.zRangeByScore(hub1.services.keys.cookieSigners(), -Infinity, Infinity),
      close: async () => {
        await hub1.close();
        await hub2.close();
        await store.close();
      },
    };
  }

  test('one process pinned with HUB_COOKIE_SECRETS, the other on the key kept in the store: both warn, naming HUB_COOKIE_SECRETS; only fingerprints are published', async () => {
    const run = await pair({}, () => ({ HUB_COOKIE_SECRETS: `${NEW},${CUR}` }));
    try {
      expect(warnings(run.one)).toHaveLength(1);
      expect(warnings(run.two)).toHaveLength(1);
      expect(warnings(run.one)[0]!.message).toMatch(/this process has none set/);
      expect(run.published).toHaveLength(2);
      for (const published of run.published) expect([NEW, CUR]).not.toContain(published);
    } finally {
      await run.close();
    }
  });

  test('a mistyped CURRENT in step 1 of a rotation is warned about', async () => {
    const run = await pair({ HUB_COOKIE_SECRETS: CUR }, () => ({ HUB_COOKIE_SECRETS: `${CUR.replace('0', 'O')},${NEW}` }));
    try {
      expect(warnings(run.one)).toHaveLength(1);
      expect(warnings(run.two)).toHaveLength(1);
    } finally {
      await run.close();
    }
  });

  test('both steps of the README rotation, and a process on the stored key beside one that lists it: no warning', async () => {
    for (const [first, second] of [
      [{ HUB_COOKIE_SECRETS: CUR }, () => ({ HUB_COOKIE_SECRETS: `${CUR},${NEW}` })],
      [{ HUB_COOKIE_SECRETS: `${CUR},${NEW}` }, () => ({ HUB_COOKIE_SECRETS: `${NEW},${CUR}` })],
      [{}, (stored: string) => ({ HUB_COOKIE_SECRETS: `${stored},${NEW}` })],
    ] as const) {
      const run = await pair(first, second);
      try {
        expect([...warnings(run.one), ...warnings(run.two)]).toEqual([]);
      } finally {
        await run.close();
      }
    }
  });
});
