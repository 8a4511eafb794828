/**
 * `keys rotate` run on a host whose clock is off (an operator's machine, a bastion, a job
 * runner) still gives the new key its full activation delay on the fleet's clock, Redis's
 * (store-clock.ts). Before, the activation time came from the CLI host's own clock: run from a
 * host two minutes behind, the key was written as active a minute ago, each hub process signed
 * with it as soon as its next store check read the set, and the processes that had not read it
 * yet did not publish it: measured with three hubs behind nginx and the demo forum (a kit that
 * caches the JWKS and refetches it at most once per 30 s), 53 sign-ins at the forum failed
 * (its callback answered 502) and ID tokens did not verify against one process's /jwks.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { cliHarness } from '../src/testing/cli-harness.js';
import { connectRedis } from '../src/store/redis.js';
import { deleteByPrefix } from '../src/store/redis-client.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { Keys } from '../src/store/keys.js';
import { rotateSigningKeys } from '../src/secrets/signing-keys.js';

describe('keys rotate from a host whose clock is behind the store\'s', () => {
  const prefix = `test:key-clock:${randomUUID()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, HUB_ISSUER: 'http://hub.test', HUB_KEY_ACTIVATION_DELAY_MS: '90000' };
  const { run, cleanUp } = cliHarness(env);
  afterAll(cleanUp);

  test('the new key activates the delay after the store\'s time, not the CLI host\'s', async () => {
    // A key set of each kind first (the first key of a kind signs at once: nothing to stay compatible with).
    expect((await run('keys', 'rotate')).code).toBe(0);
    const redis = await connectRedis(TEST_REDIS_URL);
    const [seconds, micros] = (await redis.sendCommand(['TIME'])) as unknown as [string, string];
    await redis.quit();
    const storeNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const realNow = Date.now;
    const behind = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 120_000);
    let rotated;
    try {
      rotated = await run('keys', 'rotate', '--alg', 'RS256');
    } finally {
      behind.mockRestore();
    }
    expect(rotated.code).toBe(0);
    const from = /signs? with it from (\S+);/.exec(rotated.out)?.[1];
    expect(from).toBeDefined();
    const activatesAt = Date.parse(from!);
    // The full delay on the store's clock (a second's slack for the command's own time), never in the past.
    expect(activatesAt).toBeGreaterThanOrEqual(storeNow + 90_000 - 1_000);
    expect(activatesAt).toBeLessThanOrEqual(storeNow + 90_000 + 10_000);
  });
});

describe('a hub process whose own clock runs ahead of the store\'s', () => {
  test('signs with a rotated key from its activation on the store\'s clock, not earlier by its own', async () => {
    // Before, each process read activations on its own clock: one two minutes ahead signed with
    // a key a minute before its activation, while processes that had not read the set yet did
    // not publish it (as with the CLI host above), and subsites failed to verify its ID tokens.
    const prefix = `test:key-clock-hub:${randomUUID()}:`;
    const first = await startTestHub('redis', { KEY_PREFIX: prefix });
    const keys = new Keys(prefix);
    const realNow = Date.now;
    let ahead: ReturnType<typeof jest.spyOn> | undefined;
    let second: RunningHub | undefined;
    try {
      const rsKid = () => String(first.services.owned.jwks().keys.find((key) => key.kty === 'RSA')!.kid);
      const old = rsKid();
      const { rotated } = await rotateSigningKeys(first.store, keys, { activationDelayMs: 60_000, retireAfterMs: 3_600_000 }, undefined, ['RS256']);
      expect(rotated[0]!.kid).not.toBe(old);
      ahead = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 120_000);
      second = await startTestHub('redis', { KEY_PREFIX: prefix });
      const signer = second.services.owned.jwks().keys.find((key) => key.kty === 'RSA')!;
      expect(String(signer.kid)).toBe(old);
      // The new key is published already (every process has it on /jwks before any signs with it).
      expect(second.services.owned.jwks().keys.map((key) => String(key.kid))).toContain(rotated[0]!.kid);
    } finally {
      ahead?.mockRestore();
      await second?.close();
      const redis = await connectRedis(TEST_REDIS_URL);
      try {
        await first.close(); // its own clean-up is of its default prefix, not of the one given
        await deleteByPrefix(redis, prefix);
      } finally {
        await redis.quit();
      }
    }
  }, 60_000);
});
