import Provider, { errors, type TokenEndpointGrantContext } from 'oidc-provider';
import { TooManyAttemptsError } from '../errors.js';
import type { LoginThrottle } from '../security/login-throttle.js';
import type { PasswordHasher } from '../users/passwords.js';
import type { UserRepository } from '../users/user-repository.js';
import type { ConsentIndex } from './consents.js';

const GRANT_TYPE = 'password';
const MAX_LOGIN_LENGTH = 320; // the portal's sign-in form takes as much
const MAX_PASSWORD_LENGTH = 1024; // bounds the hashing work a request can ask for

/** What the password grant reports for the audit log: never the password, never a token. */
export interface PasswordGrantEvent {
  outcome: 'success' | 'failure' | 'locked';
  clientId: string;
  ip: string;
  /** Set on success only: a failure does not say whether the name exists. */
  userId?: string;
}

export interface PasswordGrantDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  consents: ConsentIndex;
  audit?: (event: PasswordGrantEvent) => void;
}

type PasswordParams = { username?: string; password?: string; scope?: string };

/**
 * RFC 6749 §4.3, the resource-owner password credentials grant, for legacy first-party
 * apps only (seed 003 §2.2). RFC 9700 §2.4: it MUST NOT be used; it exposes the password
 * to the client and cannot do MFA or consent. So it is registered only when the hub
 * enables it, a client must be registered with it explicitly (and trusted), and it goes
 * through exactly the portal's checks: the same rate limits per IP and per account, the
 * same argon2id verification against a decoy for unknown names, disabled users refused.
 *
 * Tokens are oidc-provider's own models on a Grant remembered like a consent, so
 * refresh, rotation, introspection, revocation and forced logout treat them like any other.
 */
export function registerPasswordGrant(provider: Provider, deps: PasswordGrantDeps): void {
  const { users, hasher, throttle, consents, audit } = deps;

  async function handler(ctx: TokenEndpointGrantContext<PasswordParams>): Promise<void> {
    const { client, params } = ctx.oidc;
    const login = typeof params.username === 'string' ? params.username : '';
    const password = typeof params.password === 'string' ? params.password : '';
    if (!login || !password) throw new errors.InvalidRequest('username and password are required');
    if (login.length > MAX_LOGIN_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new errors.InvalidGrant('invalid username or password');
    }
    const ip = ctx.ip;
    const scope = requestedScope(params.scope, client.scope);

    try {
      await throttle.attempt(ip, login);
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      audit?.({ outcome: 'locked', clientId: client.clientId, ip });
      // RFC 6749 §5.2 has no "slow down" code for this endpoint: answer invalid_grant (what
      // every client library handles as "sign-in failed") and say when to try again.
      ctx.set('Retry-After', String(error.retryAfterSeconds));
      throw new errors.InvalidGrant('too many sign-in attempts; try again later');
    }
    const user = await users.findByLogin(login);
    // Verify against a decoy hash for unknown users, so time and answer are the same.
    const passwordOk = await hasher.verify(user?.passwordHash, password);
    if (!user || !passwordOk || user.disabled) {
      await throttle.failed(login);
      audit?.({ outcome: 'failure', clientId: client.clientId, ip });
      throw new errors.InvalidGrant('invalid username or password');
    }
    await throttle.succeeded(login);
    if (hasher.needsRehash(user.passwordHash)) await users.setPassword(user.id, password);

    const account = await provider.Account.findAccount(ctx, user.id);
    if (!account) throw new errors.InvalidGrant('invalid username or password');
    ctx.oidc.entity('Account', account);

    // One grant per account and client, as for the code flow: forced logout and consent
    // withdrawal find it through the consent index and revoke everything issued under it.
    const grant = await findOrCreateGrant(provider, consents, user.id, client.clientId);
    grant.addOIDCScope(scope.join(' '));
    await grant.save();
    ctx.oidc.entity('Grant', grant);

    const authTime = Math.floor(Date.now() / 1000);
    const at = new provider.AccessToken({
      accountId: user.id,
      client,
      expiresWithSession: false,
      grantId: grant.jti,
      gty: GRANT_TYPE,
    });
    at.scope = grant.getOIDCScopeFiltered(new Set(scope));
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    // The same policy as the hub's issueRefreshToken: a refresh token when the client may refresh.
    let refreshToken: string | undefined;
    if (client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: user.id,
        amr: ['pwd'],
        authTime,
        client,
        expiresWithSession: false,
        grantId: grant.jti,
        gty: GRANT_TYPE,
        rotations: 0,
        scope: at.scope,
      });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    let idToken: string | undefined;
    if (scope.includes('openid')) {
      const claims = await account.claims('id_token', at.scope ?? 'openid', {}, []);
      const token = new provider.IdToken({ ...claims, amr: ['pwd'], auth_time: authTime }, { ctx });
      token.scope = at.scope ?? 'openid';
      idToken = await token.issue({ use: 'idtoken' });
    }

    audit?.({ outcome: 'success', clientId: client.clientId, ip, userId: user.id });
    ctx.body = {
      access_token: accessToken,
      token_type: at.tokenType,
      expires_in: at.expiration,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: at.scope ?? '',
      ...(idToken ? { id_token: idToken } : {}),
    };
  }

  provider.registerGrantType(GRANT_TYPE, handler, ['username', 'password', 'scope']);
}

/** The requested scopes, all registered for the client; none asked means all it has, less offline_access. */
function requestedScope(requested: string | undefined, registered: string | undefined): string[] {
  const allowed = new Set((registered ?? '').split(' ').filter(Boolean));
  if (!requested) return [...allowed].filter((scope) => scope !== 'offline_access');
  const scopes = [...new Set(requested.split(' ').filter(Boolean))];
  const missing = scopes.filter((scope) => !allowed.has(scope));
  if (missing.length > 0) throw new errors.InvalidScope('requested scope is not allowed for this client', missing.join(' '));
  return scopes;
}

async function findOrCreateGrant(provider: Provider, consents: ConsentIndex, accountId: string, clientId: string) {
  const grantId = await consents.find(accountId, clientId);
  const existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (existing && existing.accountId === accountId && existing.clientId === clientId) return existing;
  return new provider.Grant({ accountId, clientId });
}
