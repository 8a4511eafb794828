import type { Keys } from '../store/keys.js';
import type { Store, WriteOp } from '../store/store.js';
import { endSessionWrites } from './ended-sessions.js';

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

  /** Ends every hub session of the account (sign-out everywhere, user disabled or deleted): one batch. */
  async endAll(accountId: string): Promise<number> {
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
