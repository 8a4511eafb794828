import { createHash } from 'node:crypto';
import { loadConfig, type HubConfig } from './config.js';
import { isSigningAlg, signingAlgsOf, type SigningAlg } from './secrets/signing-algs.js';
import type { Keys } from './store/keys.js';
import type { Store } from './store/store.js';

/**
 * The settings of the running hub that a CLI run next to it must use rather than its own
 * environment (which may hold only REDIS_URL and KEY_PREFIX): the issuer (links and sync codes
 * it makes), the sign-up mode, and the timing of key rotation. A hub publishes them in the
 * store once it listens (a process that fails to start publishes nothing), and puts them back
 * at every store check when another process wrote others; `hubSettingsFor` lays them over the
 * CLI's configuration.
 */
const PUBLISHED = [
  'HUB_ISSUER',
  'HUB_SIGNUP',
  'HUB_KEY_ACTIVATION_DELAY_MS',
  'HUB_KEY_RETIRE_SECONDS',
  'HUB_STORE_CHECK_MS',
  'HUB_REFRESH_TOKEN_TTL',
  'HUB_SESSION_TTL',
  'SYNC_KEY_OVERLAP_SECONDS',
  // `users list` says when an unverified sign-up is removed by the running hub's period.
  'HUB_UNVERIFIED_ACCOUNT_DAYS',
  // What the configuration checks the values above against: an https issuer wants a trusted
  // proxy, the activation delay the subsites' key-set refetch.
  'HUB_TRUST_PROXY',
  'HUB_SUBSITE_JWKS_REFETCH_MS',
] as const satisfies readonly (keyof HubConfig)[];

export type PublishedSettings = Partial<Pick<HubConfig, (typeof PUBLISHED)[number]>>;

/** Kept a week; a running hub writes them again every day. */
export const PUBLISHED_TTL_SECONDS = 7 * 86_400;
export const REPUBLISH_EVERY_MS = 86_400_000;

/** Marks a hub that signs with HUB_JWKS (never the keys themselves): a rotation in the store is not used by it. */
const PINNED_KEYS = 'signingKeysFromHubJwks';
/** The kinds of key (RS256, ES256, EdDSA) of a hub that signs with HUB_JWKS. */
const PINNED_ALGS = 'signingAlgsFromHubJwks';

/** The settings as this hub publishes them (the text stored: compared as it is). */
export function settingsText(config: HubConfig): string {
  const settings: Record<string, unknown> = {};
  for (const name of PUBLISHED) if (config[name] !== undefined) settings[name] = config[name];
  if (config.HUB_JWKS) {
    settings[PINNED_KEYS] = true;
    // Its kinds of key (never the keys): what the CLI may register a client's ID token algorithm for.
    settings[PINNED_ALGS] = signingAlgsOf(config.HUB_JWKS.keys);
  }
  return JSON.stringify(settings);
}

/**
 * The settings on which a stored text (another process's) and this configuration differ, by
 * variable name; `HUB_JWKS` when one pins its signing keys and the other does not (never the keys).
 */
export function differingSettings(storedText: string, config: HubConfig): string[] {
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(storedText) as Record<string, unknown>;
  } catch {
    return ['(unreadable)'];
  }
  const mine = JSON.parse(settingsText(config)) as Record<string, unknown>;
  const names = PUBLISHED.filter((name) => JSON.stringify(stored[name]) !== JSON.stringify(mine[name])) as string[];
  // The kinds of key are compared only when both published them: a hub of the version before
  // publishes none, and during a rolling upgrade every check would warn and publish again.
  const kindsDiffer = stored[PINNED_ALGS] !== undefined && mine[PINNED_ALGS] !== undefined && JSON.stringify(stored[PINNED_ALGS]) !== JSON.stringify(mine[PINNED_ALGS]);
  if ((stored[PINNED_KEYS] === true) !== (mine[PINNED_KEYS] === true) || kindsDiffer) names.push('HUB_JWKS');
  return names;
}

/** Whether the running hub signs with keys pinned by its HUB_JWKS setting (so `keys rotate` would change nothing it uses). */
export async function publishedPinsSigningKeys(store: Store, keys: Keys): Promise<boolean> {
  const raw = await store.get(keys.hubSettings());
  return raw ? (JSON.parse(raw) as Record<string, unknown>)[PINNED_KEYS] === true : false;
}

