import type { Keys } from '../store/keys.js';
import type { Store, WriteOp } from '../store/store.js';
import { ENDED_MARK_TTL_SECONDS, endSessionWrites } from './ended-sessions.js';

/**
 * Live hub sessions one account keeps at most by default (`HUB_MAX_SESSIONS_PER_ACCOUNT`): each sign-in in a new browser (or after a
 * sign-out) makes one, kept `HUB_SESSION_TTL`, and nothing else bounded them. A resource review
 * signed one account in about 150 times per 5 minutes from one address (what the sign-in start
 * limit lets through): 400 sessions made its account page 324 KB (180–390 ms to build), and in
 * 12 h one address could pile up some 21,600 (about 65 MB of Redis). Past the cap the oldest
 * sign-ins end, as "Sign out" on their row of the account page ends them.
 */
export const MAX_SESSIONS_PER_ACCOUNT = 100;

/** What {@link SessionIndex.endedByHub} reads of a session: its sign-in's uid and time (epoch seconds). */
export interface SessionSignIn {
  uid: string;
  loginTs?: number;
}

/** The sign-in of a session (its payload, or oidc-provider's Session), as {@link SessionIndex.endedByHub} reads it. */
export function signInOf(session: { uid: string; loginTs?: unknown }): SessionSignIn {
  return typeof session.loginTs === 'number' ? { uid: session.uid, loginTs: session.loginTs } : { uid: session.uid };
}

/**
 * account → the store keys of that account's hub (oidc-provider) sessions. A sorted set scored
 * by each session's expiry (pushed out whenever oidc-provider saves the session): a session that
 * simply expires leaves on the next write, so the index holds about the live sessions only.
 * Before, a plain set kept every session a user ever had while new sign-ins kept pushing the
 * set's expiry out: it grew with every sign-in of a regular user. That set is still read and
 * emptied here (Keys.accountSessionsLegacy), never written.
 */
export class SessionIndex {
  #crowded: ((accountId: string, keep: number) => Promise<unknown>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    /** Live hub sessions an account keeps at most ({@link MAX_SESSIONS_PER_ACCOUNT}). */
    readonly maxPerAccount = MAX_SESSIONS_PER_ACCOUNT,
  ) {}

  /**
   * What ends an account's oldest sessions once it holds more than {@link maxPerAccount}
   * (AccountLifecycle.endOldestSessions: their grants, tokens and back-channel notices go too).
   */
  whenCrowded(end: (accountId: string, keep: number) => Promise<unknown>): void {
    this.#crowded = end;
  }

  /** Lists a session of the account (each save of it: its expiry moves); past the cap, the oldest end. */
  async add(accountId: string, sessionKey: string, ttlSeconds?: number): Promise<void> {
    const expiresAt = ttlSeconds !== undefined ? Date.now() + ttlSeconds * 1000 : Infinity;
    const listed = await this.store.zAddExpiring(this.keys.accountSessions(accountId), sessionKey, expiresAt);
    if (listed > this.maxPerAccount && this.#crowded) await this.#crowded(accountId, this.maxPerAccount);
  }

  async remove(accountId: string, sessionKey: string): Promise<void> {
    await Promise.all([
      this.store.zRemove(this.keys.accountSessions(accountId), sessionKey),
      this.store.setRemove(this.keys.accountSessionsLegacy(accountId), sessionKey),
    ]);
  }

  /** Sessions of the account that still exist, as parsed oidc-provider payloads. */
  async list(accountId: string): Promise<{ key: string; payload: Record<string, unknown> }[]> {
    const [listed, legacy] = await Promise.all([
      this.store.zRangeByScore(this.keys.accountSessions(accountId), Date.now(), Infinity),
      this.store.setMembers(this.keys.accountSessionsLegacy(accountId)),
    ]);
    const sessionKeys = [...new Set([...listed, ...legacy])];
    const raws = await this.store.getMany(sessionKeys);
    const live: { key: string; payload: Record<string, unknown> }[] = [];
    for (const [index, raw] of raws.entries()) {
      if (raw) live.push({ key: sessionKeys[index]!, payload: JSON.parse(raw) as Record<string, unknown> });
      else await this.remove(accountId, sessionKeys[index]!);
    }
    return live;
  }

  /** Ends one hub session of the account (the admin's "end this session"). */
  async end(accountId: string, sessionKey: string, payload: Record<string, unknown>): Promise<void> {
    await this.store.write(this.#endWrites(sessionKey, payload));
    await this.remove(accountId, sessionKey);
  }

  /**
   * Marks sign-ins of the account ended before their sessions are listed and ended: every one
   * made until now (but `keep`'s), or the one `uid`. A request that loaded one of them may write
   * it back under a new id (oidc-provider gives a session a new id at every resume of an
   * authorization), which the ended-session markers of the old record do not stop, and which is
   * in no list while the request holds it: that write checks this mark after it (the adapter),
   * as does a grant saved for such a session (provider.ts). Written before the listing, so a
   * write that missed the mark is in the list.
   */
  async markEnded(accountId: string, which: { keep?: string } | { uid: string } = {}): Promise<void> {
    if ('uid' in which) {
      await this.store.set(this.keys.accountSessionEnded(accountId, which.uid), '1', { ttlSeconds: ENDED_MARK_TTL_SECONDS });
      return;
    }
    const mark = { at: Math.floor(Date.now() / 1000), ...(which.keep ? { keep: which.keep } : {}) };
    await this.store.set(this.keys.accountSessionsEnded(accountId), JSON.stringify(mark), { ttlSeconds: ENDED_MARK_TTL_SECONDS });
  }

  /** Whether the hub ended this sign-in of the account ({@link markEnded}) while a request held it. */
  async endedByHub(accountId: string, session: SessionSignIn): Promise<boolean> {
    const [all, one] = await this.store.getMany([this.keys.accountSessionsEnded(accountId), this.keys.accountSessionEnded(accountId, session.uid)]);
    if (one) return true;
    if (!all) return false;
    const mark = JSON.parse(all) as { at: number; keep?: string };
    // Signed in before the mark's second (a sign-in in that second may be after it: it stays).
    return session.uid !== mark.keep && (session.loginTs ?? 0) < mark.at;
  }

  /** Ends every hub session of the account (sign-out everywhere, user disabled or deleted): one batch. */
  async endAll(accountId: string): Promise<number> {
    await this.markEnded(accountId);
    const sessions = await this.list(accountId);
    await this.store.write(sessions.flatMap(({ key, payload }) => this.#endWrites(key, payload)));
    await this.store.del(this.keys.accountSessions(accountId), this.keys.accountSessionsLegacy(accountId));
    return sessions.length;
  }

  /** Marked ended, so a request that loaded the session cannot write it back (ended-sessions.ts). */
  #endWrites(sessionKey: string, payload: Record<string, unknown>): WriteOp[] {
    return endSessionWrites(this.keys, sessionKey, typeof payload.uid === 'string' ? payload.uid : undefined);
  }
}
