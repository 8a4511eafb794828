import { AsyncLocalStorage } from 'node:async_hooks';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Provider from 'oidc-provider';
import providerStorage from 'oidc-provider/lib/helpers/als.js';
import { carryRequestId, currentRequestHandle, currentRequestId, currentRequestScope, requestIdOf, requestScopeOf, SHARES_PROVIDER_STORAGE, withRequestContext } from './request-context.js';

function request(headers: Record<string, string> = {}): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  Object.assign(req.headers, headers);
  return { req, res: new ServerResponse(req) };
}

/** What oidc-provider's storage really holds, past the view the hub gives oidc-provider of it. */
const rawStore = () => AsyncLocalStorage.prototype.getStore.call(providerStorage);

test('on an async_hooks storage (Node 20, 22) a portal request\'s context lives in oidc-provider\'s storage (one storage in the process, not two) and oidc-provider is shown none', async () => {
  // An async_hooks storage (Node 20, 22 without --experimental-async-context-frame) has `_propagate`: shared there.
  expect(SHARES_PROVIDER_STORAGE).toBe(typeof (providerStorage as unknown as { _propagate?: unknown })._propagate === 'function');
  const { req, res } = request({ 'x-request-id': 'proxy-portal-0001' });
  let seen: { raw: unknown; provider: unknown; id: string | undefined; later: string | undefined } | undefined;
  await new Promise<void>((resolve) => {
    withRequestContext(req, res, () => {
      seen = { raw: rawStore(), provider: Provider.ctx, id: currentRequestId(), later: undefined };
      // Carried across awaits and timers like any context.
      setTimeout(() => void Promise.resolve().then(() => { seen!.later = currentRequestId(); resolve(); }), 1);
    });
  });
  // Before: the hub's own AsyncLocalStorage held it, this one nothing (as on Node 24, where that costs nothing).
  expect(seen?.raw === undefined).toBe(!SHARES_PROVIDER_STORAGE);
  expect(seen?.provider).toBeUndefined(); // oidc-provider sees no koa context of its own in a portal request
  expect(seen?.id).toBe('proxy-portal-0001');
  expect(seen?.later).toBe('proxy-portal-0001');
  expect(res.getHeader('x-request-id')).toBe('proxy-portal-0001');
  expect(currentRequestId()).toBeUndefined(); // outside any request
});

test('a protocol request gets no context of the hub\'s: its id is found through the koa context oidc-provider makes', () => {
  const { req, res } = request({ 'x-request-id': 'bad id with spaces' });
  let id: string | undefined;
  withRequestContext(req, res, (requestId) => {
    expect(rawStore()).toBeUndefined();
    id = requestId;
    providerStorage.run({ req }, () => expect(currentRequestId()).toBe(requestId));
  }, { ownContext: false });
  expect(id).toMatch(/^[0-9a-f-]{36}$/); // an unsafe offered id is replaced
  expect(requestIdOf(req)).toBe(id);
});

test('a protocol request the hub makes inside a portal request (the CAS adapters) carries the outer request\'s id', () => {
  const outer = request({ 'x-request-id': 'proxy-cas-00001' });
  const inner = request().req; // what internalRequest() builds: a new IncomingMessage
  withRequestContext(outer.req, outer.res, () => {
    // oidc-provider's context for the inner request replaces the portal's (one storage on Node 20/22).
    providerStorage.run({ req: inner }, () => {
      expect(Provider.ctx).toEqual({ req: inner }); // oidc-provider sees its own context there
      carryRequestId(inner, outer.req);
      expect(currentRequestId()).toBe('proxy-cas-00001');
    });
    expect(currentRequestId()).toBe('proxy-cas-00001'); // the portal's context again after it
  });
});

test('currentRequestScope: the request being answered, one object per request, and nothing once its answer has ended (work it started that outlives it sees none)', async () => {
  const first = request();
  const second = request();
  const seen: unknown[] = [];
  await new Promise<void>((resolve) => {
    withRequestContext(first.req, first.res, () => {
      seen.push(currentRequestScope());
      setTimeout(() => {
        seen.push(currentRequestScope()); // still answering: the same object
        first.res.end();
        seen.push(currentRequestScope()); // answered: a timer it left behind sees no request
        resolve();
      }, 1);
    });
  });
  withRequestContext(second.req, second.res, () => seen.push(currentRequestScope()));
  expect(seen[0]).toBeDefined();
  expect(seen[1]).toBe(seen[0]);
  expect(seen[2]).toBeUndefined();
  expect(seen[3]).toBeDefined();
  expect(seen[3]).not.toBe(seen[0]);
  expect(currentRequestScope()).toBeUndefined(); // outside any request

  // A protocol request: oidc-provider's koa context, while its answer is open.
  const protocol = request();
  const ctx = { req: protocol.req, res: protocol.res };
  withRequestContext(protocol.req, protocol.res, () => {
    providerStorage.run(ctx, () => {
      expect(currentRequestScope()).toBe(ctx);
      protocol.res.end();
      expect(currentRequestScope()).toBeUndefined();
    });
  }, { ownContext: false });
});

test('currentRequestHandle, resolved by requestScopeOf, is currentRequestScope at the time it is resolved (what the store takes per command, resolving it only when needed)', async () => {
  expect(requestScopeOf(currentRequestHandle())).toBeUndefined(); // outside any request
  const portal = request();
  let handle: unknown;
  withRequestContext(portal.req, portal.res, () => {
    handle = currentRequestHandle();
    expect(requestScopeOf(handle)).toBe(currentRequestScope());
    expect(requestScopeOf(handle)).toBeDefined();
  });
  expect(requestScopeOf(handle)).toBeDefined(); // resolved later, outside its context: still the request while it is answered
  portal.res.end();
  expect(requestScopeOf(handle)).toBeUndefined(); // answered: no scope

  const protocol = request();
  const ctx = { req: protocol.req, res: protocol.res };
  withRequestContext(protocol.req, protocol.res, () => {
    providerStorage.run(ctx, () => {
      const taken = currentRequestHandle();
      expect(requestScopeOf(taken)).toBe(ctx);
      protocol.res.end();
      expect(requestScopeOf(taken)).toBeUndefined();
    });
  }, { ownContext: false });
});
