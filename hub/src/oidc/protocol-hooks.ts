import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Runs before oidc-provider handles the request; `false` when it has answered (the request stops there). */
export type BeforeHook = (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>;
/** Runs after oidc-provider answered a request of its routes (`ctx.oidc.route`). */
export type AfterHook = (ctx: KoaContextWithOIDC) => void | Promise<void>;
/** Given an error that left oidc-provider unanswered, answers it and says `true`, or `false` to let it through. */
export type RecoverHook = (ctx: KoaContextWithOIDC, error: unknown) => boolean;

/**
 * The hub's additions around oidc-provider's endpoints, as ONE koa middleware instead of one
 * `provider.use` each: every protocol request used to run eight async middlewares (and
 * their promises), most of them only to check that the route was not theirs. Hooks keep
 * the order koa would give them as separate middlewares: `before` hooks in the order they
 * were added, `after` hooks in reverse order (the last added is the innermost), and only
 * those registered for the request's route run.
 */
export class ProtocolHooks {
  static readonly #of = new WeakMap<Provider, ProtocolHooks>();

  /** The hooks of a provider; the first call puts their one middleware where `provider.use` would. */
  static of(provider: Provider): ProtocolHooks {
    let hooks = ProtocolHooks.#of.get(provider);
    if (!hooks) ProtocolHooks.#of.set(provider, (hooks = new ProtocolHooks(provider)));
    return hooks;
  }

  readonly #before: BeforeHook[] = [];
  readonly #after: { routes: ReadonlySet<string> | undefined; hook: AfterHook }[] = [];
  readonly #recover: RecoverHook[] = [];

  private constructor(provider: Provider) {
    provider.use((ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => this.#run(ctx, next));
  }

  before(hook: BeforeHook): void {
    this.#before.push(hook);
  }

  /**
   * `routes`: oidc-provider route names (`token`, `authorization`, ...); omitted: every request.
   * An after-hook runs once oidc-provider's route has returned, outside its request context:
   * `currentRequestId()` finds nothing there, so an audit entry written by one passes the id
   * itself (`requestIdOf(ctx.req)`, as the revocation audit does).
   */
  after(routes: readonly string[] | undefined, hook: AfterHook): void {
    this.#after.push({ routes: routes ? new Set(routes) : undefined, hook });
  }

  /**
   * For errors that escape oidc-provider's own error handling, or a hook's: oidc-provider saves
   * a touched session after the route's error handler has run (`ensureSessionSave` wraps every
   * route), so a failure there would reach koa's default handler, a bare 500. Recover hooks run
   * in the order they were added; the first that answers ends the request.
   */
  recover(hook: RecoverHook): void {
    this.#recover.push(hook);
  }

  // Hooks mostly answer at once (a header set, a route that is not theirs): their results are
  // awaited only when they are promises, so a request does not pay a microtask per hook.
  async #run(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    try {
      for (const hook of this.#before) {
        const go = hook(ctx);
        if (!(typeof go === 'boolean' ? go : await go)) return;
      }
      await next();
      const route = ctx.oidc?.route;
      for (let i = this.#after.length - 1; i >= 0; i -= 1) {
        const { routes, hook } = this.#after[i]!;
        if (routes === undefined || (route !== undefined && routes.has(route))) {
          const done = hook(ctx);
          if (done) await done;
        }
      }
    } catch (error) {
      // A hook's failure too (the store down in a before-hook, an after-hook that threw):
      // koa's default would answer a bare 500 and print the stack raw.
      for (const recover of this.#recover) if (recover(ctx, error)) return;
      throw error;
    }
  }
}
