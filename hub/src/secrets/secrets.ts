import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

export interface Jwks {
  keys: Record<string, unknown>[];
}

const SIGNING_ALG = 'RS256'; // the one alg every OIDC client must support

async function newSigningKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };
}

/**
 * Reads a secret that every hub process must share, creating it on first use. `SET NX`
 * makes the first writer win, so processes that start together agree on one value.
 */
async function loadOrCreate<T>(store: Store, key: string, create: () => Promise<T>): Promise<T> {
  const existing = await store.get(key);
  if (existing) return JSON.parse(existing) as T;
  await store.set(key, JSON.stringify(await create()), { onlyIfAbsent: true });
  return JSON.parse((await store.get(key))!) as T;
}

export function loadSigningKeys(store: Store, keys: Keys, configured?: Jwks): Promise<Jwks> {
  if (configured) return Promise.resolve(configured);
  return loadOrCreate(store, keys.signingKeys(), async () => ({ keys: [await newSigningKey()] }));
}

export function loadCookieKeys(store: Store, keys: Keys, configured?: string[]): Promise<string[]> {
  if (configured) return Promise.resolve(configured);
  return loadOrCreate(store, keys.cookieKeys(), async () => [randomBytes(32).toString('base64url')]);
}

/**
 * Puts a new signing key first; the previous keys stay in the set so tokens they signed
 * still verify. The oldest keys beyond `keep` are dropped. Processes pick it up on restart.
 */
export async function rotateSigningKeys(store: Store, keys: Keys, keep = 2): Promise<Jwks> {
  const current = await loadSigningKeys(store, keys);
  const next = { keys: [await newSigningKey(), ...current.keys].slice(0, keep + 1) };
  await store.set(keys.signingKeys(), JSON.stringify(next));
  return next;
}

/** Only the public half of each key, for display. */
export function publicKids(jwks: Jwks): string[] {
  return jwks.keys.map((key) => String(key.kid));
}
