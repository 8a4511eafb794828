import type Provider from 'oidc-provider';
import type { ConsentIndex } from './consents.js';
import type { GrantIndex } from './grant-index.js';

/** Revokes one grant: every token and code issued under it, then the grant itself. */
export async function revokeGrant(provider: Provider, grantId: string): Promise<void> {
  await Promise.all([
    provider.AccessToken.revokeByGrantId(grantId),
    provider.RefreshToken.revokeByGrantId(grantId),
    provider.AuthorizationCode.revokeByGrantId(grantId),
  ]);
  const grant = await provider.Grant.find(grantId);
  if (grant) await grant.destroy();
}

/** Revokes every grant of the account (of one client only, when given), on every device. */
export async function revokeGrantsOf(provider: Provider, grants: GrantIndex, accountId: string, clientId?: string): Promise<number> {
  const found = await grants.list(accountId, clientId);
  for (const { grantId } of found) await revokeGrant(provider, grantId);
  return found.length;
}

/**
 * Withdraws a remembered consent: the client will ask again, and every token it holds for
 * the user, on every device, is revoked. Used by the account page.
 */
export async function withdrawConsent(provider: Provider, consents: ConsentIndex, grants: GrantIndex, accountId: string, clientId: string): Promise<void> {
  await consents.forget(accountId, clientId);
  await revokeGrantsOf(provider, grants, accountId, clientId);
}
