import type { Keys } from '../store/keys.js';
import type { Store, WriteOp } from '../store/store.js';
import { ENDED_MARK_TTL_SECONDS, endSessionWrites } from './ended-sessions.js';

/** What {@link SessionIndex.endedByHub} reads of a session: its sign-in's uid and time (epoch seconds). */
export interface SessionSignIn {
  uid: string;
  loginTs?: number;
}

/** account → the store keys of that account's hub (oidc-provider) sessions. */
export class SessionIndex {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  add(accountId: string, sessionKey: string, ttlSeconds?: number): Promise<void> {
    return this.store.setAdd(this.keys.accountSessions(accountId), sessionKey, ttlSeconds);
  }

  remove(accountId: string, sessionKey: string): Promise<void> {
    return this.store.setRemove(this.keys.accountSessions(accountId), sessionKey);
  }

  /** Sessions of the account that still exist, as parsed oidc-provider payloads. */
  async list(accountId: string): Promise<{ key: string; payload: Record<string, unknown> }[]> {
    const sessionKeys = await this.store.setMembers(this.keys.accountSessions(accountId));
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
    await this.store.del(this.keys.accountSessions(accountId));
    return sessions.length;
  }

  /** Marked ended, so a request that loaded the session cannot write it back (ended-sessions.ts). */
  #endWrites(sessionKey: string, payload: Record<string, unknown>): WriteOp[] {
    return endSessionWrites(this.keys, sessionKey, typeof payload.uid === 'string' ? payload.uid : undefined);
  }
}
