import type { AuditLog } from '../audit/audit-log.js';
import type { ClientRegistry } from '../clients/client-registry.js';
import { serverFetch } from '../http/server-fetch.js';
import type { Logger } from '../logger.js';
import type { SigningAlg } from '../secrets/secrets.js';
import { backoffDelay, outcomeOf, type Backoff, type DeliveryItem, type DeliveryKind } from './delivery.js';
import { withoutUserinfo, type Admission, type Claim, type DeliveryQueue } from './delivery-queue.js';
import type { DeliveryTokens } from './delivery-tokens.js';
import { DELIVERY_ERRORS, gaveUpText } from './delivery-errors.js';
import { answerReason } from './answer-reason.js';

export interface DeliveryWorkerOptions {
  backoff: Backoff;
  /** How often to look for due items when nothing wakes the worker, in milliseconds. */
  pollMs: number;
  /** How long one delivery request may take, in milliseconds. */
  timeoutMs: number;
  /** Items delivered in parallel per round. */
  batch?: number;
  /**
   * Deliveries to one client in flight at once in this process (default: a quarter of
   * `batch`; the hub passes DELIVERY_PER_SUBSITE): a subsite that never answers holds at
   * most these slots, not every slot.
   */
  perClient?: number;
  /**
   * How long an item may keep being retried, in seconds from when it was enqueued; past
   * that, an attempt that would be retried fails it for good (the admin can still retry it).
   */
  maxAgeSeconds?: number;
  /** Kinds delivered by another module (UCenter notes): where they go and how one attempt is made. */
  senders?: Partial<Record<DeliveryKind, DeliverySender>>;
}

/** The outcome of one attempt. `refused`: answered 2xx but not with what the kind calls success (retried). */
export interface AttemptResult {
  status?: number;
  retryAfter: number;
  error?: string;
  unsendable?: boolean;
  refused?: boolean;
}

/** Delivers one kind its own way (its target from its own registry, its own request). */
export interface DeliverySender {
  target(item: DeliveryItem): Promise<string | undefined>;
  attempt(item: DeliveryItem, url: string, timeoutMs: number): Promise<AttemptResult>;
}

const DEFAULT_BATCH = 20;
/**
 * A client whose oldest delivery in flight here started this long ago is slow, in milliseconds:
 * its items past its cap are deferred by a timeout rather than walked past in every round.
 * A healthy subsite answers well within it, so a bulk to it is only skipped, its slots freeing
 * within milliseconds.
 */
const SLOW_AFTER_MS = 1_000;
export const DEFAULT_MAX_AGE_SECONDS = 7 * 86_400;

/**
 * What is kept of a thrown error, on the item and in the audit log: its name and its
 * cause's code (`TypeError (ECONNREFUSED)`, `TimeoutError`), never its message, which may
 * hold the URL and its user name and password.
 */
export function errorSummary(thrown: unknown): string {
  // Duck-typed: fetch's errors may come from another realm.
  const failure = thrown as { name?: unknown; cause?: { code?: unknown } } | null | undefined;
  const name = typeof failure?.name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(failure.name) ? failure.name : 'Error';
  const code = failure?.cause?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? `${name} (${code})` : name;
}

/** Where the item goes now, from the client's current registration. */
function targetOf(item: DeliveryItem, client: { userdeleteUrl?: string; backchannelLogoutUri?: string } | undefined): string | undefined {
  if (!client) return undefined;
  return item.kind === 'userdelete' ? client.userdeleteUrl : client.backchannelLogoutUri;
}

/** IMF-fixdate (RFC 9110 §5.6.7), the form a server must send: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * A `Retry-After` in milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3;
 * a subsite in maintenance may send either); junk and dates in the past count as none.
 */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  const text = value?.trim() ?? '';
  if (/^\d{1,6}$/.test(text)) return Number(text) * 1000;
  if (HTTP_DATE.test(text)) return Math.max(0, Date.parse(text) - now);
  return 0;
}

