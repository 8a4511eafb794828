import type Provider from 'oidc-provider';
import type { HubConfig } from '../config.js';

type SessionLimits = Pick<HubConfig, 'HUB_SESSION_TTL' | 'HUB_SESSION_MAX_TTL'>;

/** What of a hub session its lifetime depends on (oidc-provider's Session). */
interface SessionTimes {
  /** When the account signed in (epoch seconds); unset before a sign-in. */
  loginTs?: number;
  /** Who is signed in; unset for a session nobody signed in to (an anonymous sign-out page's). */
  accountId?: string;
}

/**
 * How long a session nobody signed in to is kept, seconds: as an interaction. Such a session is
 * stored by an anonymous `GET /session/end` (its form's xsrf token); it held `HUB_SESSION_TTL`
 * (12 h), so one address's `SIGNIN_STARTS_PER_IP` pages a window kept 43,200 of them (some 30 MB of
 * Redis) alive at once, and a second address as many again (an exhaustion review).
 */
export const ANONYMOUS_SESSION_TTL = 3600;

const epochSeconds = () => Math.floor(Date.now() / 1000);

/** Whether a session's sign-in is `HUB_SESSION_MAX_TTL` old or older. */
export function pastMaximum(config: SessionLimits, session: SessionTimes | undefined, now = epochSeconds()): boolean {
  return typeof session?.loginTs === 'number' && session.loginTs + config.HUB_SESSION_MAX_TTL <= now;
}

/**
 * oidc-provider's `ttl.Session`: how long a hub session is kept from this save, in seconds.
 *
 * oidc-provider saves a session at every request that uses it (a sign-in, a site's sign-in or
 * silent check, the sign-out question) with the whole `ttl.Session` again, so with a number
 * here a session that keeps being used never ends: a subsite's silent check (`prompt=none`) more
 * often than `HUB_SESSION_TTL` kept one signed in for good (ASVS 5 V7.3.2 asks for an absolute
 * maximum). `HUB_SESSION_TTL` stays the lifetime unused; no save keeps a session past
 * `HUB_SESSION_MAX_TTL` after its sign-in (`loginTs`, renewed by each sign-in with the
 * password), so the record and its cookie expire there. A session without a sign-in yet gets
 * `HUB_SESSION_TTL` if it has an account (a session of an older release), else at most
 * {@link ANONYMOUS_SESSION_TTL}. {@link endSessionsAtMaximum} makes the end exact.
 */
export function sessionTtl(config: SessionLimits, now = epochSeconds): (ctx: unknown, session: SessionTimes) => number {
  return (_ctx, session) => {
    if (typeof session.loginTs !== 'number') return session.accountId ? config.HUB_SESSION_TTL : Math.min(config.HUB_SESSION_TTL, ANONYMOUS_SESSION_TTL);
    const left = session.loginTs + config.HUB_SESSION_MAX_TTL - now();
    // oidc-provider takes only a positive lifetime; a session read past its maximum is not found (below).
    return Math.max(1, Math.min(config.HUB_SESSION_TTL, left));
  };
}

type SessionFind = (id: string, options?: object) => Promise<SessionTimes | undefined>;
type SessionFindByUid = (uid: string) => Promise<SessionTimes | undefined>;

/**
 * A session whose sign-in is `HUB_SESSION_MAX_TTL` old is not found, wherever it is read
 * (oidc-provider's `Session.get` for every protocol request, the portal's `currentUser`, and
 * `Session.findByUid` for the tokens bound to it): the
 * browser is signed out and the next request asks for the password. Needed besides
 * {@link sessionTtl}: a record is stored 5 s past its `exp` (adapter.ts) and oidc-provider
 * accepts an `exp` 15 s late (its clock tolerance), so a session used every few seconds would
 * otherwise be saved again a second at a time.
 */
export function endSessionsAtMaximum(provider: Provider, config: SessionLimits): void {
  const Session = provider.Session as unknown as { find: SessionFind; findByUid: SessionFindByUid };
  const find = Session.find.bind(Session);
  Session.find = async (id, options) => {
    const session = await find(id, options);
    return pastMaximum(config, session) ? undefined : session;
  };
  // Tokens that end with their session (every grant without offline_access) find it by uid at
  // each refresh, userinfo and introspection: the same end, not the record's last seconds.
  const findByUid = Session.findByUid.bind(Session);
  Session.findByUid = async (uid) => {
    const session = await findByUid(uid);
    return pastMaximum(config, session) ? undefined : session;
  };
}
