import type Provider from 'oidc-provider';
import type { ConsentIndex } from '../oidc/consents.js';
import type { SessionIndex } from '../oidc/session-index.js';
import type { PublicUser } from './user.js';
import { toPublic } from './user.js';
import type { UserRepository } from './user-repository.js';

/**
 * Disabling and deleting users: the account stops working at once everywhere the hub
 * controls it — every hub session ends, every grant and token is revoked.
 */
export class AccountLifecycle {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionIndex,
    private readonly consents: ConsentIndex,
    private readonly provider: Provider,
  ) {}

  /** Ends every hub session and revokes every grant and token of the user. */
  async endEverything(userId: string): Promise<{ sessions: number; grants: number }> {
    const sessions = await this.sessions.endAll(userId);
    const grants = await this.consents.clientsOf(userId);
    for (const { clientId, grantId } of grants) {
      await Promise.all([
        this.provider.AccessToken.revokeByGrantId(grantId),
        this.provider.RefreshToken.revokeByGrantId(grantId),
        this.provider.AuthorizationCode.revokeByGrantId(grantId),
      ]);
      const grant = await this.provider.Grant.find(grantId);
      if (grant) await grant.destroy();
      await this.consents.forget(userId, clientId);
    }
    return { sessions, grants: grants.length };
  }

  async disable(idOrLogin: string): Promise<PublicUser> {
    const user = await this.users.require(idOrLogin);
    const updated = await this.users.update(user.id, { disabled: true });
    await this.endEverything(user.id);
    return toPublic(updated);
  }

  async enable(idOrLogin: string): Promise<PublicUser> {
    const user = await this.users.require(idOrLogin);
    return toPublic(await this.users.update(user.id, { disabled: false }));
  }

  async delete(idOrLogin: string): Promise<PublicUser> {
    const user = await this.users.require(idOrLogin);
    await this.endEverything(user.id);
    return toPublic(await this.users.delete(user.id));
  }
}
