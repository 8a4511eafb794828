import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import Router from 'oidc-provider/lib/helpers/router.js';
import providerStorage from 'oidc-provider/lib/helpers/als.js';
import { startTestHub, type RunningHub } from '../testing/test-hub.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { constructWithSharedOidcGetter } from './shared-oidc-getter.js';

/** No development interaction pages (and no warning printed for them). */
const QUIET = { features: { devInteractions: { enabled: false } } };

const getterOf = (ctx: object) => Object.getOwnPropertyDescriptor(ctx, 'oidc')?.get;

/** Serves a provider and records, for each request, the `ctx.oidc` getter and what the route saw. */
async function serve(provider: Provider): Promise<{ server: Server; url: string; seen: { getter: unknown; route: unknown }[] }> {
  const seen: { getter: unknown; route: unknown }[] = [];
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    seen.push({ getter: getterOf(ctx), route: ctx.oidc?.route });
  });
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('ctx.oidc with one getter for every request (shared-oidc-getter.ts)', () => {
  describe('in the hub', () => {
    let hub: RunningHub;
    const getters: unknown[] = [];
    const contexts: boolean[] = [];
    beforeAll(async () => {
      hub = await startTestHub('memory');
      ProtocolHooks.of(hub.services.provider).after(undefined, (ctx) => {
        getters.push(getterOf(ctx));
      });
      ProtocolHooks.of(hub.services.provider).after(['discovery'], (ctx) => {
        contexts.push(ctx.oidc.provider === hub.services.provider);
      });
    });
    afterAll(() => hub.close());

    it('every request gets the same getter (oidc-provider alone makes a new one per request, and every request is promoted whole)', async () => {
      for (const path of ['/.well-known/openid-configuration', '/jwks', '/.well-known/openid-configuration']) {
        const answer = await fetch(`${hub.url}${path}`);
        expect(answer.status).toBe(200);
      }
      const discovery = (await (await fetch(`${hub.url}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(hub.url);
      expect(getters).toHaveLength(4);
      expect(typeof getters[0]).toBe('function');
      expect(new Set(getters).size).toBe(1);
      expect(contexts).toEqual([true, true, true]);
    });
  });

  describe('around a provider of its own', () => {
    let shared: Awaited<ReturnType<typeof serve>>;
    let plain: Awaited<ReturnType<typeof serve>>;
    let replaced = 0;
    beforeAll(async () => {
      const built = constructWithSharedOidcGetter(() => new Provider('http://shared.test', QUIET));
      replaced = built.replaced;
      shared = await serve(built.provider);
      plain = await serve(new Provider('http://plain.test', QUIET));
    });
    afterAll(async () => {
      for (const { server } of [shared, plain]) await new Promise((resolve) => server.close(resolve));
    });

    it('replaces oidc-provider’s middleware on every route it registers (a version that renames it shows 0 here)', () => {
      expect(replaced).toBeGreaterThanOrEqual(10);
    });

    it('a route runs as before: the same lazily made context, inside oidc-provider’s request context', async () => {
      const stores: unknown[] = [];
      class RecordingAdapter {
        async find(): Promise<undefined> {
          stores.push(providerStorage.getStore());
          return undefined;
        }
        async upsert(): Promise<void> {}
        async findByUid(): Promise<undefined> { return undefined; }
        async findByUserCode(): Promise<undefined> { return undefined; }
        async consume(): Promise<void> {}
        async destroy(): Promise<void> {}
        async revokeByGrantId(): Promise<void> {}
      }
      const built = constructWithSharedOidcGetter(() => new Provider('http://context.test', { ...QUIET, adapter: RecordingAdapter as never }));
      const contexts: { same: boolean; ctx: unknown }[] = [];
      built.provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
        await next();
        contexts.push({ same: ctx.oidc === ctx.oidc && ctx.oidc.provider === built.provider && ctx.oidc.route === 'token', ctx });
      });
      const server = createServer(built.provider.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const answer = await fetch(`${url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&client_id=nobody&client_secret=nothing',
        });
        expect(answer.status).toBe(401);
        expect(((await answer.json()) as { error: string }).error).toBe('invalid_client');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      expect(contexts).toHaveLength(1);
      expect(contexts[0]!.same).toBe(true);
      // The client lookup ran inside the request's context, as with oidc-provider's own middleware.
      expect(stores.length).toBeGreaterThan(0);
      expect(stores.every((store) => store === contexts[0]!.ctx)).toBe(true);
    });

    it('requests share one getter; a provider built without it still makes one per request', async () => {
      for (const { url } of [shared, plain]) {
        for (const path of ['/.well-known/openid-configuration', '/jwks']) expect((await fetch(`${url}${path}`)).status).toBe(200);
      }
      expect(shared.seen.map(({ route }) => route)).toEqual(['discovery', 'jwks']);
      expect(shared.seen[0]!.getter).toBe(shared.seen[1]!.getter);
      expect(plain.seen.map(({ route }) => route)).toEqual(['discovery', 'jwks']);
      expect(plain.seen[0]!.getter).not.toBe(plain.seen[1]!.getter);
    });

    it('each request gets the context of the provider that owns it, also when the constructor built two', async () => {
      let first: Provider | undefined;
      const { provider: second } = constructWithSharedOidcGetter(() => {
        first = new Provider('http://first.test', QUIET);
        return new Provider('http://second.test', QUIET);
      });
      for (const [provider, issuer] of [[first!, 'http://first.test'], [second, 'http://second.test']] as const) {
        const served = await serve(provider);
        try {
          const discovery = (await (await fetch(`${served.url}/.well-known/openid-configuration`)).json()) as { issuer: string };
          expect(discovery.issuer).toBe(issuer);
        } finally {
          await new Promise((resolve) => served.server.close(resolve));
        }
      }
    });

    it('puts the router back after the constructor, and after a constructor that throws', () => {
      const methods = ['get', 'post', 'put', 'delete', 'options'] as const;
      const before = methods.map((method) => (Router.prototype as Record<string, unknown>)[method]);
      expect(() => constructWithSharedOidcGetter(() => new Provider('not a url'))).toThrow();
      expect(methods.map((method) => (Router.prototype as Record<string, unknown>)[method])).toEqual(before);
      constructWithSharedOidcGetter(() => new Provider('http://again.test', QUIET));
      expect(methods.map((method) => (Router.prototype as Record<string, unknown>)[method])).toEqual(before);
    });
  });
});
