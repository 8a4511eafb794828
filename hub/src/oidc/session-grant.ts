import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/**
 * How long the grant made first for a session and client is the one its concurrent requests
 * adopt, in seconds: the requests of one burst (tabs reloaded together) come within this.
 */
const SHARE_SECONDS = 60;

/**
 * One grant per sign-in session and client, also when several requests of the session make it at
 * once. oidc-provider binds each code and session-bound token to the grant the session holds for
 * its client (`checkSessionBinding`), and the session keeps the grant of whichever request saved
 * it last: several tabs of one site reloaded together after a sign-in at the hub each made a
 * grant, and all their codes but one were refused at the token endpoint (invalid_grant: "Sign-in
 * failed" in those tabs). A request that made a grant claims its place (SET NX, beside the grant
 * the session had before, if any); one that finds the place taken adopts the grant there.
 */
export class SessionGrants {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /**
   * The id of the grant the session's requests share for the client: `mine` when it was the
   * first made since the session's grant `previous` (none, or one that is gone), else the first's.
   */
  async share(sessionUid: string, clientId: string, previous: string | undefined, mine: string): Promise<string> {
    const key = this.keys.oidcSessionGrant(sessionUid, clientId, previous);
    if (await this.store.set(key, mine, { ttlSeconds: SHARE_SECONDS, onlyIfAbsent: true })) return mine;
    return (await this.store.get(key)) ?? mine;
  }
}
