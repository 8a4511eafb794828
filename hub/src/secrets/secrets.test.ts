import { describe, expect, it } from '@jest/globals';
import { Keys } from '../store/keys.js';
import { faultyStore } from '../testing/faulty-store.js';
import { MemoryStore } from '../store/memory.js';
import { algOfKey, loadSigningKeysText, newSigningKey } from './secrets.js';
import { effectiveJwks, parseKeySet, rotateSigningKeys, signingKid } from './signing-keys.js';

const kinds = (keys: Record<string, unknown>[]) => keys.map(algOfKey).sort();

describe('the stored signing key set holds a key of each offered alg', () => {
  it('is created with one RS256, one ES256 and one EdDSA key, each signing at once', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const set = parseKeySet(await loadSigningKeysText(store, keys));
    expect(kinds(set.keys)).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(set.keys.map((key) => `${key.kty}/${key.crv ?? ''}`).sort()).toEqual(['EC/P-256', 'OKP/Ed25519', 'RSA/']);
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) expect(signingKid(set, Date.now(), alg)).toBeDefined();
    await store.close();
  });

  it('a set from before (RS256 only) gets the missing kinds once, its RSA key kept and still signing', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const legacy: Record<string, unknown> = { ...(await newSigningKey('RS256')), activatesAt: 1 };
    await store.set(keys.signingKeys(), JSON.stringify({ keys: [legacy] }));
    const [first, second] = await Promise.all([loadSigningKeysText(store, keys), loadSigningKeysText(store, keys)]);
    expect(first).toBe(second); // processes starting together agree on one set
    const set = parseKeySet(first);
    expect(kinds(set.keys)).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(signingKid(set, Date.now(), 'RS256')).toBe(String(legacy.kid));
    expect(await store.get(keys.signingKeys())).toBe(first);
    await store.close();
  });

  it('rotating one kind leaves the others as they are', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const before = parseKeySet(await loadSigningKeysText(store, keys));
    const now = Date.now();
    const { rotated, set } = await rotateSigningKeys(store, keys, { activationDelayMs: 60_000, retireAfterMs: 3_600_000 }, () => now, ['ES256']);
    expect(rotated).toEqual([expect.objectContaining({ alg: 'ES256', activatesAt: now + 60_000 })]);
    expect(set.keys).toHaveLength(4);
    // Published at once, signing only after the activation; RS256 and EdDSA unchanged.
    for (const alg of ['RS256', 'EdDSA'] as const) expect(signingKid(set, now + 120_000, alg)).toBe(signingKid(before, now, alg));
    expect(signingKid(set, now, 'ES256')).toBe(signingKid(before, now, 'ES256'));
    expect(signingKid(set, now + 60_000, 'ES256')).toBe(rotated[0]!.kid);
    expect(effectiveJwks(set, now, 3_600_000).keys.map((key) => key.kid)).toContain(rotated[0]!.kid);
    await store.close();
  });

  it('two rotations at once both land: the one written second keeps the first one\'s key (compare-and-set)', async () => {
    const faulty = faultyStore(new MemoryStore());
    const keys = new Keys('t:');
    await loadSigningKeysText(faulty.store, keys);
    // The first rotation to write is slowed: the other reads, writes and is done meanwhile.
    let writes = 0;
    faulty.plan((_method, key) => (key === keys.signingKeys() && ++writes === 1 ? { delayMs: 300 } : 'ok'));
    const timings = { activationDelayMs: 60_000, retireAfterMs: 3_600_000 };
    const [slow, fast] = await Promise.all([
      rotateSigningKeys(faulty.store, keys, timings, Date.now, ['ES256']),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => rotateSigningKeys(faulty.store, keys, timings, Date.now, ['EdDSA'])),
    ]);
    const stored = parseKeySet((await faulty.store.get(keys.signingKeys()))!);
    expect(stored.keys.map((key) => String(key.kid))).toEqual(expect.arrayContaining([slow.rotated[0]!.kid, fast.rotated[0]!.kid]));
    await faulty.store.close();
  });
});
