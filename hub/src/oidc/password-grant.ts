import Provider, { errors, type TokenEndpointGrantContext } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import { TooManyAttemptsError } from '../errors.js';
import { amrFor, type SecondFactor, type TwoStepService } from '../two-step/two-step-service.js';
import type { PasswordCheck } from '../users/password-check.js';
import type { UserRepository } from '../users/user-repository.js';
import { createFindAccount } from './account.js';
import { TemporarilyUnavailableAnswer } from './temporarily-unavailable.js';

const GRANT_TYPE = 'password';
const MAX_LOGIN_LENGTH = 320; // the portal's sign-in form takes as much
const MAX_PASSWORD_LENGTH = 1024; // bounds the hashing work a request can ask for
/** Audit entries say the sign-in came through the token endpoint, not the portal's form. */
const PASSWORD_DETAIL = { grant_type: GRANT_TYPE };
/** One answer for an unknown name, a wrong password and a disabled account. */
const BAD_CREDENTIALS = 'invalid username or password';

export interface PasswordGrantDeps {
  users: UserRepository;
  /** The password check shared with the portal and UCenter (throttle, decoy hash, verification gate, rehash). */
  check: PasswordCheck;
  audit: AuditLog;
  twoStep: TwoStepService;
}

type PasswordParams = { username?: string; password?: string; scope?: string; otp?: string };

/** The answer for an account with two-step sign-in and no `otp` parameter: the client can ask its user for the code. */
export const OTP_REQUIRED = 'two-step sign-in is on for this account: send the current code from the authenticator app (or a recovery code) as the otp parameter';
const OTP_WRONG = 'the otp code is not right, or it was used already';

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
  const { users, check, audit, twoStep } = deps;
  // The provider's own account lookup (a disabled or deleted user has no account).
  const findAccount = createFindAccount(users);

  async function handler(ctx: TokenEndpointGrantContext<PasswordParams>): Promise<void> {
    const { client, params } = ctx.oidc;
    // Registered clients cannot combine the two; this guards records written before that rule.
    if (client.clientAuthMethod === 'none') throw new errors.UnauthorizedClient('the password grant is not available to public clients');
    const login = typeof params.username === 'string' ? params.username : '';
    const password = typeof params.password === 'string' ? params.password : '';
    if (!login || !password) throw new errors.InvalidRequest('username and password are required');
    if (login.length > MAX_LOGIN_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw invalidGrant(BAD_CREDENTIALS);
    }
    const ip = ctx.ip;
    const scope = requestedScope(params.scope, client.scope);

    // Username and e-mail of one user share one failure count (as at the portal).
    const found = await users.findByLogin(login);
    // No device cookie at the token endpoint: throttled per account and IP, with growing delays.
    // Whether a second step follows is read while the success is counted (one wait, as at the portal).
    const outcome = await check.check({ login, user: found, password, ip, via: 'app', twoStep: 'with-success' });
    switch (outcome.kind) {
      case 'throttled':
        await audit.record({ event: 'login.throttled', actor: login, client: client.clientId, ip, detail: PASSWORD_DETAIL });
        // RFC 6749 §5.2 has no "slow down" code for this endpoint: answer invalid_grant (what
        // every client library handles as "sign-in failed") and say when to try again.
        ctx.set('Retry-After', String(outcome.retryAfter));
        throw invalidGrant('too many sign-in attempts; try again later');
      case 'busy':
        // Not checked (too many checks waiting): no failure (the attempt was given back).
        ctx.set('Retry-After', String(outcome.retryAfter));
        // 503 temporarily_unavailable: the client tries again rather than telling its user the password was wrong.
        throw new TemporarilyUnavailableAnswer('the sign-in service is busy; try again shortly');
      case 'wrong':
        await audit.record({ event: 'login.failure', actor: login, ...(outcome.user ? { subject: outcome.user.id } : {}), client: client.clientId, ip, detail: PASSWORD_DETAIL });
        throw invalidGrant(BAD_CREDENTIALS);
      case 'unverified':
        // Said only after the right password, as at the portal.
        await audit.record({ event: 'login.unverified', actor: outcome.user.id, subject: outcome.user.id, client: client.clientId, ip, detail: PASSWORD_DETAIL });
        throw invalidGrant('the e-mail address of this account is not verified yet');
      case 'gone':
        // Removed a moment ago (an unverified sign-up past its days): unknown.
        await audit.record({ event: 'login.failure', actor: login, subject: outcome.user.id, client: client.clientId, ip, detail: PASSWORD_DETAIL });
        throw invalidGrant(BAD_CREDENTIALS);
      case 'ok':
        break;
    }
    const { user } = outcome;

    // Two-step sign-in applies here too: the password alone is not enough (documented in README).
    let factor: SecondFactor | undefined;
    if (outcome.secondStep) {
      const otp = typeof params.otp === 'string' ? params.otp : '';
      if (!otp) {
        await audit.record({ event: 'login.password', actor: user.id, subject: user.id, client: client.clientId, ip, detail: { ...PASSWORD_DETAIL, next: 'two-step' } });
        throw invalidGrant(OTP_REQUIRED);
      }
      try {
        // Per account and IP, as the password: an application carries no device cookie.
        factor = await twoStep.verifyThrottled({ ip, account: user.id, via: 'app' }, otp);
      } catch (error) {
        if (!(error instanceof TooManyAttemptsError)) throw error;
        await audit.record({ event: 'login.throttled', actor: user.id, subject: user.id, client: client.clientId, ip, detail: { ...PASSWORD_DETAIL, step: 'two-step' } });
        ctx.set('Retry-After', String(error.retryAfterSeconds));
        throw invalidGrant('too many sign-in attempts; try again later');
      }
      if (!factor) {
        await audit.record({ event: 'login.failure', actor: user.id, subject: user.id, client: client.clientId, ip, detail: { ...PASSWORD_DETAIL, step: 'two-step' } });
        throw invalidGrant(OTP_WRONG);
      }
    }
    const amr = amrFor(factor);

    const account = await findAccount(ctx, user.id);
    if (!account) throw invalidGrant(BAD_CREDENTIALS);
    ctx.oidc.entity('Account', account);

    // One grant per account and client, as for the code flow: forced logout and consent
    // withdrawal find it through the consent index and revoke everything issued under it.
    const grant = newGrant(provider, user.id, client.clientId);
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
        amr,
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
      const token = new provider.IdToken({ ...claims, amr, auth_time: authTime }, { ctx });
      // What oidc-provider's own grants set before issuing: the scope the claims are filtered by.
      Object.assign(token, { scope: at.scope ?? 'openid', mask: {}, rejected: [] });
      idToken = await token.issue({ use: 'idtoken' });
    }

    await audit.record({ event: 'login.success', actor: user.id, subject: user.id, client: client.clientId, ip, detail: { ...PASSWORD_DETAIL, ...(factor ? { second_factor: factor } : {}) } });
    ctx.body = {
      access_token: accessToken,
      token_type: at.tokenType,
      expires_in: at.expiration,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: at.scope ?? '',
      ...(idToken ? { id_token: idToken } : {}),
    };
  }

  provider.registerGrantType(GRANT_TYPE, handler, ['username', 'password', 'scope', 'otp']);
}

/** invalid_grant with a description of our own (oidc-provider's InvalidGrant keeps a fixed one). */
function invalidGrant(description: string): Error {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
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

/** A grant of its own for this sign-in, like a browser sign-in session gets (never shared with other devices). */
function newGrant(provider: Provider, accountId: string, clientId: string) {
  return new provider.Grant({ accountId, clientId });
}
