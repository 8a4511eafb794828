import type { Store } from 'express-session';
import { decodeJwt } from 'jose';
import type { KitStore } from './store/store.js';
import type { KitKeys } from './store/keys.js';
import { destroyStoredSession, getStoredSession, type SsoSessionState } from './session.js';

/**
 * The user → sessions and hub sid → sessions indexes, so a forced logout (userdelete,
 * back-channel logout) can end sessions that live in other browsers.
 */
export class SessionIndex {
  constructor(
    private readonly kitStore: KitStore,
    private readonly keys: KitKeys,
    private readonly sessions: Store,
    /**
     * Index TTL: how long the session store keeps a signed-in session (two absolute lifetimes
     * from the sign-in, `sessionTtl`), so an index outlives what it lists. One lifetime left a
     * session past its end but still stored (the user's name, address and tokens) out of reach
     * of a userdelete in its second lifetime.
     */
    private readonly ttlSeconds: number,
  ) {}

  /** Records a newly signed-in session. */
  async add(sessionId: string, state: SsoSessionState): Promise<void> {
    const userKey = this.keys.userSessions(state.user.sub);
    // Entries expire when the store lets go of the session, so the index prunes itself.
    await this.kitStore.addToSet(userKey, sessionId, this.ttlSeconds);
    if (state.hubSid) await this.kitStore.addToSet(this.keys.hubSidSessions(state.hubSid), sessionId, this.ttlSeconds);
  }

  /** Forgets a session that ended here (local logout); call after the session was destroyed. */
  async remove(sessionId: string, state: SsoSessionState): Promise<void> {
    await this.kitStore.removeFromSet(this.keys.userSessions(state.user.sub), sessionId);
    if (state.hubSid) await this.kitStore.removeFromSet(this.keys.hubSidSessions(state.hubSid), sessionId);
  }

  /** Forgets that a session belongs to hub session `sid` (a re-check found it under another one). */
  async forgetHubSid(sessionId: string, sid: string): Promise<void> {
    await this.kitStore.removeFromSet(this.keys.hubSidSessions(sid), sessionId);
  }

  /**
   * Destroys every local session of `sub`. An id whose session is gone already (a stale entry
   * left when an index removal failed) is harmless: destroying it again is a no-op.
   * @returns how many session ids were listed.
   */
  async endAllSessionsOf(sub: string): Promise<number> {
    const key = this.keys.userSessions(sub);
    const ids = await this.kitStore.members(key);
    await Promise.all(ids.map((id) => destroyStoredSession(this.sessions, id)));
    await this.kitStore.delete(key);
    return ids.length;
  }

  /**
   * Destroys the local sessions of `sub` the event at `event.hubAt` (epoch seconds, the hub's
   * clock) was about, and keeps later ones: a notice of an event that reached this site late (it
   * was down while the hub retried) ends the sessions the event was about, not one the user signed
   * in to since (the account enabled again). A session is kept when its ID token was issued more
   * than {@link HUB_CLOCKS_MARGIN_SECONDS} after the event (both on the hub's clock), or, for a
   * session whose ID token has no readable `iat`, when it signed in here at or after
   * `event.localBefore` (this site's clock). A listed id whose session is gone leaves the index too.
   * @returns how many sessions were ended.
   */
  async endSessionsOfSignedInBefore(sub: string, event: { hubAt: number; localBefore: number }): Promise<number> {
    const key = this.keys.userSessions(sub);
    const ids = await this.kitStore.members(key);
    const ended = await Promise.all(ids.map(async (id) => {
      const data = await getStoredSession(this.sessions, id);
      if (data?.sso && signedInSince(data.sso, event)) return false;
      await destroyStoredSession(this.sessions, id);
      await this.kitStore.removeFromSet(key, id);
      return data?.sso !== undefined;
    }));
    return ended.filter(Boolean).length;
  }

  /**
   * Destroys the local sessions opened under hub session `sid`, each before it leaves the user's
   * index (a failed destroy leaves it listed for userdelete). An id whose session is gone is
   * destroyed again (a no-op) and has no user index entry to remove.
   * @returns how many were listed.
   */
  async endSessionsOfHubSid(sid: string): Promise<number> {
    const key = this.keys.hubSidSessions(sid);
    const ids = await this.kitStore.members(key);
    await Promise.all(ids.map(async (id) => {
      const data = await getStoredSession(this.sessions, id);
      await destroyStoredSession(this.sessions, id);
      if (data?.sso) await this.kitStore.removeFromSet(this.keys.userSessions(data.sso.user.sub), id);
    }));
    await this.kitStore.delete(key);
    return ids.length;
  }
}

/**
 * How far apart two hubs' clocks may be, in seconds: an ID token one hub issued this long after
 * another hub's event may still have been issued before it.
 */
export const HUB_CLOCKS_MARGIN_SECONDS = 5;

/**
 * Whether a session started after an event: by its ID token's `iat` against the event's `at`,
 * both on the hub's clock (no margin for this site's clock or the notice's travel); a session
 * without a readable `iat` by its local sign-in time. Before, only the local time was used, with
 * a 60 s margin: a session signed in within a minute of a disable (disable, enable, sign in) was
 * ended by that disable's late notice.
 */
function signedInSince(state: SsoSessionState, event: { hubAt: number; localBefore: number }): boolean {
  const issuedAt = idTokenIssuedAt(state.idToken);
  if (issuedAt !== undefined) return issuedAt > event.hubAt + HUB_CLOCKS_MARGIN_SECONDS;
  return state.loggedInAt >= event.localBefore;
}

function idTokenIssuedAt(idToken: string): number | undefined {
  try {
    const { iat } = decodeJwt(idToken);
    return typeof iat === 'number' && Number.isFinite(iat) ? iat : undefined;
  } catch {
    return undefined;
  }
}
