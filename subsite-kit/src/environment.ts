import { KitOptionError, resolveOptions, type ResolvedOptions, type SubsiteKitOptions } from './options.js';

/**
 * What {@link createSubsiteKit} accepts: any option may be left out (or `undefined`); it is then
 * read from its environment variable ({@link ENVIRONMENT_VARIABLES}), else defaulted. Options
 * given here win over the environment.
 */
export type SubsiteKitConfig = { [K in keyof SubsiteKitOptions]?: SubsiteKitOptions[K] | undefined };

type Kind = 'string' | 'list' | 'scopes' | 'boolean' | 'integer';

/** The options that can come from the environment, with their variable and how its text is read. */
const ENVIRONMENT: { readonly [K in keyof SubsiteKitOptions]?: readonly [variable: string, kind: Kind] } = {
  hubUrl: ['SSO_HUB_URL', 'string'],
  hubInternalUrl: ['SSO_HUB_INTERNAL_URL', 'string'],
  clientId: ['SSO_CLIENT_ID', 'string'],
  clientSecret: ['SSO_CLIENT_SECRET', 'string'],
  redirectUri: ['SSO_REDIRECT_URI', 'string'],
  syncKey: ['SSO_SYNC_KEY', 'string'],
  previousSyncKey: ['SSO_PREVIOUS_SYNC_KEY', 'string'],
  sessionSecret: ['SSO_SESSION_SECRET', 'list'], // comma-separated to rotate: the first signs
  redisPrefix: ['SSO_REDIS_PREFIX', 'string'],
  cookiePrefix: ['SSO_COOKIE_PREFIX', 'string'],
  crossSite: ['SSO_CROSS_SITE', 'boolean'],
  crossSiteRecheckSeconds: ['SSO_CROSS_SITE_RECHECK_SECONDS', 'integer'], // 0 turns it off
  scopes: ['SSO_SCOPES', 'scopes'], // space-separated, as in an authorization request
  postLogoutRedirectUri: ['SSO_POST_LOGOUT_REDIRECT_URI', 'string'],
  secureCookies: ['SSO_SECURE_COOKIES', 'boolean'],
  requestLoginMaxAgeSeconds: ['SSO_REQUEST_LOGIN_MAX_AGE_SECONDS', 'integer'],
  sessionMaxAgeSeconds: ['SSO_SESSION_MAX_AGE_SECONDS', 'integer'],
  clockSkewSeconds: ['SSO_CLOCK_SKEW_SECONDS', 'integer'],
  hubTimeoutMs: ['SSO_HUB_TIMEOUT_MS', 'integer'],
  storeTimeoutMs: ['SSO_STORE_TIMEOUT_MS', 'integer'],
  publicPath: ['SSO_PUBLIC_PATH', 'string'],
};

/** Each option that can be set by an environment variable, and that variable's name. */
export const ENVIRONMENT_VARIABLES: Readonly<Partial<Record<keyof SubsiteKitOptions, string>>> = Object.freeze(
  Object.fromEntries(Object.entries(ENVIRONMENT).map(([option, [variable]]) => [option, variable])),
);

function parse(option: string, variable: string, kind: Kind, text: string): unknown {
  const value = text.trim();
  switch (kind) {
    case 'string':
      return value;
    case 'list': {
      const items = value.split(',').map((item) => item.trim()).filter(Boolean);
      return items.length === 1 ? items[0] : items;
    }
    case 'scopes':
      return value.split(/[\s,]+/).filter(Boolean);
    case 'boolean':
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      throw new KitOptionError(option, `must be a boolean: the environment variable ${variable} must be true or false, got ${JSON.stringify(text)}`);
    case 'integer':
      if (/^\d+$/.test(value)) return Number(value);
      throw new KitOptionError(option, `must be a positive integer: the environment variable ${variable} is ${JSON.stringify(text)}`);
  }
}

/**
 * Fills every option left out of `config` from its environment variable, then checks and
 * defaults them all ({@link resolveOptions}). A missing or bad value throws a `TypeError` that
 * names both the option and its variable.
 */
export function resolveOptionsWithEnvironment(config: SubsiteKitConfig, env: NodeJS.ProcessEnv): ResolvedOptions {
  if (typeof config !== 'object' || config === null) throw new TypeError('subsite-kit: options must be an object');
  const merged: Record<string, unknown> = { ...config };
  const fromEnvironment = new Set<string>();
  for (const [option, [variable, kind]] of Object.entries(ENVIRONMENT)) {
    const text = env[variable];
    if (merged[option] !== undefined || text === undefined || text.trim() === '') continue;
    merged[option] = parse(option, variable, kind, text);
    fromEnvironment.add(option);
  }
  try {
    return resolveOptions(merged as unknown as SubsiteKitOptions);
  } catch (error) {
    const variable = error instanceof KitOptionError ? ENVIRONMENT_VARIABLES[error.option as keyof SubsiteKitOptions] : undefined;
    if (!variable || !(error instanceof KitOptionError)) throw error;
    if (fromEnvironment.has(error.option)) throw new KitOptionError(error.option, `${error.why} (read from the environment variable ${variable})`);
    if (merged[error.option] === undefined) throw new KitOptionError(error.option, `is required: pass it to createSubsiteKit() or set the environment variable ${variable}`);
    throw error;
  }
}
