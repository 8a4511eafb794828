import type { Keys } from '../store/keys.js';
import { compareAndSet } from '../store/compare-and-set.js';
import { StoreClock } from '../store/store-clock.js';
import type { Store } from '../store/store.js';
import { algOfKey, newSigningKeys, SIGNING_ALGS, type Jwks, type SigningAlg } from './secrets.js';

/**
 * Live signing-key rotation for a fleet of hub processes sharing one store.
 *
 * The store holds one key set: private JWKs, newest first, each with `activatesAt` (epoch
 * ms; absent on keys written before rotation was live: active from the start). Every
 * process reads it every HUB_STORE_CHECK_MS and derives, from the set and the clock alone:
 * - the published keys: every key not yet retired, including one that does not sign yet;
 * - the signing key: the newest key whose `activatesAt` has passed;
 * - retirement: a key goes once a newer key has been signing for the retirement period
 *   (the longest lifetime of a token the old key signed).
 * So a rotation is published everywhere before any process signs with it, and every
 * process agrees on the signing key without talking to the others.
 *
 * Each alg (RS256, ES256, EdDSA) follows these rules on its own: it has its own signing key,
 * and a key is retired only by a newer key of the same alg.
 */
export interface KeySet {
  keys: Record<string, unknown>[];
}

export interface RotationTimings {
  /** How long after a rotation the new key starts signing, in milliseconds. */
  activationDelayMs: number;
  /** How long a replaced key stays published after its successor starts signing, in milliseconds. */
  retireAfterMs: number;
}

const META = ['activatesAt'];

function activation(key: Record<string, unknown>): number | undefined {
  return typeof key.activatesAt === 'number' ? key.activatesAt : undefined;
}

export function parseKeySet(text: string): KeySet {
  const parsed = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new TypeError('the stored signing key set has no keys');
  return { keys: parsed.keys as Record<string, unknown>[] };
}

/** Keys still published at `now`: retired ones (superseded by a key of their alg for longer than `retireAfterMs`) left out. */
export function liveKeys(set: KeySet, now: number, retireAfterMs: number): Record<string, unknown>[] {
  return set.keys.filter((key) => {
    const own = activation(key) ?? 0;
    const alg = algOfKey(key);
    return !set.keys.some((other) => {
      const at = activation(other);
      return at !== undefined && at > own && at <= now - retireAfterMs && algOfKey(other) === alg;
    });
  });
}

/** The kid that signs at `now` (for `alg`, or among all keys): the newest activated key (the first of the set on a tie). */
export function signingKid(set: KeySet, now: number, alg?: SigningAlg): string | undefined {
  let best: Record<string, unknown> | undefined;
  for (const key of set.keys) {
    if (alg !== undefined && algOfKey(key) !== alg) continue;
    const at = activation(key) ?? 0;
    if (at > now) continue;
    if (!best || at > (activation(best) ?? 0)) best = key;
  }
  return best ? String(best.kid) : undefined;
}

/**
 * The JWKS a process uses at `now`: live keys without the rotation metadata, each alg's
 * signing key ahead of the others (oidc-provider and the delivery tokens sign with the
 * first key of an alg).
 */
export function effectiveJwks(set: KeySet, now: number, retireAfterMs: number): Jwks {
  const signers = new Set(SIGNING_ALGS.map((alg) => signingKid(set, now, alg)).filter(Boolean));
  // Keys of another kind (configured by hand): the newest activated one counts as a signer too.
  const other = signingKid({ keys: set.keys.filter((key) => algOfKey(key) === undefined) }, now);
  if (other) signers.add(other);
  const keys = liveKeys(set, now, retireAfterMs).map((key) => Object.fromEntries(Object.entries(key).filter(([name]) => !META.includes(name))));
  keys.sort((a, b) => Number(signers.has(String(b.kid))) - Number(signers.has(String(a.kid))));
  return { keys };
}

/**
 * `keys rotate`: a new key of each alg in `algs` (all by default), published by every
 * process within HUB_STORE_CHECK_MS and signing after `activationDelayMs`; retired keys are
 * dropped from the set.
 */
export async function rotateSigningKeys(
  store: Store,
  keys: Keys,
  timings: RotationTimings,
  clock?: () => number,
  algs: readonly SigningAlg[] = SIGNING_ALGS,
): Promise<{ rotated: { kid: string; alg: SigningAlg; activatesAt: number }[]; set: KeySet }> {
  // The keys first: generating them takes a while, and the delay must start when they are written.
  const generated = await newSigningKeys(algs);
  // Without a clock given, the store's (Redis `TIME`): the CLI may run on a host whose clock is
  // off, and a key dated from it could sign before every process publishes it (hub/test/key-rotation-clock.test.ts).
  const now = clock ?? (await storeClock(store));
  // Compare-and-set from the set as read: a rotation or a hub's restore written in between is
  // kept (re-read, and these keys added to it), never overwritten.
  return compareAndSet(store, keys.signingKeys(), (raw) => {
    let current: KeySet = { keys: [] };
    let unreadable = false;
    try {
      if (raw) current = parseKeySet(raw);
    } catch {
      // A damaged set is replaced; running processes merge back the keys they still publish.
      unreadable = true;
    }
    const at = now();
    const rotated = generated.map((key) => {
      const alg = algOfKey(key)!;
      // With no key of its alg there is nothing to stay compatible with: the first one signs at once.
      const activatesAt = current.keys.some((held) => algOfKey(held) === alg) || unreadable ? at + timings.activationDelayMs : at;
      return { key: { ...key, activatesAt }, kid: String(key.kid), alg, activatesAt };
    });
    const set = { keys: [...rotated.map(({ key }) => key), ...liveKeys(current, at, timings.retireAfterMs)] };
    return { write: JSON.stringify(set), result: { rotated: rotated.map(({ kid, alg, activatesAt }) => ({ kid, alg, activatesAt })), set } };
  });
}

/** The store's clock as this process reads it (StoreClock, measured once now; this process's own where the store is too slow to tell). */
async function storeClock(store: Pick<Store, 'time'>): Promise<() => number> {
  const clock = new StoreClock(store, { warn: () => undefined });
  await clock.sync();
  return () => clock.now();
}