/** `HTTP 503`, with the subsite's own reason where its answer gave one: `HTTP 503 (temporarily_unavailable: …)`. */
function httpError(status: number, reason: string | undefined): string {
  return reason ? `HTTP ${status} (${reason})` : `HTTP ${status}`;
}

const PAGE_START = /^\s*<(?:!doctype\s+html|html)[\s>]/i;

/**
 * Whether a 2xx answer to a userdelete is an HTML page (`text/html` whose body starts as a
 * document does): a page of the site, not a userdelete handler's answer (the kit answers JSON,
 * the protocol's PHP example nothing). A subsite whose route is not mounted behind a catch-all
 * (a front controller, a single-page app's server) answers every POST so; counted as delivered,
 * the user it was about stayed signed in there (a delivery review).
 */
function isHtmlPage(contentType: string | null, body: ArrayBuffer | undefined): boolean {
  if (!body || !/^\s*text\/html\b/i.test(contentType ?? '')) return false;
  return PAGE_START.test(Buffer.from(body, 0, Math.min(body.byteLength, 1024)).toString('latin1'));
}

/**
 * Delivers the queue: a timer loop in each hub process (started by `main`, not by the app,
 * so tests and the CLI decide when it runs). Each round claims due items (a per-item lease,
 * so processes share the work without delivering one item twice at once), POSTs them with
 * a freshly signed token, and records the outcome: delivered on 2xx, retried with
 * exponential backoff and jitter on 408/429/5xx or no answer, failed for good on another 4xx,
 * on a request that cannot be built (a bad URL), or once the item is older than `maxAgeSeconds`.
 *
 * At most `batch` deliveries are in flight at once, and each finishes on its own: a round
 * claims only as many items as there are free slots and does not wait for the deliveries it
 * started, and a finished delivery wakes the worker. So a subsite that hangs until the
 * request's timeout holds one slot, not every other subsite's notices (before, a round waited
 * for all its deliveries, and a forced logout enqueued meanwhile waited up to `timeoutMs`).
 */
