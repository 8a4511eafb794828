import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { PROCESS_CLOCK, type Clock } from '../store/store-clock.js';

export interface Jwks {
  keys: Record<string, unknown>[];
}

export { SIGNING_ALGS, DEFAULT_SIGNING_ALG, isSigningAlg, algOfKey, type SigningAlg } from './signing-algs.js';
import { SIGNING_ALGS, DEFAULT_SIGNING_ALG, algOfKey, type SigningAlg } from './signing-algs.js';

export async function newSigningKey(alg: SigningAlg = DEFAULT_SIGNING_ALG): Promise<Record<string, unknown>> {
  const options = alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {};
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg, use: 'sig' };
}

/** One new key of each offered alg. */
export function newSigningKeys(algs: readonly SigningAlg[] = SIGNING_ALGS): Promise<Record<string, unknown>[]> {
  return Promise.all(algs.map((alg) => newSigningKey(alg)));
}

/**
 * Reads a secret that every hub process must share, creating it on first use. `SET NX`
 * makes the first writer win, so processes that start together agree on one value.
 */
async function loadOrCreate(store: Store, key: string, create: () => Promise<unknown>): Promise<string> {
  const existing = await store.get(key);
  if (existing) return existing;
  await store.set(key, JSON.stringify(await create()), { onlyIfAbsent: true });
  return (await store.get(key))!;
}

/**
 * The stored signing key set as JSON text (see `signing-keys.ts` for its rules), created
 * on first use with one key of each offered alg, each signing at once: no process
 * publishes another yet. A set from before ES256/EdDSA gets the missing kinds at start-up
 * (a compare-and-set, so processes starting together add them once).
 */
export async function loadSigningKeysText(store: Store, keys: Keys, clock: Clock = PROCESS_CLOCK): Promise<string> {
  const text = await loadOrCreate(store, keys.signingKeys(), async () => ({ keys: (await newSigningKeys()).map((key) => ({ ...key, activatesAt: clock.now() })) }));
  let set: { keys?: Record<string, unknown>[] };
  try {
    set = JSON.parse(text) as { keys?: Record<string, unknown>[] };
  } catch {
    return text; // unreadable: the process reports it (OwnedState); `keys rotate` replaces it
  }
  const held = new Set((set.keys ?? []).map(algOfKey));
  const missing = SIGNING_ALGS.filter((alg) => !held.has(alg));
  if (missing.length === 0 || !Array.isArray(set.keys)) return text;
  // No client can hold a token of a kind the hub never signed: the new kinds sign at once.
  const added = (await newSigningKeys(missing)).map((key) => ({ ...key, activatesAt: clock.now() }));
  const upgraded = JSON.stringify({ ...set, keys: [...set.keys, ...added] });
  if (await store.swap(keys.signingKeys(), text, upgraded)) return upgraded;
  return (await store.get(keys.signingKeys())) ?? text;
}

export async function loadCookieKeys(store: Store, keys: Keys, configured?: string[]): Promise<string[]> {
  if (configured) return configured;
  return JSON.parse(await loadOrCreate(store, keys.cookieKeys(), async () => [randomBytes(32).toString('base64url')])) as string[];
}

/**
 * Key-encryption keys for two-step secrets: HUB_TOTP_KEYS when set (kept out of the store, so
 * a copy of the store alone does not reveal TOTP seeds), else generated once and kept in the
 * store beside the data (then they protect only against a leak of single records).
 */
export async function loadTotpKeys(store: Store, keys: Keys, configured?: string[]): Promise<string[]> {
  if (configured) return configured;
  return JSON.parse(await loadOrCreate(store, keys.twoStepKeys(), async () => [randomBytes(32).toString('base64url')])) as string[];
}

/** Only the public half of each key, for display. */
export function publicKids(jwks: Jwks): string[] {
  return jwks.keys.map((key) => String(key.kid));
}
