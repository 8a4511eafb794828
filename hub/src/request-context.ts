import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** A caller's `X-Request-Id` is kept when it is a plain token (a proxy's id); else a fresh one. */
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The id of the request being answered (for audit entries and log lines), if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/**
 * Runs `next` inside the request's context: a request id (from `X-Request-Id` when a
 * proxy set a sane one, else new) that is echoed in the response header and reaches every
 * audit entry written while answering it.
 */
export function withRequestContext(req: IncomingMessage, res: ServerResponse, next: (requestId: string) => void): void {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SAFE_ID.test(offered) ? offered : randomUUID();
  res.setHeader('x-request-id', requestId);
  storage.run({ requestId }, () => next(requestId));
}
