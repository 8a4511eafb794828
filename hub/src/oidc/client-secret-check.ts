import type Provider from 'oidc-provider';
import type { SubsiteClient } from '../clients/client.js';
import { matchClientSecret } from '../clients/client-secret.js';
import type { Logger } from '../logger.js';

const WARN_EVERY_MS = 60_000; // one warning a minute per client still using its previous secret

/** The client's record as the registry holds it now: without a promise while its cache is fresh. */
export type ClientRecordOf = (clientId: string) => SubsiteClient | undefined | Promise<SubsiteClient | undefined>;

/**
 * Says, at most once a minute per client, that a client authenticated with the secret a rotation
 * replaced: the operator sees which subsite still has to be given its new secret before the overlap
 * ends. Names the client and the end of the overlap, never a secret.
 */
export class PreviousSecretWarnings {
  readonly #warnedAt = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  used(client: SubsiteClient, nowMs = Date.now()): void {
    const last = this.#warnedAt.get(client.clientId);
    if (last !== undefined && nowMs - last < WARN_EVERY_MS) return;
    // Bounded by the clients in an overlap: an entry older than a minute has no use.
    for (const [id, at] of this.#warnedAt) if (nowMs - at >= WARN_EVERY_MS) this.#warnedAt.delete(id);
    this.#warnedAt.set(client.clientId, nowMs);
    const until = client.previousSecret ? new Date(client.previousSecret.validUntil * 1000).toISOString() : undefined;
    this.logger.warn('client authenticated with its previous secret: give the subsite its new secret before the overlap ends', { client: client.clientId, previousSecretValidUntil: until });
  }
}

/**
 * Client secrets checked against their digest (client-secret.ts), through the extension point
 * oidc-provider has for it (`Client.prototype.compareClientSecret`, panva/node-oidc-provider#631):
 * its own compares the `client_secret` of the metadata, which for the hub is a value no one knows
 * (oidc-metadata.ts). Every way a secret comes in goes through here: Basic, the form body, and the
 * CAS-style endpoints (their query string too, for clients allowed it), which call the token
 * endpoint. `checkClientSecretExpiration`, which oidc-provider runs first, finds no
 * `client_secret_expires_at` (the hub sets none) and lets the check go on; a rotation's overlap
 * is the registry's own expiry.
 */
export function checkClientSecretsByDigest(provider: Provider, recordOf: ClientRecordOf, warnings: PreviousSecretWarnings | undefined): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret(this: { clientId: string }, actual: unknown): boolean | Promise<boolean> };
  prototype.compareClientSecret = function compareClientSecret(actual) {
    const found = recordOf(this.clientId);
    const decide = (client: SubsiteClient | undefined): boolean => {
      if (!client) return false;
      const match = matchClientSecret(client, actual);
      if (match === 'previous') warnings?.used(client);
      return match !== false;
    };
    return found instanceof Promise ? found.then(decide) : decide(found);
  };
}
