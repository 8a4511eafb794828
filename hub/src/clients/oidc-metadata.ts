import type { AdapterPayload } from 'oidc-provider';
import type { SubsiteClient } from './client.js';

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
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    client_name: client.name,
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
