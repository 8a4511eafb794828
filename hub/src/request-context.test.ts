import { AsyncLocalStorage } from 'node:async_hooks';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Provider from 'oidc-provider';
import providerStorage from 'oidc-provider/lib/helpers/als.js';
import { currentRequestId, requestIdOf, withRequestContext } from './request-context.js';

function request(headers: Record<string, string> = {}): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  Object.assign(req.headers, headers);
  return { req, res: new ServerResponse(req) };
}

/** What oidc-provider's storage really holds, past the view the hub gives oidc-provider of it. */
const rawStore = () => AsyncLocalStorage.prototype.getStore.call(providerStorage);

test('a portal request\'s context lives in oidc-provider\'s storage (one storage in the process, not two) and oidc-provider is shown none', async () => {
  const { req, res } = request({ 'x-request-id': 'proxy-portal-0001' });
  let seen: { raw: unknown; provider: unknown; id: string | undefined; later: string | undefined } | undefined;
  await new Promise<void>((resolve) => {
    withRequestContext(req, res, () => {
      seen = { raw: rawStore(), provider: Provider.ctx, id: currentRequestId(), later: undefined };
      // Carried across awaits and timers like any context.
      setTimeout(() => void Promise.resolve().then(() => { seen!.later = currentRequestId(); resolve(); }), 1);
    });
  });
  expect(seen?.raw).toBeDefined(); // before: the hub's own AsyncLocalStorage held it, this one nothing
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
