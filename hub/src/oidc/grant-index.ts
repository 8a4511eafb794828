import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/**
 * account → every grant (one per sign-in session and client), so "end all sessions", a
 * forced logout, a password reset and a consent withdrawal find every grant to revoke.
 * A sorted set scored by expiry: expired grants leave on the next write.
 */
export class GrantIndex {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  async add(accountId: string, clientId: string, grantId: string, ttlSeconds?: number): Promise<void> {
    const expiresAt = ttlSeconds !== undefined ? Date.now() + ttlSeconds * 1000 : Infinity;
    await this.store.zAddExpiring(this.keys.accountGrants(accountId), member(clientId, grantId), expiresAt);
  }

  async remove(accountId: string, clientId: string, grantId: string): Promise<void> {
    await this.store.zRemove(this.keys.accountGrants(accountId), member(clientId, grantId));
  }

  /** The account's grants, optionally for one client only. */
  async list(accountId: string, clientId?: string): Promise<{ clientId: string; grantId: string }[]> {
    const members = await this.store.zRangeByScore(this.keys.accountGrants(accountId), Date.now(), Infinity);
    return members.map(parse).filter((entry) => clientId === undefined || entry.clientId === clientId);
  }
}

// Grant ids are URL-safe (no spaces); client ids may hold anything after the first space.
function member(clientId: string, grantId: string): string {
  return `${grantId} ${clientId}`;
}

function parse(value: string): { clientId: string; grantId: string } {
  const space = value.indexOf(' ');
  return { grantId: value.slice(0, space), clientId: value.slice(space + 1) };
}
