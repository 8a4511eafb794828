import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Keys } from '../store/keys.js';
import { PROCESS_CLOCK, type Clock } from '../store/store-clock.js';
import { seal, unseal } from './answer-box.js';
import { TemporarilyUnavailableAnswer } from './temporarily-unavailable.js';
import { STORE_RETRY_AFTER, StoreUnavailableError, type Store, type WriteOp } from '../store/store.js';

/**
 * How long a claim whose request has not finished keeps other redemptions out, in
 * milliseconds. Shorter than the Retry-After of a 503 (5 s), so a client that waits as told
 * finds the claim of its failed attempt lapsed. A request still running past it can no
 * longer commit (its commit is a compare-and-set), so there is never a second winner.
 */
export const LEASE_MS = 3_000;

/** How often a redemption that waits for a concurrent one reads the claim again, in milliseconds. */
const SETTLE_POLL_MS = 25;

/** How long past the lease a waiting redemption keeps waiting, in milliseconds (the holder's commit in flight). */
const SETTLE_MARGIN_MS = 250;

/** Claims lost to yet another redemption before this one gives up with a 503 (many retries at once). */
const MAX_CLAIM_ROUNDS = 3;

/** How much earlier than a waiting request's read a `done` mark must be to make it a reuse rather than a concurrent duplicate, in milliseconds. */
const REUSE_MARGIN_MS = 1_000;

/** How long the answer of a committed redemption can be handed to a retry, in milliseconds. */
export const REPLAY_WINDOW_MS = 60_000;

/**
 * The claim of a code or refresh token, one key beside the record:
 * - `pending`: a request is redeeming it (owner `o`, since `t`);
 * - `issued`: that request issued tokens; `r` is its answer, encrypted with a key derived
 *   from the code or token itself (which the store never holds), replayable until `u`; the
 *   request is answering since `c` (its commit; claims from before `c` existed: `u` less the
 *   replay window), and a lease from then keeps others waiting for it, as for `pending`;
 * - `done`: the answer went out (or the redemption failed for good), marked by process `p`: any
 *   further use is a reuse, but for a refresh token redeemed at once in another process (see `consumedAt`).
 */
type Claim = { s: 'pending'; o: string; t: number } | { s: 'issued'; o: string; t: number; r: string; u: number; c?: number } | { s: 'done'; t: number; p?: string };

/** This process, in the `done` marks it makes (`p`; marks from before it name none). */
const PROCESS = randomUUID();

/**
 * The `issued` claim's text, as `JSON.stringify` would write it, joined without scanning the
 * sealed answer (about 1.5 KB) for characters to escape: `o` is a UUID, `r` base64url with a
 * prefix of letters and a dot, the rest numbers.
 */
function issuedClaim(o: string, t: number, r: string, u: number, c: number): string {
  return `{"s":"issued","o":"${o}","t":${t},"r":"${r}","u":${u},"c":${c}}`;
}

function parseClaim(raw: string | null): Claim | undefined {
  if (raw === null) return undefined;
  // Claims written before this format were the consumption time in seconds.
  if (/^\d+$/.test(raw)) return { s: 'done', t: Number(raw) * 1000 };
  return JSON.parse(raw) as Claim;
}

/** One redemption inside one token request. */
interface Attempt {
  claimKey: string;
  /** The record's key, which leaves its grant's index once spent. */
  recordKey: string;
  /** The code or refresh token as presented: the key of its recorded answer. */
  secret: string;
  grantId: string | undefined;
  /** Seconds the claim is kept: as long as the record, so a reuse is recognised. */
  ttl: number;
  /** The claim as `find` read it. */
  seen: string | null;
  /** Our own pending claim, once written (or maybe written). */
  mine?: string;
  /** An earlier attempt's committed answer, to answer this retry with. */
  replay?: Record<string, unknown>;
  /** When this request started reading the claim (ms, the shared clock: see {@link Redemptions.now}). */
  readAt: number;
}

/**
 * Another request marked the recorded answer delivered first (the committing request, or a
 * retry): this one, a concurrent duplicate, gets invalid_grant. Thrown from the claim, so the
 * adapter revokes nothing: the tokens went to the client.
 */
