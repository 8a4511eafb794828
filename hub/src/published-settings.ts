import type { HubConfig } from './config.js';
import type { Keys } from './store/keys.js';
import type { Store } from './store/store.js';

/**
 * The settings of the running hub that a CLI run next to it must use rather than its own
 * environment (which may hold only REDIS_URL and KEY_PREFIX): the issuer (links and sync codes
 * it makes), the sign-up mode, and the timing of key rotation. A hub publishes them in the
 * store when it starts (and again once a day while it runs); `hubSettingsFor` lays them over
 * the CLI's configuration.
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
] as const satisfies readonly (keyof HubConfig)[];

export type PublishedSettings = Partial<Pick<HubConfig, (typeof PUBLISHED)[number]>>;

/** Kept a week; a running hub writes them again every day. */
export const PUBLISHED_TTL_SECONDS = 7 * 86_400;
export const REPUBLISH_EVERY_MS = 86_400_000;

export async function publishSettings(store: Store, keys: Keys, config: HubConfig): Promise<void> {
  const settings: Record<string, unknown> = {};
  for (const name of PUBLISHED) if (config[name] !== undefined) settings[name] = config[name];
  await store.set(keys.hubSettings(), JSON.stringify(settings), { ttlSeconds: PUBLISHED_TTL_SECONDS });
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
 * The CLI's configuration with the running hub's settings over it, and the names of those that
 * differed from the CLI's own environment (to tell the operator).
 */
export function hubSettingsFor(config: HubConfig, published: PublishedSettings): { config: HubConfig; differed: string[] } {
  const differed = PUBLISHED.filter((name) => published[name] !== undefined && published[name] !== config[name]);
  // The retire time is published only when the hub sets it: the CLI's own must not stand in for it.
  const merged = { ...config, HUB_KEY_RETIRE_SECONDS: undefined, ...published } as HubConfig;
  return { config: Object.freeze(merged), differed };
}