export class DeliveryWorker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #unsubscribe: (() => void) | undefined;
  /** Deliveries started by the timer loop and not finished yet. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Of those, when each started, per client (oldest first). */
  readonly #startedPerClient = new Map<string, number[]>();
  /** Clients whose last attempt from this process got no answer (a timeout, no connection). */
  readonly #unanswered = new Set<string>();

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly tokens: DeliveryTokens,
    private readonly clients: ClientRegistry,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly options: DeliveryWorkerOptions,
  ) {}

  start(): void {
    if (this.#started) return;
    this.#started = true;
    // A new or retried item is delivered at once, not at the next poll.
    this.#unsubscribe = this.queue.onDue(() => this.#wake());
    this.#schedule(0);
  }

  /** Stops polling and waits for the round in progress and every delivery in flight to finish. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    await this.#running;
    await Promise.all([...this.#inFlight]);
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#wake(), delayMs);
    this.#timer.unref();
  }

  #wake(): void {
    if (!this.#started) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#round()
      .catch((error: unknown) => this.logger.warn('delivery round failed', { error: errorSummary(error) }))
      .finally(() => {
        this.#running = undefined;
        const again = this.#again;
        this.#again = false;
        this.#schedule(again ? 0 : this.options.pollMs);
      });
  }

  /**
   * A round of the timer loop: claims what is due for the free slots and starts delivering it,
   * without waiting. A client holds at most `perClient` slots: its further due items are left
   * due, and the walk takes the next items of other clients. Before, a subsite that accepted
   * connections and never answered ended up holding every slot, each for the request's
   * timeout, its retries staying ahead of newer items in due order: every other subsite's
   * notices went out at 4 a second (an outside review: 200 deletions took 98 s to reach the
   * healthy subsites, and a later one over 20 s).
   *
   * A slow client's items past its cap are deferred by `timeoutMs` (its slots will not free
   * sooner), so they leave the head of the due list and the next rounds do not read them
   * again; a fast client's are only skipped (deferring them would slow a bulk to a healthy
   * subsite to one batch per timeout).
   */
  async #round(): Promise<void> {
    const batch = this.options.batch ?? DEFAULT_BATCH;
    const free = batch - this.#inFlight.size;
    if (free <= 0) return; // the next delivery to finish wakes the worker
    const perClient = this.options.perClient ?? Math.max(1, Math.ceil(batch / 4));
    const now = Date.now();
    // Counted from leases taken (in flight here, claimed in this walk), not from items admitted:
    // an admitted item leased by another process, or by a dead one, takes no slot.
    const admit = ({ clientId }: DeliveryItem, claimed: number): Admission => {
      if ((this.#startedPerClient.get(clientId)?.length ?? 0) + claimed < perClient) return 'claim';
      return this.#slow(clientId, now) ? 'defer' : 'skip';
    };
    const claims = await this.queue.claimDue(free, now, { admit, deferMs: this.options.timeoutMs });
    for (const claim of claims) {
      const { clientId } = claim.item;
      const startedAt = Date.now();
      const started = this.#startedPerClient.get(clientId) ?? [];
      started.push(startedAt);
      this.#startedPerClient.set(clientId, started);
      const delivery = this.#deliver(claim).finally(() => {
        this.#inFlight.delete(delivery);
        started.splice(started.indexOf(startedAt), 1);
        if (started.length === 0 && this.#startedPerClient.get(clientId) === started) this.#startedPerClient.delete(clientId);
        this.#wake(); // a slot is free: more may be due
      });
      this.#inFlight.add(delivery);
    }
    if (claims.length === free) this.#again = true;
  }

  /** Whether a client's deliveries here are slow: its oldest in flight started over {@link SLOW_AFTER_MS} ago, or its last attempt got no answer. */
  #slow(clientId: string, now: number): boolean {
    if (this.#unanswered.has(clientId)) return true;
    const oldest = this.#startedPerClient.get(clientId)?.[0];
    return oldest !== undefined && now - oldest > SLOW_AFTER_MS;
  }

  /** One round, waited for (tests and tools that deliver by hand): claims what is due and delivers it. @returns how many items were attempted. */
  async runOnce(): Promise<number> {
    const claims = await this.queue.claimDue(this.options.batch ?? DEFAULT_BATCH);
    await Promise.all(claims.map((claim) => this.#deliver(claim)));
    if (claims.length === (this.options.batch ?? DEFAULT_BATCH)) this.#again = true;
    return claims.length;
  }

  async #deliver(claim: Claim): Promise<void> {
    const { item } = claim;
    const now = Date.now();
    const attempt = { attempts: item.attempts + 1, lastAttemptAt: now };
    try {
      // From the store, not the cache: a client registered a moment ago in another process is no reason to give up.
      const sender = this.options.senders?.[item.kind];
      const client = sender ? undefined : await this.clients.findUncached(item.clientId);
      const url = sender ? await sender.target(item) : targetOf(item, client);
      if (!url) {
        const failed = await this.queue.failed(claim, { ...attempt, lastError: DELIVERY_ERRORS.clientGone });
        return this.#audit('delivery.failed', failed);
      }
      if (!sender && item.clientGeneration !== undefined && client?.generation !== item.clientGeneration) {
        // Queued for a client since removed: its id now names another registration (another site).
        const failed = await this.queue.failed(claim, { ...attempt, lastError: DELIVERY_ERRORS.clientReplaced });
        return this.#audit('delivery.failed', failed);
      }
      const { status, retryAfter, error, unsendable, refused } = sender ? await sender.attempt(item, url, this.options.timeoutMs) : await this.#attempt(item, url, client?.idTokenSignedResponseAlg);
      // No answer at all (not an error status): the client's items past its cap are deferred.
      if (status !== undefined) this.#unanswered.delete(item.clientId);
      else if (!unsendable) this.#unanswered.add(item.clientId);
      const change = {
        ...attempt,
        url: withoutUserinfo(url),
        ...(status !== undefined ? { lastStatus: status } : {}),
        ...(error ? { lastError: error } : {}),
      };
      // The outcome of this attempt replaces the previous one's.
      const { lastStatus: _lastStatus, lastError: _lastError, ...previous } = item;
      const fresh: Claim = { ...claim, item: previous };
      // A request that cannot even be built (a bad URL) will not get better by waiting.
      const outcome = unsendable ? 'failed' : refused ? 'retry' : outcomeOf(status);
      switch (outcome) {
        case 'delivered':
          return this.#audit('delivery.delivered', await this.queue.delivered(fresh, change));
        case 'failed':
          return this.#audit('delivery.failed', await this.queue.failed(fresh, change));
        case 'retry': {
          const maxAgeMs = (this.options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
          if (Date.now() - item.createdAt >= maxAgeMs) {
            // Retried for long enough: failed for good, listed for the admin (who may retry it).
            const gaveUp = { ...change, lastError: gaveUpText(error, attempt.attempts) };
            return this.#audit('delivery.failed', await this.queue.failed(fresh, gaveUp));
          }
          const { backoff } = this.options;
          const delay = Math.min(Math.max(backoffDelay(attempt.attempts, backoff), retryAfter), Math.max(backoff.maxMs, backoff.baseMs));
          return this.#audit('delivery.retry', await this.queue.reschedule(fresh, change, Date.now() + delay));
        }
      }
    } catch (error) {
      // The store failed mid-way: the lease runs out and the item is picked up again.
      this.logger.warn('delivery could not be recorded', { id: item.id, error: errorSummary(error) });
    }
  }

  /**
   * One POST. `unsendable` when the request could not be built at all (an invalid URL, one
   * with a user name or password, a scheme other than http(s)): nothing went out.
   * `idTokenAlg`: the client's ID token algorithm, read with its URL at this attempt.
   */
  async #attempt(item: DeliveryItem, url: string, idTokenAlg: SigningAlg | undefined): Promise<AttemptResult> {
    let token: string;
    try {
      token = await this.tokens.sign(item, idTokenAlg);
    } catch (thrown) {
      // The hub's own key, not the item: worth retrying.
      return { retryAfter: 0, error: errorSummary(thrown) };
    }
    let request: Request;
    try {
      request = this.#request(item, url, token);
    } catch (thrown) {
      return { retryAfter: 0, error: errorSummary(thrown), unsendable: true };
    }
    try {
      const response = await serverFetch(request);
      const body = await response.arrayBuffer().catch(() => undefined);
      const { status } = response;
      if (item.kind === 'userdelete' && outcomeOf(status) === 'delivered' && isHtmlPage(response.headers.get('content-type'), body)) {
        return { status, retryAfter: 0, refused: true, error: DELIVERY_ERRORS.htmlPage };
      }
      return {
        status,
        retryAfter: retryAfterMs(response.headers.get('retry-after')),
        ...(outcomeOf(status) !== 'delivered' ? { error: httpError(status, answerReason(response.headers.get('content-type'), body)) } : {}),
      };
    } catch (thrown) {
      // No answer: the cause names the network error (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, ...).
      return { retryAfter: 0, error: errorSummary(thrown) };
    }
  }

  #request(item: DeliveryItem, url: string, token: string): Request {
    const init: RequestInit =
      item.kind === 'backchannel-logout'
        ? // OIDC Back-Channel Logout 1.0 §2.5: a form-encoded logout_token.
          { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }).toString() }
        : { headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' };
    const request = new Request(url, { ...init, method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs) });
    const { protocol } = new URL(request.url);
    if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError('unsupported URL scheme');
    return request;
  }

  #audit(event: 'delivery.delivered' | 'delivery.retry' | 'delivery.failed', item: DeliveryItem): Promise<void> {
    return this.audit.record({
      event,
      actor: 'system',
      subject: item.sub,
      client: item.clientId,
      detail: {
        kind: item.kind,
        id: item.id,
        attempts: item.attempts,
        ...(item.lastStatus !== undefined ? { status: item.lastStatus } : {}),
        ...(event !== 'delivery.delivered' && item.lastError ? { error: item.lastError } : {}),
      },
    });
  }
}