class DeliveredElsewhere extends errors.InvalidGrant {
  constructor() {
    super('grant request is invalid');
  }
}

/** The provider event of two token requests redeeming one code or refresh token at once: `(ctx, revoked: boolean)`. */
export const CONCURRENT_USE_EVENT = 'hub:redemption.concurrent_use';

/** Thrown inside the grant handler to stop it issuing anew; the middleware answers with the recorded tokens. */
class RecordedAnswer extends errors.InvalidGrant {
  constructor() {
    super('grant request is invalid');
  }
}


const UNAVAILABLE_DESCRIPTION = 'The sign-in service is temporarily unavailable. Please try again shortly.';

/**
 * Claims kept being taken by other redemptions while this one waited (many retries of one
 * request at once): the hub's 503 for a store that is down, not invalid_grant and no revocation.
 */
class ClaimPending extends TemporarilyUnavailableAnswer {
  constructor() {
    super(UNAVAILABLE_DESCRIPTION);
  }
}

/**
 * Single use of authorization codes and refresh tokens that is safe to retry.
 *
 * oidc-provider checks `consumed` on a read made before it consumes, so the store's claim
 * (a compare-and-set) is what lets exactly one of several concurrent redemptions through.
 * A 503 invites a retry, so a request that fails after claiming must not leave the code
 * used up (and the retry must not be taken for a reuse, which revokes the grant):
 * - the claim is `pending` until the request commits its answer; a request that fails
 *   releases its claim, and a claim whose request died lapses after {@link LEASE_MS};
 *   until then another redemption (an early retry, a concurrent request) waits for it, then
 *   takes the claim over, or gets invalid_grant with nothing revoked where the other request
 *   spent it (two tabs refreshing at once: one gets tokens, neither loses them; before, the
 *   other got a 503 whose retry was a reuse that revoked the winner's tokens);
 * - the commit records the answer (encrypted), and the committing request marks the claim
 *   `done` once its answer has gone out; if the commit's reply was lost, or the process died or
 *   the connection closed before the answer went out, the client's retry gets that same answer
 *   back, once (the request that marks it `done` first, a compare-and-set, answers with it);
 * - a request that comes while the committing one is still answering waits for it (the claim's
 *   lease from the commit), then gets invalid_grant as any concurrent duplicate;
 * - once the claim is `done`, any further use is a reuse.
 */
export class Redemptions {
  readonly #attempts = new WeakMap<object, Map<string, Attempt>>();
  /** Writes of the tokens a token request issues under its claim, sent with the commit (see {@link defer}). */
  readonly #deferred = new WeakMap<object, { ops: WriteOp[]; written: (() => void)[] }>();

