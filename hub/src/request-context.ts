import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Where a request's id is kept on the request itself (for code that has the request, not the context). */
const REQUEST_ID = Symbol('sso-hub.requestId');

type WithRequestId = IncomingMessage & { [REQUEST_ID]?: string };

/** A caller's `X-Request-Id` is kept when it is a plain token (a proxy's id); else a fresh one. */
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * The request being answered where the hub's own context is not set: protocol requests run in
 * oidc-provider's request context only (see {@link withRequestContext}), and the provider
 * module registers how to find the request in it.
 */
let currentRequestOutsideContext: () => IncomingMessage | undefined = () => undefined;

export function setRequestSource(source: () => IncomingMessage | undefined): void {
  currentRequestOutsideContext = source;
}

/** The id of the request being answered (for audit entries and log lines), if any. */
export function currentRequestId(): string | undefined {
  const context = storage.getStore();
  if (context) return context.requestId;
  const req = currentRequestOutsideContext();
  return req ? requestIdOf(req) : undefined;
}

/** The id given to `req` by {@link withRequestContext}. */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as WithRequestId)[REQUEST_ID];
}

/**
 * Gives the request an id (from `X-Request-Id` when a proxy set a sane one, else new), echoed
 * in the response header and reaching every audit entry written while answering it, and runs
 * `next` with it. With `ownContext` (the portal, everything express answers) `next` runs in
 * the hub's request context; without it (protocol requests) the id is only kept on the request,
 * and oidc-provider's own request context leads to it: a second AsyncLocalStorage would cost
 * every promise of every token request a second context to carry.
 */
export function withRequestContext(req: IncomingMessage, res: ServerResponse, next: (requestId: string) => void, options: { ownContext: boolean } = { ownContext: true }): void {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SAFE_ID.test(offered) ? offered : randomUUID();
  res.setHeader('x-request-id', requestId);
  (req as WithRequestId)[REQUEST_ID] = requestId;
  if (options.ownContext) storage.run({ requestId }, () => next(requestId));
  else next(requestId);
}
