import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { decodeJwt } from 'jose';
import type { Logger } from '../logger.js';
import { ProtocolHooks } from './protocol-hooks.js';

/** oidc-provider's end-session endpoint (its routing ignores case). */
const END_SESSION_PATH = /^\/session\/end\/?$/i;

/** The client a sign-out names: `client_id`, else the audience of `id_token_hint` (read, not trusted: oidc-provider checks the hint). */
function clientIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const { client_id: clientId, id_token_hint: hint } = ctx.query;
  if (typeof clientId === 'string' && clientId) return clientId;
  if (typeof hint !== 'string' || !hint) return undefined;
  try {
    const { aud, azp } = decodeJwt(hint);
    if (typeof azp === 'string') return azp;
    return typeof aud === 'string' ? aud : Array.isArray(aud) && typeof aud[0] === 'string' ? aud[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A site's sign-out (RP-initiated logout) that names a `post_logout_redirect_uri` its client did
 * not register: oidc-provider refuses the whole request with a 400 page. The site has ended its
 * own session by then, so the user stayed signed in at the hub and at every other site (an
 * outside review: a site registered in the console without a post-logout URI). The unregistered
 * target is dropped instead, never redirected to: the sign-out goes on as one without a target
 * (the hub's confirmation, then its signed-out page), and the hub logs the value that came, for
 * the site's developer. A target that is registered, or a request that names no client, is
 * oidc-provider's to judge as before.
 */
export function installPostLogoutTargetCheck(provider: Provider, logger: Logger): void {
  const check = async (ctx: KoaContextWithOIDC, target: string): Promise<boolean> => {
    const clientId = clientIdOf(ctx);
    if (!clientId) return true;
    let client: Awaited<ReturnType<Provider['Client']['find']>>;
    try {
      client = await provider.Client.find(clientId);
    } catch {
      return true; // the store failed: oidc-provider's own read of the client answers it (503)
    }
    // oidc-provider's own matching: exact, or for a native app any port on the loopback (RFC 8252).
    if (!client || client.postLogoutRedirectUriAllowed(target)) return true;
    const params = new URLSearchParams(ctx.querystring);
    params.delete('post_logout_redirect_uri');
    params.delete('state'); // only ever returned with the target
    ctx.querystring = params.toString();
    logger.warn('sign-out target not registered: signed out without it', { client_id: clientId, post_logout_redirect_uri: target.slice(0, 500) });
    return true;
  };
  ProtocolHooks.of(provider).before((ctx) => {
    if (ctx.method !== 'GET' || !END_SESSION_PATH.test(ctx.path)) return true;
    const target = ctx.query.post_logout_redirect_uri;
    return typeof target === 'string' ? check(ctx, target) : true;
  });
}
