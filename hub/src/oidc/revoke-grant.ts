import type Provider from 'oidc-provider';
import type { ConsentIndex } from './consents.js';

/**
 * Withdraws a remembered consent: every token issued under the grant is revoked, the grant
 * goes, and the client will ask again. Used by the account page and by forced logout.
 */
export async function revokeGrant(provider: Provider, consents: ConsentIndex, accountId: string, clientId: string, grantId: string): Promise<void> {
  await Promise.all([
    provider.AccessToken.revokeByGrantId(grantId),
    provider.RefreshToken.revokeByGrantId(grantId),
    provider.AuthorizationCode.revokeByGrantId(grantId),
  ]);
  const grant = await provider.Grant.find(grantId);
  if (grant) await grant.destroy();
  await consents.forget(accountId, clientId);
}
