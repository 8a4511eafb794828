import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import providerStorage from 'oidc-provider/lib/helpers/als.js';

/**
 * The context of a request express answers (the portal, the CAS and UCenter adapters): an object
 * branded with a registered symbol, so that a second copy of this module in one process (the
 * sources through tsx beside hub/dist) still recognises it.
 */
const PORTAL = Symbol.for('sso-hub.portalContext');
interface PortalContext {
  readonly [PORTAL]: true;
  readonly requestId: string;
  /**
   * The answer: per-request state ({@link currentRequestScope}) is read only until it has ended.
   * Weakly held: a timer or resource first made inside a portal request keeps this context for
   * its own life, and must not keep the request's response and socket with it.
   */
  readonly res: WeakRef<ServerResponse>;
}

function isPortalContext(store: unknown): store is PortalContext {
  return typeof store === 'object' && store !== null && PORTAL in store;
}

if (!(providerStorage instanceof AsyncLocalStorage)) {
  // A guard for oidc-provider upgrades: the request ids would silently vanish from audit entries.
  throw new Error('oidc-provider/lib/helpers/als.js is no longer an AsyncLocalStorage: update hub/src/request-context.ts');
}

/**
 * Whether every enabled storage costs every promise of the process a propagation: Node 20 and
 * 22's AsyncLocalStorage, built on async_hooks (it has `_propagate`). There the portal's context
 * lives in oidc-provider's own storage instead of a second one (a token request makes 100–350
 * promises: about 1.5–3 % of its CPU, docs/performance.md), and oidc-provider's `getStore()` is
 * shown `undefined` for it, as before. (Their `run()` restores the outer store by itself, not
 * through `getStore()`.) Node 24's frame-based storage carries every storage in one frame, so
 * there the hub keeps a storage of its own and changes nothing of oidc-provider's.
 */
export const SHARES_PROVIDER_STORAGE = typeof (providerStorage as unknown as { _propagate?: unknown })._propagate === 'function';

const storage: AsyncLocalStorage<unknown> = SHARES_PROVIDER_STORAGE ? providerStorage : new AsyncLocalStorage<unknown>();
/** The storage's own `getStore`, past the view oidc-provider is given. */
const rawStore: () => unknown = AsyncLocalStorage.prototype.getStore.bind(storage);
const PATCHED = Symbol.for('sso-hub.getStoreHidesPortal');
if (SHARES_PROVIDER_STORAGE && !(PATCHED in storage)) {
  Object.defineProperty(storage, PATCHED, { value: true });
  storage.getStore = () => {
    const store = rawStore();
    return isPortalContext(store) ? undefined : store;
  };
}

/** Where a request's id is kept on the request itself (for code that has the request, not the context). */
const REQUEST_ID = Symbol.for('sso-hub.requestId');

type WithRequestId = IncomingMessage & { [REQUEST_ID]?: string };

/** A caller's `X-Request-Id` is kept when it is a plain token (a proxy's id); else a fresh one. */
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * The id of the request being answered (for audit entries and log lines), if any: a portal
 * request's own context, else the request of oidc-provider's context (a protocol request).
 */
export function currentRequestId(): string | undefined {
  const store = rawStore();
  if (isPortalContext(store)) return store.requestId;
  const ctx = (SHARES_PROVIDER_STORAGE ? store : providerStorage.getStore()) as { req?: IncomingMessage } | undefined;
  return ctx?.req ? requestIdOf(ctx.req) : undefined;
}

/**
 * The request being answered, as an object to key per-request state by (the portal's context,
 * or oidc-provider's for a protocol request), until its answer has ended; then, and outside any
 * request, undefined. Work started from a request that lives past its answer (an audit batch, a
 * delivery) still runs in its context: it must not see state meant for the request itself (the
 * store's stall mark, store/stall-watch.ts).
 */
export function currentRequestScope(): object | undefined {
  return requestScopeOf(currentRequestHandle());
}

/**
 * What {@link currentRequestScope} is found from, cheap enough to take for every store command:
 * the async context's own object (the portal's context, or oidc-provider's), unresolved. Turned
 * into the scope by {@link requestScopeOf}, when it is needed (store/stall-watch.ts).
 */
export function currentRequestHandle(): unknown {
  const store = rawStore();
  return SHARES_PROVIDER_STORAGE || isPortalContext(store) ? store : providerStorage.getStore();
}

/** The scope of a request from what {@link currentRequestHandle} took: the request, until its answer has ended; then undefined. */
export function requestScopeOf(handle: unknown): object | undefined {
  if (isPortalContext(handle)) return handle.res.deref()?.writableEnded === false ? handle : undefined;
  const ctx = handle as { res?: ServerResponse } | undefined;
  return ctx?.res && !ctx.res.writableEnded ? ctx : undefined;
}

/**
 * Whether the client of the request {@link currentRequestHandle} was taken in has gone: its
 * connection closed (the browser left, a proxy gave up) before its answer was sent. Outside a
 * request, or once the answer was sent, false.
 */
export function clientGoneOf(handle: unknown): boolean {
  const res = isPortalContext(handle) ? handle.res.deref() : (handle as { res?: ServerResponse } | undefined)?.res;
  return res !== undefined && res.destroyed && !res.writableFinished;
}

/**
 * Gives a request the hub makes itself from an outer one (the CAS adapters' calls into the
 * protocol engine) the outer one's id: oidc-provider's context for it leads to the inner
 * request, and its audit entries must carry the id of the request that was sent.
 */
export function carryRequestId(to: IncomingMessage, from: IncomingMessage): void {
  const id = requestIdOf(from);
  if (id !== undefined) (to as WithRequestId)[REQUEST_ID] = id;
}

/** The id given to `req` by {@link withRequestContext}. */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as WithRequestId)[REQUEST_ID];
}

/**
 * Gives the request an id (from `X-Request-Id` when a proxy set a sane one, else new), echoed
 * in the response header and reaching every audit entry written while answering it, and runs
 * `next` with it. With `ownContext` (the portal, everything express answers) `next` runs in a
 * context of its own; without it (protocol requests) the id is only kept on the request, and
 * the context oidc-provider makes for the request leads to it.
 */
export function withRequestContext(req: IncomingMessage, res: ServerResponse, next: (requestId: string) => void, options: { ownContext: boolean } = { ownContext: true }): void {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SAFE_ID.test(offered) ? offered : randomUUID();
  res.setHeader('x-request-id', requestId);
  (req as WithRequestId)[REQUEST_ID] = requestId;
  if (options.ownContext) storage.run({ [PORTAL]: true, requestId, res: new WeakRef(res) } satisfies PortalContext, () => next(requestId));
  else next(requestId);
}
