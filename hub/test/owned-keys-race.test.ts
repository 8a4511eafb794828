/**
 * A running hub merges its own signing keys back into a stored set that lacks them (a process
 * that started on an emptied store wrote its own). It wrote the merge with a plain SET over what
 * it had read, so a `keys rotate` that landed in between was dropped, after the CLI had printed
 * and audited the new key (a review). The merge is now a compare-and-set over the set as read:
 * the rotation stays, and the merge is redone on the next check.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { newSigningKey } from '../src/secrets/secrets.js';
import { parseKeySet, rotateSigningKeys } from '../src/secrets/signing-keys.js';

const faulty = faultyStore(new MemoryStore());
let hub: RunningHub;

beforeAll(async () => {
  // Checks only when the test asks (a long interval).
  hub = await startTestHub('memory', { HUB_STORE_CHECK_MS: '60000', HUB_KEY_ACTIVATION_DELAY_MS: '200000' }, faulty.store);
});
afterAll(async () => (hub ? hub.close() : faulty.store.close()));

const kidsOf = async () => parseKeySet((await faulty.store.get(hub.services.keys.signingKeys()))!).keys.map((key) => String(key.kid));

it('a rotation that lands while the hub merges its keys back is kept, and the hub\'s keys are merged at the next check', async () => {
  const { keys, owned } = hub.services;
  await owned.check(); // one in flight from the start, if any, is done
  const mine = await kidsOf();
  // Another process's set, without this hub's keys.
  const foreign = await newSigningKey('ES256');
  await faulty.store.set(keys.signingKeys(), JSON.stringify({ keys: [{ ...foreign, activatesAt: 0 }] }));
  // The hub's merge write is slowed; a rotation is written meanwhile.
  let slowed = false;
  faulty.plan((method, key) => ((method === 'swap' || method === 'set') && key === keys.signingKeys() && !slowed ? ((slowed = true), { delayMs: 400 }) : 'ok'));
  const check = owned.check();
  await new Promise((resolve) => setTimeout(resolve, 100));
  faulty.plan(undefined);
  const { rotated } = await rotateSigningKeys(faulty.store, keys, { activationDelayMs: 60_000, retireAfterMs: 3_600_000 }, Date.now, ['EdDSA']);
  await check;
  expect(slowed).toBe(true);
  expect(await kidsOf()).toEqual(expect.arrayContaining([rotated[0]!.kid, String(foreign.kid)]));
  // The next check merges the hub's own keys into the set with the rotation.
  await owned.check();
  expect(await kidsOf()).toEqual(expect.arrayContaining([rotated[0]!.kid, String(foreign.kid), ...mine]));
});
