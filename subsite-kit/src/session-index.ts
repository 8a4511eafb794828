import type { Store } from 'express-session';
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
   * Destroys the local sessions of `sub` signed in before `before` (epoch seconds), and keeps
   * later ones: a notice of an event that reached this site late (it was down while the hub
   * retried) ends the sessions the event was about, not one the user signed in to since (the
   * account enabled again). A listed id whose session is gone leaves the index too.
   * @returns how many sessions were ended.
   */
  async endSessionsOfSignedInBefore(sub: string, before: number): Promise<number> {
    const key = this.keys.userSessions(sub);
    const ids = await this.kitStore.members(key);
    const ended = await Promise.all(ids.map(async (id) => {
      const data = await getStoredSession(this.sessions, id);
      if (data?.sso && data.sso.loggedInAt >= before) return false;
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