/** The ID token algorithms a running hub that pins its keys (HUB_JWKS) can sign with; undefined for one that does not. */
export async function publishedSigningAlgs(store: Store, keys: Keys): Promise<SigningAlg[] | undefined> {
  const raw = await store.get(keys.hubSettings());
  const algs = raw ? (JSON.parse(raw) as Record<string, unknown>)[PINNED_ALGS] : undefined;
  return Array.isArray(algs) ? algs.filter(isSigningAlg) : undefined;
}

export async function publishSettings(store: Store, keys: Keys, config: HubConfig): Promise<void> {
  await store.set(keys.hubSettings(), settingsText(config), { ttlSeconds: PUBLISHED_TTL_SECONDS });
}

/** The published settings as stored (for a check that they are still this hub's). */
export async function publishedSettingsText(store: Store, keys: Keys): Promise<string | undefined> {
  return (await store.get(keys.hubSettings())) ?? undefined;
}

export async function readPublishedSettings(store: Store, keys: Keys): Promise<PublishedSettings | undefined> {
  const raw = await store.get(keys.hubSettings());
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Record<string, unknown>;
  const settings: Record<string, unknown> = {};
  for (const name of PUBLISHED) if (stored[name] !== undefined) settings[name] = stored[name];
  return settings as PublishedSettings;
}

/**
 * The CLI's configuration with the running hub's settings over it (loaded again from its
 * environment and those settings, so what is derived, like Secure cookies from the issuer,
 * follows them), and the names of those that differ from the CLI's own environment.
 */
export function hubSettingsFor(config: HubConfig, env: Record<string, string | undefined>, published: PublishedSettings): { config: HubConfig; differed: string[] } {
  const differed = PUBLISHED.filter((name) => published[name] !== config[name] && (published[name] !== undefined || env[name] !== undefined));
  const merged: Record<string, string | undefined> = { ...env };
  // The hub's values, and none of the CLI's own for what the hub left to its default.
  for (const name of PUBLISHED) merged[name] = published[name] === undefined ? undefined : String(published[name]);
  // A hub publishes its refetch allowance also when it left it to the default. An activation
  // delay within that allowance started only so (HUB_KEY_ACTIVATION_DELAY_MS=60000 kept from the
  // former default: taken with a warning, config.ts), which a value given would have refused:
  // taken here as the hub took it, or every command beside such a hub stopped on it.
  const { HUB_KEY_ACTIVATION_DELAY_MS: delay, HUB_STORE_CHECK_MS: check, HUB_SUBSITE_JWKS_REFETCH_MS: refetch } = published;
  if (delay !== undefined && check !== undefined && refetch !== undefined && delay <= 2 * check + refetch) merged.HUB_SUBSITE_JWKS_REFETCH_MS = undefined;
  return { config: loadConfig(merged), differed };
}

/**
 * A cookie key's fingerprint, to compare keys between hub processes through the store without
 * publishing them: a truncated SHA-256 of a key of at least 32 characters, which tells nothing of it.
 */
export function cookieKeyFingerprint(key: string): string {
  return createHash('sha256').update(`sso-hub cookie key\0${key}`).digest('base64url').slice(0, 22);
}

/**
 * Publishes the fingerprint of the cookie key this process signs with (kept `liveMs`, refreshed
 * at every store check) and returns those of the keys other live processes of this KEY_PREFIX
 * sign with that this one cannot verify: a cookie one of them set is refused here ("This sign-in
 * page has expired"). Empty when every process signs with a key every other verifies, as in
 * both steps of a cookie-key rotation.
 */
export async function unreadableCookieSigners(store: Store, keys: Keys, cookieKeys: readonly string[], liveMs: number, now = Date.now()): Promise<string[]> {
  const mine = cookieKeys.map(cookieKeyFingerprint);
  await store.zAddExpiring(keys.cookieSigners(), mine[0]!, now + liveMs);
  const signers = await store.zRangeByScore(keys.cookieSigners(), now, Infinity);
  return signers.filter((signer) => !mine.includes(signer));
}
