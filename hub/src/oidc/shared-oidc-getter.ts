import type Provider from 'oidc-provider';
import Router from 'oidc-provider/lib/helpers/router.js';
import providerStorage from 'oidc-provider/lib/helpers/als.js';

type Middleware = (ctx: object, next: () => Promise<unknown>) => unknown;
type RouterMethod = (this: unknown, name: string, path: string, ...middleware: Middleware[]) => unknown;

const METHODS = ['get', 'post', 'put', 'delete', 'options'] as const;
/** The name of the middleware oidc-provider 9 puts first on every route (lib/helpers/initialize_app.js). */
const ENSURE_OIDC = 'ensureOIDC';
const OIDC = Symbol('sso-hub.oidcContext');

/**
 * Builds a provider whose routes define `ctx.oidc` with ONE getter shared by every request,
 * instead of oidc-provider's new arrow function per request.
 *
 * oidc-provider's `ensureOIDC` runs `Object.defineProperty(ctx, 'oidc', { get: () => … })` on
 * every protocol request. V8 cannot share a hidden-class transition between accessors of
 * different functions, and each request's context ends up kept from the old generation until
 * the next mark-compact: every request is promoted whole (7–9 KB a token request, 12–14 KB a
 * refresh, on Node 20; docs/performance.md, "GC on the token endpoints"). The replacement does
 * what the original does (the same lazily made `OIDCContext`, the same request context), with
 * the context kept under a symbol on `ctx` and one getter function.
 *
 * It is applied while the provider is constructed (oidc-provider registers its routes in its
 * constructor, through its own Router): the Router's registration methods are wrapped for that
 * call only and put back. If a version of oidc-provider no longer names the middleware
 * `ensureOIDC`, nothing is replaced and the provider works as it ships; `replaced` says so (a
 * test pins it), and nothing else changes.
 */
export function constructWithSharedOidcGetter(construct: () => Provider): { provider: Provider; replaced: number } {
  // The provider that owns the request is its koa app (oidc-provider's Provider extends Koa), as
  // `this` is in the original: right even if `construct` built more than one provider.
  function oidcGetter(this: { app: Provider; [OIDC]?: unknown }): unknown {
    return (this[OIDC] ??= new this.app.OIDCContext(this as never));
  }
  const ensureOidc: Middleware = (ctx, next) => {
    Object.defineProperty(ctx, 'oidc', { get: oidcGetter });
    return providerStorage.run(ctx, next);
  };

  const prototype = Router.prototype as unknown as Record<(typeof METHODS)[number], RouterMethod>;
  const originals = METHODS.map((method) => [method, prototype[method]] as const);
  let replaced = 0;
  for (const [method, original] of originals) {
    prototype[method] = function register(name, path, ...middleware) {
      const stack = middleware.map((fn) => {
        if (fn.name !== ENSURE_OIDC) return fn;
        replaced += 1;
        return ensureOidc;
      });
      return original.call(this, name, path, ...stack);
    };
  }
  try {
    return { provider: construct(), replaced };
  } finally {
    for (const [method, original] of originals) prototype[method] = original;
  }
}
