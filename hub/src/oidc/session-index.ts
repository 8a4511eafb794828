import type { Keys } from '../store/keys.js';
import type { Store, WriteOp } from '../store/store.js';
import { endSessionWrites } from './ended-sessions.js';

/**
 * account → the store keys of that account's hub (oidc-provider) sessions. A sorted set scored
 * by each session's expiry (pushed out whenever oidc-provider saves the session): a session that
 * simply expires leaves on the next write, so the index holds about the live sessions only.
 * Before, a plain set kept every session a user ever had while new sign-ins kept pushing the
 * set's expiry out: it grew with every sign-in of a regular user. That set is still read and
 * emptied here (Keys.accountSessionsLegacy), never written.
 */
export class SessionIndex {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  add(accountId: string, sessionKey: string, ttlSeconds?: number): Promise<void> {
    const expiresAt = ttlSeconds !== undefined ? Date.now() + ttlSeconds * 1000 : Infinity;
    return this.store.zAddExpiring(this.keys.accountSessions(accountId), sessionKey, expiresAt);
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

  /** Ends every hub session of the account (sign-out everywhere, user disabled or deleted): one batch. */
  async endAll(accountId: string): Promise<number> {
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
