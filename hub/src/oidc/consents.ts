import type { ClientRegistry } from '../clients/client-registry.js';
import { ConflictError, msg } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/** Tries of a consent's merge that another write to it came before (compare-and-set), before it gives up (409). */
const REMEMBER_ATTEMPTS = 8;

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

  /**
   * Adds to what the user allowed the client (scopes and claims only ever grow until withdrawn).
   * Compare-and-set on the consent: read, merge and write back as one step, so a withdrawal
   * ({@link forget}) that lands in between is not undone with the scopes it took away (the
   * merge is made again over what is there now), and two consents at once keep both.
   */
  async remember(accountId: string, clientId: string, allowed: Consent, ttlSeconds?: number): Promise<void> {
    const key = this.keys.consent(accountId, clientId);
    // The generation is a cached read of the client registry (no store round trip).
    const generation = await this.clients?.generationOf(clientId);
    for (let attempt = 0; ; attempt += 1) {
      const raw = await this.store.get(key);
      const earlier = await this.#parse(clientId, raw);
      const consent: Consent = {
        scope: [...new Set([...(earlier?.scope.split(' ') ?? []), ...allowed.scope.split(' ')].filter(Boolean))].join(' '),
        claims: [...new Set([...(earlier?.claims ?? []), ...allowed.claims])],
        ...(generation !== undefined ? { clientGeneration: generation } : {}),
      };
      if (await this.store.swap(key, raw, JSON.stringify(consent), ttlSeconds)) break;
      if (attempt + 1 >= REMEMBER_ATTEMPTS) throw new ConflictError(msg('errors:busyRecord'));
    }
    // Indexed after it is written: the account page lists (and can withdraw) every consent there is.
    await this.store.setAdd(this.keys.consents(accountId), clientId, ttlSeconds);
  }

  async find(accountId: string, clientId: string): Promise<Consent | null> {
    return this.#parse(clientId, await this.store.get(this.keys.consent(accountId, clientId)));
  }

  async #parse(clientId: string, raw: string | null): Promise<Consent | null> {
    if (!raw) return null;
    // Records from before consent had its own record held a grant id: nothing to build on.
    if (!raw.startsWith('{')) return null;
    const consent = JSON.parse(raw) as Consent;
    return (await this.#ofRemovedClient(clientId, consent)) ? null : consent;
  }

  async forget(accountId: string, clientId: string): Promise<void> {
    await this.store.del(this.keys.consent(accountId, clientId));
    await this.store.setRemove(this.keys.consents(accountId), clientId);
    // A consent given again meanwhile (written after the delete, indexed before the removal) is
    // listed again: unlisted, the account page could not show or withdraw it until it expired.
    if ((await this.store.get(this.keys.consent(accountId, clientId))) !== null) {
      await this.store.setAdd(this.keys.consents(accountId), clientId, await this.#ttlOf(accountId, clientId));
    }
  }

  /** The consent's remaining lifetime in seconds, for its index (undefined: it has none). */
  async #ttlOf(accountId: string, clientId: string): Promise<number | undefined> {
    const ttl = await this.store.ttl(this.keys.consent(accountId, clientId));
    return ttl > 0 ? ttl : undefined;
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
