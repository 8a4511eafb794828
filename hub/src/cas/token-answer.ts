import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import { ProtocolHooks } from '../oidc/protocol-hooks.js';

/** Internal token requests made by the CAS-style accessToken route; only the hub can put one here. */
const tokenRequests = new WeakSet<IncomingMessage>();

export function markCasTokenRequest(request: IncomingMessage): void {
  tokenRequests.add(request);
}

/**
 * Seed 001's accessToken answer always has `scope` (its table: always present; its example:
 * `"scope":""`), and a CAS client may read it unconditionally. oidc-provider leaves it out of a
 * token without scopes (client_credentials asking for none, or only for scopes the hub does not
 * know): a CAS-style answer gets `"scope": ""` then. The standard `/token` answer is unchanged.
 */
export function installCasTokenAnswer(provider: Provider): void {
  ProtocolHooks.of(provider).after(['token'], (ctx) => {
    if (!tokenRequests.has(ctx.req) || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Buffer.isBuffer(body) || 'error' in body) return;
    if (typeof body.scope !== 'string') body.scope = '';
  });
}
