import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/**
 * Remembered consent: account + client → grant id. oidc-provider's default only finds a
 * grant through the browser session; this index keeps consent across sessions until the
 * grant expires or the user revokes it.
 */
export class ConsentIndex {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  async remember(accountId: string, clientId: string, grantId: string, ttlSeconds?: number): Promise<void> {
    await this.store.set(this.keys.consent(accountId, clientId), grantId, ttlSeconds !== undefined ? { ttlSeconds } : {});
    await this.store.setAdd(this.keys.consents(accountId), clientId, ttlSeconds);
  }

  find(accountId: string, clientId: string): Promise<string | null> {
    return this.store.get(this.keys.consent(accountId, clientId));
  }

  async forget(accountId: string, clientId: string, grantId?: string): Promise<void> {
    const key = this.keys.consent(accountId, clientId);
    if (grantId && (await this.store.get(key)) !== grantId) return;
    await this.store.del(key);
    await this.store.setRemove(this.keys.consents(accountId), clientId);
  }

  /** Client ids with a remembered consent. */
  async clientsOf(accountId: string): Promise<{ clientId: string; grantId: string }[]> {
    const clientIds = await this.store.setMembers(this.keys.consents(accountId));
    const grantIds = await this.store.getMany(clientIds.map((clientId) => this.keys.consent(accountId, clientId)));
    return clientIds
      .map((clientId, index) => ({ clientId, grantId: grantIds[index] }))
      .filter((entry): entry is { clientId: string; grantId: string } => Boolean(entry.grantId));
  }
}
