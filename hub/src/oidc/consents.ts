import type { ClientRegistry } from '../clients/client-registry.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/** What a user allowed a client: OpenID scopes and claims. */
export interface Consent {
  scope: string;
  claims: string[];
  /**
   * The generation of the client it was given to: a consent of another generation was given to
   * a removed client of the same id and counts for nothing.
   */
  clientGeneration?: string;
}

/** What a consent needs of the client registry: the generation to stamp, and the check of a stamp. */
export type ClientGenerations = Pick<ClientRegistry, 'generationOf' | 'stampOfRemovedClient'>;

/**
 * Remembered consent, a record of its own: account + client → what the user allowed.
 * Tokens never hang off it; each sign-in session gets its own grant built from it, so one
 * device's sign-out or token mishap never touches another device. It lasts until it
 * expires or the user withdraws it on /account.
 */
export class ConsentIndex {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    /** Unset: consents are neither stamped nor checked. */
    private readonly clients?: ClientGenerations,
  ) {}

  /** A consent given to a removed client of this id (registered again since) counts for nothing. */
  #ofRemovedClient(clientId: string, consent: Consent): boolean | Promise<boolean> {
    return this.clients ? this.clients.stampOfRemovedClient(clientId, consent.clientGeneration) : false;
  }

  /** Adds to what the user allowed the client (scopes and claims only ever grow until withdrawn). */
  async remember(accountId: string, clientId: string, allowed: Consent, ttlSeconds?: number): Promise<void> {
    // The generation is a cached read of the client registry (no store round trip).
    const [earlier, generation] = await Promise.all([this.find(accountId, clientId), this.clients?.generationOf(clientId)]);
    const consent: Consent = {
      scope: [...new Set([...(earlier?.scope.split(' ') ?? []), ...allowed.scope.split(' ')].filter(Boolean))].join(' '),
      claims: [...new Set([...(earlier?.claims ?? []), ...allowed.claims])],
      ...(generation !== undefined ? { clientGeneration: generation } : {}),
    };
    await this.store.set(this.keys.consent(accountId, clientId), JSON.stringify(consent), ttlSeconds !== undefined ? { ttlSeconds } : {});
    await this.store.setAdd(this.keys.consents(accountId), clientId, ttlSeconds);
  }

  async find(accountId: string, clientId: string): Promise<Consent | null> {
    const raw = await this.store.get(this.keys.consent(accountId, clientId));
    if (!raw) return null;
    // Records from before consent had its own record held a grant id: nothing to build on.
    if (!raw.startsWith('{')) return null;
    const consent = JSON.parse(raw) as Consent;
    return (await this.#ofRemovedClient(clientId, consent)) ? null : consent;
  }

  async forget(accountId: string, clientId: string): Promise<void> {
    await this.store.del(this.keys.consent(accountId, clientId));
    await this.store.setRemove(this.keys.consents(accountId), clientId);
  }

  /** Clients with a remembered consent. */
  async clientsOf(accountId: string): Promise<{ clientId: string }[]> {
    const clientIds = await this.store.setMembers(this.keys.consents(accountId));
    const raws = await this.store.getMany(clientIds.map((clientId) => this.keys.consent(accountId, clientId)));
    const live = await Promise.all(clientIds.map(async (clientId, index) => {
      const raw = raws[index];
      if (!raw) return false;
      if (!raw.startsWith('{')) return true;
      return !(await this.#ofRemovedClient(clientId, JSON.parse(raw) as Consent));
    }));
    return clientIds.filter((_clientId, index) => live[index]).map((clientId) => ({ clientId }));
  }
}
