import { randomBytes } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { SubsiteClient } from './client.js';

/** Loopback hosts, as oidc-provider names them (RFC 8252 §7.3, §8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function isLoopbackHttp(uri: string): boolean {
  const url = URL.parse(uri);
  return url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * A native app (RFC 8252): a public client whose every redirect and post-logout URI is plain
 * http on the loopback interface. Such an app listens on a port the system hands it at each
 * sign-in, and RFC 8252 §7.3 (and RFC 9700 §2.1, the one exception to exact matching) has the
 * server allow any port there; oidc-provider does so for `application_type: native` only, and
 * refused every port but the registered one with invalid_redirect_uri. Everything else about the
 * URI (scheme, host, path, query) still matches exactly, and PKCE stays required.
 */
export function isNativeApp(client: Pick<SubsiteClient, 'tokenEndpointAuthMethod' | 'redirectUris' | 'postLogoutRedirectUris'>): boolean {
  return client.tokenEndpointAuthMethod === 'none'
    && client.redirectUris.length > 0
    && client.redirectUris.every(isLoopbackHttp)
    && client.postLogoutRedirectUris.every(isLoopbackHttp);
}

/**
 * What oidc-provider is given as a confidential client's `client_secret`: it wants one in the
 * metadata, but the hub holds only the secret's digest and checks a presented secret itself
 * (oidc/client-secret-check.ts). Drawn at random per process, stored and sent nowhere, so it is
 * neither the secret nor its digest, and no one knows it. Nothing in oidc-provider uses it as a
 * key either: client_secret_jwt is not offered, the ID token algorithms are asymmetric, and
 * request objects, encryption and JWT responses are off (provider.ts, `enabledJWA`).
 */
const UNUSABLE_SECRET = randomBytes(32).toString('base64url');

/** The oidc-provider view of a registered client: an explicit allow-list of grants and URIs. */
export function toOidcMetadata(client: SubsiteClient, enabledGrants: ReadonlySet<string>): AdapterPayload {
  const responseTypes: string[] = [];
  if (client.grantTypes.includes('authorization_code')) responseTypes.push('code');
  if (client.grantTypes.includes('implicit')) responseTypes.push('id_token token');
  if (client.internal) responseTypes.push('none');
  // A grant the hub has not switched on (the legacy password grant) is left out, not refused at start.
  const grantTypes = client.grantTypes.filter((grant) => enabledGrants.has(grant));
  return {
    client_id: client.clientId,
    ...(client.tokenEndpointAuthMethod !== 'none' ? { client_secret: UNUSABLE_SECRET } : {}),
    client_name: client.name,
    ...(isNativeApp(client) ? { application_type: 'native' } : {}),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scope,
    // Read by the hub's pkce.required policy: a legacy confidential client may be registered without PKCE.
    require_pkce: client.requirePkce,
    ...(client.idTokenSignedResponseAlg ? { id_token_signed_response_alg: client.idTokenSignedResponseAlg } : {}),
    ...(client.backchannelLogoutUri
      ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  } as AdapterPayload;
}
