import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

export interface Jwks {
  keys: Record<string, unknown>[];
}

const SIGNING_ALG = 'RS256'; // the one alg every OIDC client must support

export async function newSigningKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };
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
 * on first use with one key that signs at once: no process publishes another yet.
 */
export function loadSigningKeysText(store: Store, keys: Keys): Promise<string> {
  return loadOrCreate(store, keys.signingKeys(), async () => ({ keys: [{ ...(await newSigningKey()), activatesAt: Date.now() }] }));
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
