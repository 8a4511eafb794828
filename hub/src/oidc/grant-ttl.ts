import type { HubConfig } from '../config.js';

/** The lifetimes a grant's expiry is chosen from. */
export type GrantTtlConfig = Pick<HubConfig, 'HUB_SESSION_TTL' | 'HUB_REFRESH_TOKEN_TTL' | 'HUB_CONSENT_TTL' | 'HUB_ACCESS_TOKEN_TTL'>;

/** What of a grant its lifetime depends on (oidc-provider's Grant). */
interface GrantScopes {
  getOIDCScope(): string;
}

/** What of a client it depends on: whether it may refresh. */
interface GrantClient {
  grantTypeAllowed(type: string): boolean;
}

/** What of the request it depends on (oidc-provider passes its context, when there is one). */
type GrantContext = { oidc?: { params?: { grant_type?: unknown }; client?: GrantClient } } | undefined;

/**
 * How long a grant record is kept, in seconds (oidc-provider's `ttl.Grant`, fixed when the
 * grant is first saved).
 *
 * A grant belongs to one sign-in session and client (README, "Grants: one per sign-in
 * session"); the remembered consent is a record of its own with `HUB_CONSENT_TTL`. Without
 * `offline_access` the grant's tokens end with their session (oidc-provider's
 * `expiresWithSession`), so the grant is of no use past the session and its last refresh
 * token: it is kept `max(HUB_SESSION_TTL, HUB_REFRESH_TOKEN_TTL, HUB_ACCESS_TOKEN_TTL)`. A session that runs longer
 * gets a new grant at its next authorization request, silently (the consent is still there).
 * Before, every grant was kept `HUB_CONSENT_TTL` (180 days): a grant record and a member of
 * the account's grant index per sign-in and client, long after the session had expired, so
 * Redis grew with every sign-in for half a year.
 *
 * A client that may not refresh (the hub's own portal, a site registered without
 * `refresh_token`) has no token that outlives the session's access tokens: its grant is kept
 * `HUB_SESSION_TTL + HUB_ACCESS_TOKEN_TTL` (13 h by default), not the refresh tokens' 14 days.
 * Every portal sign-in has such a grant, and a dos review found each kept 14 days with its member
 * of the account's grant index (about 0.4 KB): one account signing in again and again from one
 * address (150 sign-ins per 5 minutes, what `SIGNIN_STARTS_PER_IP` lets through) piled up some
 * 600,000 of them, about 250 MB. A session used for longer gets a new grant at its next
 * authorization request, as above.
 *
 * With `offline_access` the refresh tokens outlive the session, and the grant bounds how long
 * their rotation can go on: `HUB_CONSENT_TTL`, as before. A password-grant sign-in has no
 * session: its grant is kept as long as a refresh chain may run when the client may refresh
 * (`HUB_CONSENT_TTL`, as before), else as long as the access token it came with.
 */
export function grantTtl(config: GrantTtlConfig): (ctx: GrantContext, grant: GrantScopes, client?: GrantClient) => number {
  const sessionBound = Math.max(config.HUB_SESSION_TTL, config.HUB_REFRESH_TOKEN_TTL, config.HUB_ACCESS_TOKEN_TTL);
  const withoutRefresh = config.HUB_SESSION_TTL + config.HUB_ACCESS_TOKEN_TTL;
  return (ctx, grant, client) => {
    // oidc-provider passes the client a grant was made with; else the request's (if any).
    const owner = client ?? ctx?.oidc?.client;
    if (ctx?.oidc?.params?.grant_type === 'password') {
      return owner?.grantTypeAllowed('refresh_token') === false ? config.HUB_ACCESS_TOKEN_TTL : config.HUB_CONSENT_TTL;
    }
    if (grant.getOIDCScope().split(' ').includes('offline_access')) return config.HUB_CONSENT_TTL;
    return owner?.grantTypeAllowed('refresh_token') === false ? withoutRefresh : sessionBound;
  };
}

/**
 * oidc-provider fixes a grant's lifetime at its first save ({@link grantTtl}) and keeps it at every
 * later one. A session's grant that gets `offline_access` later in the session (a consent, a
 * remembered consent that now holds it) would keep the session's 14 days: its refresh tokens,
 * which outlive the session, would stop there (a review). Call before saving a grant whose scope
 * may have grown: one holding `offline_access` is kept at least `HUB_CONSENT_TTL` from now.
 */
export function keepOfflineGrant(grant: GrantScopes & { exp?: number }, consentTtlSeconds: number): void {
  if (grant.exp === undefined || !grant.getOIDCScope().split(' ').includes('offline_access')) return;
  grant.exp = Math.max(grant.exp, Math.floor(Date.now() / 1000) + consentTtlSeconds);
}
