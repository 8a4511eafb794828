import type { EventEmitter } from 'node:events';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { ProtocolHooks } from '../oidc/protocol-hooks.js';
import { CONCURRENT_USE_EVENT } from '../oidc/redemption.js';
import { requestIdOf } from '../request-context.js';
import type { AuditLog, NewAuditEntry } from './audit-log.js';

/** The account a token request acted for, if any (client_credentials has none). */
function accountOf(ctx: KoaContextWithOIDC): string | undefined {
  const { entities } = ctx.oidc;
  return entities.Account?.accountId ?? entities.AccessToken?.accountId ?? entities.RefreshToken?.accountId ?? entities.Grant?.accountId;
}

/**
 * The client a revoked grant was given to. A sign-out revokes every grant of the hub session (one
 * per site it signed in to) in one request, whose own client is the signing-out site or none: the
 * session's authorizations say whose each grant is. Elsewhere (a reused refresh token or code, a
 * revocation) the grant is the requesting client's.
 */
function grantClientOf(ctx: KoaContextWithOIDC, grantId: string): string | undefined {
  const authorizations = ctx.oidc?.session?.authorizations;
  for (const [clientId, authorization] of Object.entries(authorizations ?? {})) {
    if (authorization?.grantId === grantId) return clientId;
  }
  return ctx.oidc?.client?.clientId;
}

/**
 * Audits what the protocol engine does: tokens issued (`grant.success`), grants revoked,
 * tokens revoked at the revocation endpoint, sessions ended at the end-session endpoint.
 * Only ids and the grant type are kept; never a token or a code.
 */
export function auditProvider(provider: Provider, audit: AuditLog): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    // Every token issued passes here: the entry is built without spreads.
    const account = accountOf(ctx);
    const entry: NewAuditEntry = { event: 'token.issued', ip: ctx.ip, detail: { grant_type: String(ctx.oidc.params?.grant_type ?? '') } };
    if (account) entry.actor = entry.subject = account;
    if (ctx.oidc.client) entry.client = ctx.oidc.client.clientId;
    audit.recordLater(entry);
  });
  // Two requests redeemed one code or refresh token at once: one got tokens, the other
  // invalid_grant (for a refresh token nothing is revoked: two tabs of one user do this). A thief
  // racing the real client does it too: on record, with the account, the client and the address.
  // (The hub's own event: oidc-provider's types name only its own, the emitter takes any.)
  (provider as unknown as EventEmitter).on(CONCURRENT_USE_EVENT, (ctx: KoaContextWithOIDC, revoked: boolean) => {
    const account = accountOf(ctx);
    const entry: NewAuditEntry = { event: 'token.concurrent-use', ip: ctx.ip, detail: { grant_type: String(ctx.oidc.params?.grant_type ?? ''), revoked } };
    if (account) entry.actor = entry.subject = account;
    if (ctx.oidc.client) entry.client = ctx.oidc.client.clientId;
    audit.recordLater(entry);
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const account = ctx.oidc?.session?.accountId ?? accountOf(ctx);
    const client = grantClientOf(ctx, grantId);
    void audit.record({
      event: 'grant.revoked',
      ...(account ? { subject: account } : {}),
      ...(client ? { client } : {}),
      ip: ctx.ip,
      detail: { grant: grantId, route: ctx.oidc?.route ?? '' },
    });
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const account = ctx.oidc.session?.accountId;
    void audit.record({
      event: 'logout',
      ...(account ? { actor: account, subject: account } : {}),
      ...(ctx.oidc.client ? { client: ctx.oidc.client.clientId } : {}),
      ip: ctx.ip,
    });
  });
  // RFC 7009 answers 200 whether or not the token existed; record the request of a client.
  ProtocolHooks.of(provider).after(['revocation'], (ctx) => {
    if (ctx.status !== 200) return;
    // After the route, outside oidc-provider's request context: the request id is taken from the request.
    const requestId = requestIdOf(ctx.req);
    void audit.record({
      event: 'token.revoked',
      ...(ctx.oidc.client ? { actor: ctx.oidc.client.clientId, client: ctx.oidc.client.clientId } : {}),
      ...(requestId ? { requestId } : {}),
      ip: ctx.ip,
      // A public client's revocations can be sent by anyone: they go to the attempt log.
      detail: { token_type_hint: String(ctx.oidc.params?.token_type_hint ?? ''), ...(ctx.oidc.client?.clientAuthMethod === 'none' ? { client_auth: 'none' } : {}) },
    });
  });
}
