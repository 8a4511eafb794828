import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { ClientRegistry } from '../clients/client-registry.js';
import { ProtocolHooks } from '../oidc/protocol-hooks.js';

interface ProfileRequest {
  /** The access token came in the query string (seed 001's `/oauth2.0/profile?access_token=`). */
  tokenInQuery: boolean;
}

/** Internal userinfo requests made by the CAS-style profile route; only the hub can put one here. */
const profileRequests = new WeakMap<IncomingMessage, ProfileRequest>();

export function markProfileRequest(request: IncomingMessage, details: ProfileRequest): void {
  profileRequests.set(request, details);
}

/**
 * Answers a CAS-style profile request in CAS 6's nested profile format,
 * `{ "id": …, "client_id": …, "attributes": { … } }`, from oidc-provider's own userinfo
 * answer: the token is checked (expiry, revocation, grant, account) by the standard
 * endpoint, and only the shape changes here. The client that the token was issued to must
 * have the CAS endpoints switched on, and the query-string token its own opt-in.
 */
export function installCasProfileAnswer(provider: Provider, clients: ClientRegistry): void {
  // Profile requests are userinfo requests: no other route pays for this hook.
  ProtocolHooks.of(provider).after(['userinfo'], async (ctx) => {
    const marked = profileRequests.get(ctx.req);
    if (!marked) return;
    const claims = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status !== 200 || !claims || typeof claims !== 'object' || Buffer.isBuffer(claims)) return;
    const clientId = ctx.oidc?.client?.clientId;
    const client = clientId ? await clients.find(clientId) : undefined;
    if (!client?.casCompat) {
      ctx.status = 400;
      ctx.body = { error: 'unauthorized_client', error_description: 'the CAS-style endpoints are not enabled for the client this token was issued to' };
      return;
    }
    if (marked.tokenInQuery && !client.allowSecretInQuery) {
      ctx.status = 400;
      ctx.body = {
        error: 'invalid_request',
        error_description: 'access_token must not be sent in the query string for this client; use Authorization: Bearer or a form body',
      };
      return;
    }
    const { sub, ...attributes } = claims;
    ctx.body = { id: sub, client_id: client.clientId, attributes };
  });
}
