import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
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
    const uid = typeof payload.uid === 'string' ? payload.uid : undefined;
    // Marked ended, so a request that loaded it cannot write it back (ended-sessions.ts).
    await this.store.write(endSessionWrites(this.keys, sessionKey, uid));
    await this.remove(accountId, sessionKey);
  }

  /** Ends every hub session of the account (sign-out everywhere, user disabled or deleted). */
  async endAll(accountId: string): Promise<number> {
    const sessions = await this.list(accountId);
    for (const { key, payload } of sessions) {
      const uid = typeof payload.uid === 'string' ? payload.uid : undefined;
      await this.store.write(endSessionWrites(this.keys, key, uid));
    }
    await this.store.del(this.keys.accountSessions(accountId));
    return sessions.length;
  }
}