  /**
   * `clock`: the store's clock as this process reads it (store-clock.ts). Every time a claim
   * carries, and every time compared with one, is on it: claims are written and read by every
   * hub process, whose own clocks may be seconds apart.
   */
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly clock: Clock = PROCESS_CLOCK,
  ) {}

  /** Now on the clock claims are dated by (the adapter's read of a claim is timed with it). */
  now(): number {
    return this.clock.now();
  }

  static #tokenRequest(): KoaContextWithOIDC | undefined {
    const ctx = Provider.ctx;
    return ctx?.oidc?.route === 'token' ? ctx : undefined;
  }

  /**
   * What `find` reports as `consumed` (epoch seconds) for a record with this claim, and,
   * inside a token request, remembers what was read for the `consume` that may follow.
   */
  consumedAt(recordKey: string, claimKey: string, secret: string, claimRaw: string | null, record: { grantId?: unknown }, ttl: number, readAt = this.clock.now(), model?: string): number | undefined {
    const claim = parseClaim(claimRaw);
    const ctx = Redemptions.#tokenRequest();
    if (ctx) {
      let attempts = this.#attempts.get(ctx);
      if (!attempts) this.#attempts.set(ctx, (attempts = new Map()));
      attempts.set(claimKey, { claimKey, recordKey, secret, ttl, seen: claimRaw, grantId: typeof record.grantId === 'string' ? record.grantId : undefined, readAt });
    }
    if (!claim) return undefined;
    const now = this.clock.now();
    // A pending claim is no use yet: `claim` takes it over once its request died (lease over)
    // and answers 503 before that. An answer not yet delivered may be replayed.
    if (ctx && claim.s === 'pending') return undefined;
    if (ctx && claim.s === 'issued' && now < claim.u) return undefined;
    // A refresh token that another process marked delivered just before this request read it:
    // the other request of a pair sent at once (two tabs behind a load balancer), which that
    // process answered first. `claim` answers this one as the concurrent duplicate it is
    // (invalid_grant, nothing revoked), as it answers one that waited for the other; reported as
    // consumed, oidc-provider would revoke the grant, the winner's tokens with it (an outside
    // review: 15 of 70 such pairs across two replicas, none of 20 on one). On one process the
    // second request of a pair reads the first's claim while it is pending and waits, so a mark
    // of this process stays a reuse however recent (a replay right after the answer is one);
    // the margin covers the read in flight and what is left of two processes' clock difference
    // (both read the store's clock), as for a request that waited.
    // Bounded both ways: a mark dated well after this read comes from a clock running ahead, and
    // taking it for "just now" would spare every later reuse within that lead (a thief's chain).
    if (ctx && claim.s === 'done' && model === 'RefreshToken' && claim.p !== undefined && claim.p !== PROCESS && Math.abs(readAt - claim.t) <= REUSE_MARGIN_MS) return undefined;
    return Math.floor(claim.t / 1000);
  }

  /**
   * Claims the code or token for this request. Inside a token request it waits for a concurrent
   * redemption that holds the claim (pending, or issued and still answering; at most its lease),
   * then claims what that one released or left to lapse; where that one delivered it, a refresh
   * token throws {@link DeliveredElsewhere} (invalid_grant, nothing revoked) and a code answers
   * `won` false (a reuse: revoked), and a delivery marked well before this request read the claim
   * is a reuse either way (`won` false). A request that finds an answer recorded and nobody
   * answering with it (a retry of one whose answer was lost) gets it, once. A 503 only when the store fails or claims keep being lost. Outside a token request the claim is
   * final at once: one atomic step beside the record (which must still be there); `won` false
   * there is a reuse (the caller revokes `grantId`).
   */
  async claim(claimKey: string, recordKey: string, fallbackTtl: number, model?: string): Promise<{ won: boolean; grantId?: string }> {
    const ctx = Redemptions.#tokenRequest();
    const attempt = ctx ? this.#attempts.get(ctx)?.get(claimKey) : undefined;
    if (!attempt) {
      const { record, claimed } = await this.store.claimBeside(claimKey, this.#done(), recordKey, fallbackTtl);
      const grantId = record ? ((JSON.parse(record) as { grantId?: unknown }).grantId as string | undefined) : undefined;
      if (claimed) await this.#spent(recordKey, grantId);
      return { won: claimed, ...(grantId ? { grantId } : {}) };
    }
    // Another request holds the claim, pending: a concurrent redemption (two tabs, two workers),
    // or this client's earlier attempt whose release failed. This one waits until that request
    // settles (at most its lease) and goes on from what it left: a committed answer, a spent
    // code, a released or lapsed claim.
    // One local deadline for every wait of this request: a holder's `t` comes from another
    // process's clock, and one running ahead would keep its claim looking leased for longer.
    const deadline = Date.now() + LEASE_MS + SETTLE_MARGIN_MS;
    let waited = false;
    if (this.#leased(parseClaim(attempt.seen))) {
      attempt.seen = await this.#untilSettled(claimKey, attempt.seen, deadline);
      waited = true;
    }
    for (let round = 0; ; round += 1) {
      const seen = parseClaim(attempt.seen);
      // Delivered by the request this one waited for or raced (it came while that one was still
      // running, so it is no retry of a lost answer), or still being answered by it when this
      // one's wait ran out. A refresh token: a concurrent duplicate (two tabs), not a reuse found
      // later: invalid_grant, and nothing is revoked, the other request's tokens stand. An
      // authorization code is the client's alone and used once: a second redemption is a reuse
      // (RFC 6749 §4.1.2), and what was issued is revoked. Either way it is on record (a thief
      // racing the real client looks the same).
      // Marked delivered well before this request read the claim (it found the mark not yet
      // written: another process's store connection, and waited): a use after the answer went
      // out, a reuse like any later one (oidc-provider revokes those it finds `consumed`; this
      // one is revoked here, and on record). The margin covers the two processes' clocks and
      // the read in flight: inside it, the request is taken for a concurrent duplicate (below),
      // which revokes nothing.
      if (seen?.s === 'done' && seen.t < attempt.readAt - REUSE_MARGIN_MS) {
        this.#concurrentUse(ctx!, true);
        return { won: false, ...(attempt.grantId ? { grantId: attempt.grantId } : {}) };
      }
      // Also a refresh token found marked a moment ago without waiting (see consumedAt).
      if (seen?.s === 'done' || (waited && seen?.s === 'issued' && this.#leased(seen))) {
        this.#concurrentUse(ctx!, model === 'AuthorizationCode');
        if (model === 'AuthorizationCode') return { won: false, ...(attempt.grantId ? { grantId: attempt.grantId } : {}) };
        throw new DeliveredElsewhere();
      }
      if (seen?.s === 'issued') {
        // Recorded, and the request that committed it never said it went out (it died, or its
        // connection closed first, or it answered 503): this is the client's retry. The answer
        // goes out once: to whichever request marks it delivered first.
        if (!(await this.#markDone(attempt, attempt.seen!))) {
          this.#concurrentUse(ctx!, false);
          throw new DeliveredElsewhere();
        }
        attempt.replay = unseal(attempt.secret, seen.r);
        throw new RecordedAnswer();
      }
      // Released, lapsed, or not claimed yet: this request claims it.
      const mine = JSON.stringify({ s: 'pending', o: randomUUID(), t: this.clock.now() });
      // Set before the write: a write that stalls may still land, and must then be released.
      attempt.mine = mine;
      if (await this.store.swap(claimKey, attempt.seen, mine, attempt.ttl)) return { won: true, ...(attempt.grantId ? { grantId: attempt.grantId } : {}) };
      delete attempt.mine;
      // Claimed by another redemption since it was read: wait for that one, as above.
      if (round >= MAX_CLAIM_ROUNDS) this.#pending(ctx!);
      attempt.seen = await this.#untilSettled(claimKey, await this.store.get(claimKey), deadline);
      waited = true;
    }
  }

  /**
   * The claim once no request holds it pending inside its lease, read again every
   * {@link SETTLE_POLL_MS}; past `deadline` as it stands (a claim still pending then is taken
   * over by compare-and-set: there is still one winner, and a request past its lease cannot commit).
   */
  async #untilSettled(claimKey: string, raw: string | null, deadline: number): Promise<string | null> {
    let current = raw;
    while (this.#leased(parseClaim(current)) && Date.now() < deadline) {
      await delay(SETTLE_POLL_MS);
      current = await this.store.get(claimKey);
    }
    return current;
  }

  /**
   * Whether a request holds the claim inside its lease: pending (it may still commit), or
   * issued and still answering (it marks the answer delivered once the answer has gone out).
   */
  #leased(claim: Claim | undefined): boolean {
    if (claim?.s === 'pending') return this.clock.now() - claim.t <= LEASE_MS;
    if (claim?.s === 'issued') return this.clock.now() - (claim.c ?? claim.u - REPLAY_WINDOW_MS) <= LEASE_MS;
    return false;
  }

  /** Answers this token request with a 503, as for a store that is down (see {@link ClaimPending}). */
  #pending(ctx: KoaContextWithOIDC): never {
    ctx.set('Retry-After', STORE_RETRY_AFTER);
    throw new ClaimPending();
  }

  /**
   * The writes of a token record the current token request issues while it holds its claim:
   * true when they are left to `settle`, which sends them in the round trip that commits the
   * answer (before the commit, in one pipeline) and then calls `written`; false outside such a
   * request (the caller writes as usual). A refresh or a code exchange then writes its refresh
   * token, its access token and its commit in one round trip instead of three. Tokens of a
   * request that fails are never written; a write that fails fails the commit (a 503, the claim
   * released where it can be, as when the commit's write fails).
   */
  defer(ops: WriteOp[], written: () => void): boolean {
    const ctx = Redemptions.#tokenRequest();
    const attempts = ctx && this.#attempts.get(ctx);
    if (!attempts) return false;
    let claimed = false;
    for (const attempt of attempts.values()) if (attempt.mine) claimed = true;
    if (!claimed) return false;
    let deferred = this.#deferred.get(ctx);
    if (!deferred) this.#deferred.set(ctx, (deferred = { ops: [], written: [] }));
    for (const op of ops) deferred.ops.push(op);
    deferred.written.push(written);
    return true;
  }

  /** After a token request's grant handler ran (see ProtocolHooks): commits, releases or replays. */
  settle(ctx: KoaContextWithOIDC): Promise<void> | undefined {
    const attempts = this.#attempts.get(ctx);
    // Most token requests redeem nothing (client_credentials): no promise for them.
    return attempts ? this.#settleAll(ctx, attempts) : undefined;
  }

  async #settleAll(ctx: KoaContextWithOIDC, attempts: Map<string, Attempt>): Promise<void> {
    let deferred = this.#deferred.get(ctx);
    this.#deferred.delete(ctx);
    for (const attempt of attempts.values()) {
      if (attempt.replay) this.#replay(ctx, attempt);
      else if (attempt.mine) {
        await this.#settle(ctx, attempt, attempt.mine, deferred);
        deferred = undefined; // one redemption per request: its tokens go with its commit
      }
    }
  }

  /** Answers with the recorded answer, which `claim` marked delivered for this request. */
  #replay(ctx: KoaContextWithOIDC, attempt: Attempt): void {
    ctx.status = 200;
    ctx.body = attempt.replay;
    ctx.set('Cache-Control', 'no-store');
  }

  async #settle(ctx: KoaContextWithOIDC, attempt: Attempt, mine: string, deferred?: { ops: WriteOp[]; written: (() => void)[] }): Promise<void> {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status !== 200 || !body?.access_token) {
      // Failed on the server (5xx): let a retry in. Failed for good (4xx): the code stays used.
      // The release is not waited for: it is best effort (a claim not released lapses after its
      // lease), and this hook runs outside the request's stall mark, so under a stalled Redis it
      // would wait out a second store deadline before the 503 (4.1 s instead of 2). A retry that
      // comes before it lands finds the claim pending and waits for it (at most the lease), as
      // for a release that failed: never a reuse.
      if (ctx.status >= 500) void this.#bestEffort(() => this.store.swap(attempt.claimKey, mine, null));
      else await this.#markDone(attempt, mine);
      return;
    }
    const { o, t } = JSON.parse(mine) as { o: string; t: number };
    const now = this.clock.now();
    // The answer is serialized once: the text sealed is the text sent (koa would serialize the object again).
    const answer = JSON.stringify(body);
    const sealed = seal(attempt.secret, answer);
    const issued = issuedClaim(o, t, sealed, now + REPLAY_WINDOW_MS, now);
    let committed: boolean;
    try {
      // The tokens issued first, in the same round trip: stored before the answer is committed.
      committed = deferred ? await this.store.swapAfter(deferred.ops, attempt.claimKey, mine, issued, attempt.ttl) : await this.store.swap(attempt.claimKey, mine, issued, attempt.ttl);
      if (deferred) for (const written of deferred.written) written();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      // Unknown whether the commit landed. If it did not, releasing the claim lets the retry
      // start over, and these tokens were never seen. If it did, a retry gets this answer back,
      // at once: the claim says that nobody is answering with it any more.
      // Not waited for, as the release above: best effort, and under a stalled Redis each step
      // would wait out a store deadline of its own (6.1 s before the 503 instead of 2). A retry
      // that comes first finds the claim pending, or issued and still leased, and waits for it
      // (at most the lease), as when these writes fail.
      void (async () => {
        if (await this.#bestEffort(() => this.store.swap(attempt.claimKey, mine, null))) await this.#discard(ctx);
        else await this.#bestEffort(() => this.store.swap(attempt.claimKey, issued, issuedClaim(o, t, sealed, now + REPLAY_WINDOW_MS, 0), attempt.ttl));
      })().catch(() => undefined);
      ctx.status = 503;
      ctx.set('Retry-After', STORE_RETRY_AFTER);
      ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_DESCRIPTION };
      return;
    }
    if (!committed) {
      // The claim lapsed and another redemption took it over: that one wins, this one issued nothing.
      await this.#discard(ctx);
      Redemptions.#refuse(ctx);
      return;
    }
    ctx.body = answer; // the text sealed, sent as it is (koa keeps the JSON content type already set)
    // Marked delivered once the answer has gone out (handed to the connection), not before: a
    // process that dies, or a connection that closes, before then leaves it recorded, and the
    // client's retry gets these tokens back instead of being taken for a reuse that revokes them
    // (an outside review killed a hub mid-refresh and lost the chain). Until the mark, a duplicate
    // waits for it (the claim's lease from the commit). A mark that fails leaves the answer
    // replayable until `u`: a reuse in that minute gets these tokens, never new ones.
    ctx.res.once('finish', () => {
      void this.#markDone(attempt, issued).catch(() => false);
    });
  }

  /**
   * Says that two requests redeemed one code or refresh token at once (the provider event
   * {@link CONCURRENT_USE_EVENT}, which the audit log records); `revoked` when the grant's tokens
   * were revoked for it (a code).
   */
  #concurrentUse(ctx: KoaContextWithOIDC, revoked: boolean): void {
    (ctx.oidc.provider as unknown as EventEmitter).emit(CONCURRENT_USE_EVENT, ctx, revoked);
  }

  static #refuse(ctx: KoaContextWithOIDC): void {
    ctx.status = 400;
    ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
  }

  /**
   * Marks the claim `done` (`from` → `done`, a compare-and-set): from then on any use is a
   * reuse. True when this request made the mark, or when the store failed on it: the mark may
   * then have landed, and a recorded answer must still go out, since the client's retry would be
   * taken for a reuse (a duplicate in that moment may get the same tokens, never new ones).
   * The spent record leaves its grant's index in the same round trip (best effort; the index
   * would otherwise keep every rotated refresh token until it expires). Not with the commit: a
   * commit that fails releases the claim, and the record, usable again, must still be in the
   * index that revoking the grant's tokens goes by (a review). The record itself stays
   * until it expires, so a reuse is still recognised.
   */
  async #markDone(attempt: Attempt, from: string): Promise<boolean> {
    const mark = this.store.swap(attempt.claimKey, from, this.#done(), attempt.ttl).catch((error: unknown) => {
      if (error instanceof StoreUnavailableError) return true;
      throw error;
    });
    const [marked] = await Promise.all([mark, this.#spent(attempt.recordKey, attempt.grantId)]);
    return marked;
  }

  async #spent(recordKey: string, grantId: string | undefined): Promise<void> {
    if (grantId) await this.#bestEffort(async () => (await this.store.zRemove(this.keys.oidcGrantMembers(grantId), recordKey)) > 0);
  }

  #done(): string {
    return JSON.stringify({ s: 'done', t: this.clock.now(), p: PROCESS });
  }

  async #discard(ctx: KoaContextWithOIDC): Promise<void> {
    const { AccessToken, RefreshToken } = ctx.oidc.entities;
    await this.#bestEffort(async () => {
      await Promise.all([AccessToken?.destroy(), RefreshToken?.destroy()]);
      return true;
    });
  }

  async #bestEffort(work: () => Promise<boolean>): Promise<boolean> {
    try {
      return await work();
    } catch {
      return false;
    }
  }
}
