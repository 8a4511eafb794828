import type Provider from 'oidc-provider';
import { ProtocolHooks } from './protocol-hooks.js';

/**
 * RFC 7662 §2.2: a token the server does not recognise is answered `{"active": false}`.
 * oidc-provider answers a JWT-shaped string (an ID token, a forged JWS) with
 * `400 unsupported_token_type` instead (an error code RFC 7662 does not have), which a resource
 * server's library may take for a failure of the introspection endpoint rather than a dead token.
 */
export function installInactiveIntrospection(provider: Provider): void {
  ProtocolHooks.of(provider).after(['introspection'], (ctx) => {
    const body = ctx.body as { error?: unknown } | undefined;
    if (ctx.status !== 400 || body?.error !== 'unsupported_token_type') return;
    ctx.status = 200;
    ctx.body = { active: false };
    ctx.set('Cache-Control', 'no-store');
  });
}
