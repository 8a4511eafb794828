import { randomUUID } from 'node:crypto';
import { currentRequestId } from '../request-context.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { hasUnsafeCharacter, neutralise } from './neutralise.js';

/** What happened. Names are `area.action`; the console filters on them. */
export type AuditEvent =
  | 'login.success'
  | 'login.failure'
  | 'login.throttled'
  | 'login.cancelled'
  | 'login.password'
  | 'login.ended-before-resume'
  | 'login.redirect-uri-gone'
  | 'login.resumed-elsewhere'
  | 'two-step.enabled'
  | 'two-step.disabled'
  | 'two-step.recovery-codes'
  | 'admin.user.two-step-reset'
  | 'consent.granted'
  | 'consent.denied'
  | 'consent.revoked'
  | 'token.issued'
  | 'token.revoked'
  | 'token.concurrent-use'
  | 'grant.revoked'
  | 'logout'
  | 'account.name.changed'
  | 'account.password.changed'
  | 'account.sessions.end-others'
  | 'account.sessions.oldest-ended'
  | 'account.session.end'
  | 'account.password.wrong'
  | 'account.deleted'
  | 'account.email.requested'
  | 'account.email.changed'
  | 'account.email.restored'
  | 'password.reset.requested'
  | 'password.reset.limited'
  | 'password.reset.done'
  | 'signup.created'
  | 'signup.address-taken'
  | 'signup.mail-limited'
  | 'signup.limited'
  | 'signup.resent'
  | 'signup.resend-limited'
  | 'signup.expired'
  | 'signup.replaced'
  | 'email.verified'
  | 'login.unverified'
  | 'admin.invite.create'
  | 'admin.unverified.list-older'
  | 'admin.user.create'
  | 'admin.user.password'
  | 'admin.user.disable'
  | 'admin.user.enable'
  | 'admin.user.delete'
  | 'admin.user.role'
  | 'admin.session.end'
  | 'admin.sessions.end-all'
  | 'admin.client.register'
  | 'admin.client.update'
  | 'admin.client.rotate-secret'
  | 'admin.client.end-secret-overlap'
  | 'admin.clients.hash-secrets'
  | 'admin.client.rotate-sync-key'
  | 'admin.client.check-sync'
  | 'admin.client.remove'
  | 'admin.delivery.retry'
  | 'admin.audit.export'
  | 'admin.keys.rotate'
  | 'admin.seed.apply'
  | 'admin.seed.create'
  | 'delivery.delivered'
  | 'delivery.retry'
  | 'delivery.failed';

export interface AuditEntry {
  id: string;
  at: number; // epoch ms
  event: AuditEvent;
  /** Who did it: a user id, `cli`, `system`, or the login typed at a failed sign-in. */
  actor?: string;
  /** Whom it was done to: a user id. */
  subject?: string;
  client?: string;
  ip?: string;
  /** Small, non-secret facts (a status code, a grant type). Never a token, code or password. */
  detail?: Record<string, string | number | boolean>;
  /** The id of the HTTP request that caused it (its log line and `X-Request-Id` carry the same). */
  requestId?: string;
}

/** An entry to record; `requestId` defaults to the current request's (set it where no request context is). */
export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditFilter {
  event?: string;
  /** Matches actor or subject (any of them, when several: a user's id and the login typed for them). */
  user?: string | readonly string[];
  client?: string;
  since?: number; // epoch ms
  until?: number; // epoch ms
}

/** One console page of the log ({@link AuditLog.page}). */
export interface AuditPage {
  entries: AuditEntry[];
  /** Set when the page stopped at its scan limit: how many entries it examined, and the `until` to go on from. */
  stopped?: { examined: number; until: number };
  /** Set when the page is full and older entries may match: the `until` of the next page (older entries). */
  more?: { until: number };
}

export interface AuditLogOptions {
  retentionSeconds: number;
  /** The cap of the log of what signed-in users, admins and the hub did (everything but the two below). */
  maxEntries: number;
  /** The cap of the log of tokens issued (default: `maxEntries`). */
  maxTokenEntries?: number;
  /** The cap of the log of what anyone can cause without signing in (default: `maxEntries`): {@link ATTEMPT_EVENTS}. */
  maxAttemptEntries?: number;
  /** How long a lingering entry waits for company, in milliseconds (default {@link LINGER_MS}). */
  lingerMs?: number;
  /** The first wait before a batch the store refused is written again, in milliseconds (default {@link RETRY_MS}; doubled per failure up to {@link RETRY_MAX_MS}). */
  retryMs?: number;
  /** Entries kept for another try while the store refuses them (default {@link MAX_PENDING}); past it the oldest are given up, and reported. */
  maxPendingEntries?: number;
}

/** The store refused a batch of entries: they are kept and written again later (see {@link RETRY_MS}). */
export class AuditWriteRefusedError extends Error {
  override readonly name = 'AuditWriteRefusedError';
  constructor(readonly count: number, cause: unknown) {
    super(`${count} audit ${count === 1 ? 'entry' : 'entries'} not written yet, kept for another try: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Entries given up: the store refused them for longer than the log keeps them waiting ({@link AuditLogOptions.maxPendingEntries}), or the hub stopped. */
export class AuditEntriesDroppedError extends Error {
  override readonly name = 'AuditEntriesDroppedError';
  constructor(
    readonly count: number,
    why: string,
    /** The stored form (JSON) of those that were for the main log (sign-ins, admin actions): for the process log. */
    readonly mainEntries: readonly string[] = [],
  ) {
    super(`${count} audit ${count === 1 ? 'entry' : 'entries'} given up: ${why}`);
  }
}

/**
 * Milliseconds an entry waits for others to share its write (group commit with a linger):
 * under token load, requests finishing at different moments still share one ZADD instead of
 * costing the store a write each (client_credentials: 2 round trips per token became ~1).
 */
const LINGER_MS = 10;
/**
 * A batch the store refused (Redis down, failing over, past its deadline) is kept and written
 * again: first after this many milliseconds, then twice as long each time, at most
 * {@link RETRY_MAX_MS}, and at once when a reader or a stop flushes (entries recorded meanwhile
 * wait for that try, their callers are not held up). Writing an entry twice is harmless (a
 * sorted-set member is its JSON, which carries its id), so a write whose answer was lost is
 * simply sent again.
 */
const RETRY_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Entries of each log kept for another try at most (about 3 MB a log): a store down for long loses the oldest, reported, not the process's memory. */
const MAX_PENDING = 10_000;
const TRIM_EVERY = 100; // writes between two checks of the entry cap
const PAGE = 500; // entries read per store round trip when filtering or exporting
/**
 * Entries one console page examines at most before it stops and offers to go on (about 0.1 s of
 * reading): a filter that matches nothing no longer reads the whole log per page view.
 */
export const AUDIT_SCAN_LIMIT = 20_000;
const MAX_FIELD = 200; // characters kept of any one field, so a typed login cannot bloat the log

/**
 * A field as stored: at most MAX_FIELD characters as given, then control, format (bidi, invisible)
 * characters and lone surrogates as visible escapes (neutralise.ts), so a typed login can neither
 * forge a line, reorder the console's row nor pass for another login.
 */
function clip(value: string | undefined): string | undefined {
  return value === undefined ? undefined : neutralise(value.slice(0, MAX_FIELD));
}

/** A detail's names and text values, neutralised as fields are (numbers and booleans as they are). */
function safeDetail(detail: Record<string, string | number | boolean>): Record<string, string | number | boolean> {
  let unsafe = false;
  for (const [name, value] of Object.entries(detail)) if (hasUnsafeCharacter(name) || (typeof value === 'string' && hasUnsafeCharacter(value))) unsafe = true;
  if (!unsafe) return detail;
  return Object.fromEntries(Object.entries(detail).map(([name, value]) => [neutralise(name), typeof value === 'string' ? neutralise(value) : value]));
}

/**
 * An entry as read: one written before entries were neutralised (or by an older hub during a
 * rolling update) is shown and exported in the same safe form. Most members hold no such
 * character and are only parsed.
 */
function readEntry(member: string): AuditEntry {
  const entry = JSON.parse(member) as AuditEntry;
  // JSON keeps C0 controls and lone surrogates escaped (\u000a, \ud83d), so they are tested on the parsed text below.
  if (!hasUnsafeCharacter(member) && !/\\u00[01]|\\u007f|\\ud[89a-f]/i.test(member)) return entry;
  for (const field of ['actor', 'subject', 'client', 'ip'] as const) {
    const value = entry[field];
    if (value !== undefined) entry[field] = neutralise(value);
  }
  if (entry.detail) entry.detail = safeDetail(entry.detail);
  return entry;
}

/**
 * Tokens issued are logged apart, under a cap of their own: a busy token endpoint (a service
 * client asking a token every few milliseconds, or someone flooding it with a stolen client
 * secret) would otherwise push sign-ins, admin actions and deliveries out of a capped log
 * within minutes.
 */
const TOKEN_ISSUED: AuditEvent = 'token.issued';

/**
 * What anyone can cause without signing in, as often as they like (slowed, not stopped, by the
 * throttles): wrong passwords, throttled and unverified sign-ins, cancelled sign-in pages,
 * password-reset requests and sign-ups. Logged apart too, under a cap of their own, so that a
 * guessing attack or a sign-up flood cannot push out what signed-in users and admins did. Not
 * a failed or throttled second step (`detail.step`): that follows a correct password, the
 * strongest sign of a stolen one, and stays in the main log. Also apart (see {@link logOf}): a
 * sign-out request with nobody signed in, and a revocation by a public client (anyone may send
 * either).
 */
export const ATTEMPT_EVENTS: ReadonlySet<AuditEvent> = new Set<AuditEvent>([
  'login.failure',
  'login.throttled',
  'login.unverified',
  'login.cancelled',
  'password.reset.requested',
  'password.reset.limited',
  'signup.created',
  'signup.address-taken',
  'signup.mail-limited',
  'signup.limited',
  'signup.resent',
  'signup.resend-limited',
  // One a week after each sign-up never verified: a sign-up flood must not push out the main log later either.
  'signup.expired',
  // Follows a sign-up of the same browser (anyone can make one): counted with them.
  'signup.replaced',
]);

/** The three logs, by index: what signed-in users, admins and the hub did; tokens issued; attempts. */
const MAIN = 0;
const TOKENS = 1;
const ATTEMPTS = 2;

/** Events of which some entries go to the attempt log ({@link ATTEMPT_EVENTS} and two more). */
const IN_ATTEMPT_LOG: ReadonlySet<AuditEvent> = new Set<AuditEvent>([...ATTEMPT_EVENTS, 'logout', 'token.revoked']);

function logOf(entry: AuditEntry): number {
  const { event, detail } = entry;
  if (event === TOKEN_ISSUED) return TOKENS;
  if (ATTEMPT_EVENTS.has(event)) return detail?.step === undefined ? ATTEMPTS : MAIN;
  if (event === 'logout' && entry.actor === undefined) return ATTEMPTS;
  if (event === 'token.revoked' && detail?.client_auth === 'none') return ATTEMPTS;
  return MAIN;
}

/** Whether a log holding `events` may hold an entry an event filter (a prefix) matches. */
function mayMatch(events: Iterable<AuditEvent>, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  for (const event of events) if (event.startsWith(filter)) return true;
  return false;
}

/** An entry waiting for its write: its score, its stored form, and its log. */
/** What a batch's write left unstored: each log's refused entries (empty for a log stored), their count, the first refusal. */
interface RefusedWrite {
  refused: PendingEntry[][];
  count: number;
  error: unknown;
}

interface PendingEntry {
  score: number;
  member: string;
  log: number;
}

/**
 * The audit log: three sorted sets in the store, each member a JSON entry scored by its time:
 * tokens issued, attempts anyone can make without signing in ({@link ATTEMPT_EVENTS}), and
 * everything else (read together, newest first). Each is bounded twice, every hundred writes:
 * entries older than the retention go, and the oldest beyond its cap (`maxTokenEntries`,
 * `maxAttemptEntries`, `maxEntries`). Recording never fails the action it records.
 */
export class AuditLog {
  #writes = 0;
  /** Entries not written yet, by log ({@link MAIN}, {@link TOKENS}, {@link ATTEMPTS}), oldest first. */
  #pending: PendingEntry[][] = [[], [], []];
  #pendingCount = 0;
  #waiters: (() => void)[] = [];
  readonly #observers: ((entry: AuditEntry) => void)[] = [];
  #flushing: Promise<void> | undefined;
  #linger: NodeJS.Timeout | undefined;
  /** The next try of entries the store refused, and how long the one after it waits. */
  #retry: NodeJS.Timeout | undefined;
  #retryWait = 0;
  #dropped = 0;
  /** The stored form of main-log entries given up and not reported yet. */
  #droppedMain: string[] = [];
  #givenUp = 0;
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly options: AuditLogOptions,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Called with every entry as it is recorded (the metrics count sign-ins, tokens and deliveries this way). */
  observe(observer: (entry: AuditEntry) => void): void {
    this.#observers.push(observer);
  }

  /**
   * Records an entry. Entries are written in batches (group commit): those that arrive while a
   * write is in flight go together in the next one; otherwise an entry a caller awaits goes at
   * once (entries nobody awaits linger for company: {@link recordLater}). The promise resolves
   * once the entry is stored (or the failure was reported: recording never fails the action).
   * While the store refuses writes (a try is due later), at once: the entry waits for that try.
   */
  record(input: NewAuditEntry): Promise<void> {
    this.#add(this.#entry(input));
    if (this.#retry) {
      this.#bound();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      if (!this.#flushing) this.#drainNow();
    });
  }

  /**
   * Records an entry nobody awaits (the token endpoint's, one per token issued): it waits up to
   * {@link LINGER_MS} for others to share its write, so a busy token endpoint costs the store
   * one write per batch, not per token; no promise or waiter per entry. `flush()` waits for it.
   */
  recordLater(input: NewAuditEntry): void {
    this.#add(this.#entry(input));
    if (this.#retry) this.#bound();
    else if (!this.#flushing) this.#lingerNow();
  }

  /** The stored form of an entry, observed as it is recorded. */
  #entry(input: NewAuditEntry): PendingEntry {
    const requestId = input.requestId ?? currentRequestId();
    // Fields set one by one (same order as before), not spread from small objects: this runs per token.
    const entry: AuditEntry = { id: randomUUID(), at: Date.now(), event: input.event };
    if (input.actor) entry.actor = clip(input.actor);
    if (input.subject) entry.subject = clip(input.subject);
    if (input.client) entry.client = clip(input.client);
    if (input.ip) entry.ip = clip(input.ip);
    if (input.detail) entry.detail = safeDetail(input.detail);
    if (requestId) entry.requestId = requestId;
    for (const observer of this.#observers) observer(entry);
    return { score: entry.at, member: JSON.stringify(entry), log: logOf(entry) };
  }

  #lingerNow(): void {
    this.#linger ??= setTimeout(() => this.#drainNow(), this.options.lingerMs ?? LINGER_MS);
  }

  #drainNow(): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#flushing ??= this.#drain();
  }

  /**
   * No more tries later (the hub is stopping): a `flush()` still tries once more, and what it
   * cannot write is reported as given up. Entries recorded after this are written as before.
   */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /**
   * Resolves when every entry recorded before the call is stored; entries recorded after it
   * are not waited for, so a reader never hangs behind a busy token endpoint.
   */
  flush(): Promise<void> {
    if (this.#pendingCount === 0 && !this.#flushing) return Promise.resolve();
    // Resolved with the next batch: the one that carries what is pending now, or (when a
    // write is in flight and nothing waits) an empty one right after it.
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#drainNow(); // a reader does not wait out the linger
    });
  }

  async #drain(): Promise<void> {
    let refused = false;
    try {
      while (!refused && (this.#pendingCount > 0 || this.#waiters.length > 0)) {
        const batch = this.#pending;
        const count = this.#pendingCount;
        this.#pending = [[], [], []];
        this.#pendingCount = 0;
        const waiters = this.#waiters.splice(0);
        const failed = await this.#write(batch);
        if (!failed) {
          this.#retryWait = 0;
          this.#reportDropped();
        } else {
          // Kept for another try, ahead of what came meanwhile; the callers are not held up
          // (recording never fails nor stalls the action), and neither is anyone who waits now.
          // Only the logs whose write was refused: the others' entries are stored.
          refused = true;
          this.onError(new AuditWriteRefusedError(failed.count, failed.error));
          this.#keep(failed.refused);
          waiters.push(...this.#waiters.splice(0));
        }
        try {
          // Both bounds are enforced every TRIM_EVERY entries stored (and after the first), so
          // the logs stay within them to about a hundred entries, also while one log refuses.
          const before = this.#writes;
          this.#writes += count - (failed?.count ?? 0);
          if (this.#writes > before && (before === 0 || Math.floor(before / TRIM_EVERY) !== Math.floor(this.#writes / TRIM_EVERY))) await this.trim();
        } catch (error) {
          this.onError(error);
        } finally {
          for (const resolve of waiters) resolve();
        }
      }
    } finally {
      this.#flushing = undefined;
      if (refused) this.#tryAgainLater();
    }
  }

  #add(entry: PendingEntry): void {
    this.#pending[entry.log]!.push(entry);
    this.#pendingCount += 1;
  }

  /** A refused batch back in front of the queue, each log's entries in front of its own. */
  #keep(batch: PendingEntry[][]): void {
    for (let log = 0; log < batch.length; log += 1) {
      const kept = batch[log]!;
      if (kept.length === 0) continue;
      this.#pending[log] = kept.concat(this.#pending[log]!);
      this.#pendingCount += kept.length;
    }
    this.#bound();
  }

  /**
   * Each log's queue within {@link MAX_PENDING} while the store refuses writes: its oldest given
   * up, reported. Per log, as the store caps them: a flood of tokens issued or of failed sign-ins
   * never pushes out a waiting sign-in or admin action. What the main log gives up goes to the
   * process log whole (an entry holds no secret), so the trail survives there.
   */
  #bound(): void {
    const cap = this.options.maxPendingEntries ?? MAX_PENDING;
    for (let log = 0; log < this.#pending.length; log += 1) {
      const over = this.#pending[log]!.length - cap;
      if (over > 0) this.#giveUp(log, over);
    }
  }

  #giveUp(log: number, count: number): void {
    const given = this.#pending[log]!.splice(0, count);
    this.#pendingCount -= given.length;
    this.#dropped += given.length;
    this.#givenUp += given.length;
    if (log === MAIN) this.#droppedMain.push(...given.map((entry) => entry.member));
  }

  /** Entries recorded and not stored yet: lingering for company, or kept while the store refuses them (metrics). */
  get waiting(): number {
    return this.#pendingCount;
  }

  /** Entries given up since the process started: past `maxPendingEntries`, or left at a stop (metrics). */
  get givenUp(): number {
    return this.#givenUp;
  }

  /** Entries given up since the last report, reported once (not a log line per entry). */
  #reportDropped(why = 'the store refused them for too long'): void {
    if (this.#dropped === 0) return;
    this.onError(new AuditEntriesDroppedError(this.#dropped, why, this.#droppedMain.splice(0)));
    this.#dropped = 0;
  }

  #tryAgainLater(): void {
    this.#reportDropped();
    if (this.#pendingCount === 0) return;
    if (this.#stopped) {
      for (let log = 0; log < this.#pending.length; log += 1) this.#giveUp(log, this.#pending[log]!.length);
      this.#reportDropped('the hub stopped while the store refused them');
      return;
    }
    const first = this.options.retryMs ?? RETRY_MS;
    const wait = this.#retryWait === 0 ? first : Math.min(this.#retryWait * 2, Math.max(first, RETRY_MAX_MS));
    this.#retryWait = wait;
    clearTimeout(this.#retry);
    // Not a reason to keep the process alive: stopping writes or reports what is left (`flush`, `stop`).
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#flushing) this.#drainNow();
    }, wait).unref();
  }

  /** The store keys of the three logs, by index ({@link MAIN}, {@link TOKENS}, {@link ATTEMPTS}). */
  #keys(): string[] {
    return [this.keys.auditLog(), this.keys.auditTokens(), this.keys.auditAttempts()];
  }

  /**
   * A batch to the store: each entry to its log (the logs' writes sent at once). What a log refused
   * comes back (with the first refusal); a log that refuses (a key of the wrong type, say) does not
   * hold back the entries of the others.
   */
  async #write(byLog: PendingEntry[][]): Promise<RefusedWrite | undefined> {
    const keys = this.#keys();
    const written = await Promise.allSettled(byLog.map((items, log) => (items.length > 0 ? this.store.zAddMany(keys[log]!, items) : undefined)));
    let failed: RefusedWrite | undefined;
    written.forEach((result, log) => {
      if (result.status === 'fulfilled') return;
      failed ??= { refused: byLog.map(() => []), count: 0, error: result.reason };
      failed.refused[log] = byLog[log]!;
      failed.count += byLog[log]!.length;
    });
    return failed;
  }

  /** Drops entries past the retention, then the oldest beyond each log's cap. */
  async trim(now = Date.now()): Promise<number> {
    const { retentionSeconds, maxEntries, maxTokenEntries = maxEntries, maxAttemptEntries = maxEntries } = this.options;
    const caps = [maxEntries, maxTokenEntries, maxAttemptEntries];
    const before = now - retentionSeconds * 1000;
    const trimmed = await Promise.all(this.#keys().map((key, log) => this.#trim(key, before, caps[log]!)));
    return trimmed.reduce((sum, count) => sum + count, 0);
  }

  async #trim(key: string, before: number, cap: number): Promise<number> {
    const expired = await this.store.zRemoveByScore(key, -Infinity, before);
    // One range command keeps the newest `cap`: ranks 0 .. -(cap + 1) are the rest.
    return expired + (await this.store.zRemoveByRank(key, 0, -(cap + 1)));
  }

  /** Entries matching `filter`, newest first (the three logs, merged by time): all of them (the export). */
  async *entries(asked: AuditFilter = {}): AsyncGenerator<AuditEntry> {
    const filter = AuditLog.#stored(asked);
    for await (const entry of this.#inRange(filter)) if (AuditLog.matches(entry, filter)) yield entry;
  }

  /**
   * The console's page: the newest `limit` entries matching `filter`, examining at most about
   * `scanLimit` entries of the time range (a filter that matches few or none, a client or user
   * with no entry, read the whole log before: 1 to 2 s at 200,000 entries, per page view). When
   * it stops there, `stopped` says how many it examined and the `until` that goes on from there:
   * it stops between two milliseconds, so every entry after that time was examined and none
   * before it.
   */
  async page(asked: AuditFilter = {}, limit = 200, scanLimit = AUDIT_SCAN_LIMIT): Promise<AuditPage> {
    const filter = AuditLog.#stored(asked);
    const entries: AuditEntry[] = [];
    let examined = 0;
    let lastAt: number | undefined;
    for await (const entry of this.#inRange(filter)) {
      if (examined >= scanLimit && entry.at !== lastAt) return { entries, stopped: { examined, until: lastAt! - 1 } };
      examined += 1;
      lastAt = entry.at;
      if (entries.length >= limit && entry.at !== entries[entries.length - 1]!.at) {
        // Full, and the rest of its last millisecond read with it: the next page starts below it
        // (`until` is inclusive, to the millisecond), so no entry shows twice or is skipped.
        return { entries, more: { until: entries[entries.length - 1]!.at - 1 } };
      }
      if (!AuditLog.matches(entry, filter)) continue;
      entries.push(entry);
    }
    return { entries };
  }

  /** A filter's users and client as entries keep them (neutralised): a login searched for as typed finds its entries. */
  static #stored(asked: AuditFilter): AuditFilter {
    const users = asked.user === undefined ? undefined : typeof asked.user === 'string' ? neutralise(asked.user) : asked.user.map(neutralise);
    return { ...asked, ...(users !== undefined ? { user: users } : {}), ...(asked.client ? { client: neutralise(asked.client) } : {}) };
  }

  /**
   * Every entry between `since` and `until` (inclusive), newest first: the logs the event filter
   * may match, merged by time. Both bounds are the store's score range: an `until` of last week
   * starts there, it does not read this week's entries to skip them.
   */
  async *#inRange(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    await this.flush();
    // The token and attempt logs hold a few events each: neither is read for a filter none of them matches.
    const logs = [this.keys.auditLog()];
    if (mayMatch([TOKEN_ISSUED], filter.event)) logs.push(this.keys.auditTokens());
    if (mayMatch(IN_ATTEMPT_LOG, filter.event)) logs.push(this.keys.auditAttempts());
    const streams = logs.map((key) => this.#newestFirst(key, filter.since, filter.until));
    try {
      const heads = await Promise.all(streams.map((stream) => stream.next()));
      for (;;) {
        let newest = -1;
        for (let i = 0; i < heads.length; i++) {
          const head = heads[i]!;
          if (!head.done && (newest === -1 || head.value.at > (heads[newest]!.value as AuditEntry).at)) newest = i;
        }
        if (newest === -1) return;
        const entry = heads[newest]!.value as AuditEntry;
        heads[newest] = await streams[newest]!.next();
        yield entry;
      }
    } finally {
      await Promise.all(streams.map((stream) => stream.return(undefined)));
    }
  }

  /**
   * One log's entries, newest first, from `until` down to `since`, a page per store round trip. Each page is
   * read by time, from where the last one ended (not by rank), so entries recorded while the
   * reader pages (a busy token endpoint adds thousands a second) neither shift the pages nor
   * come out twice; those at the boundary's millisecond that were already read are skipped.
   */
  async *#newestFirst(key: string, since: number | undefined, until: number | undefined): AsyncGenerator<AuditEntry, undefined> {
    let below = until ?? Infinity; // the time the last page ended at (inclusive); nothing of it read yet
    let readAtBelow = new Set<string>(); // ids already read at that time
    for (;;) {
      const limit = PAGE + readAtBelow.size;
      const page = await this.store.zRevRangeByScore(key, below, since ?? -Infinity, limit);
      for (const member of page) {
        const entry = readEntry(member);
        if (entry.at === below && readAtBelow.has(entry.id)) continue;
        if (entry.at !== below) {
          below = entry.at;
          readAtBelow = new Set();
        }
        readAtBelow.add(entry.id);
        yield entry;
      }
      if (page.length < limit) return undefined;
    }
  }

  /** The newest `limit` entries matching `filter`. */
  async search(filter: AuditFilter = {}, limit = 200): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    for await (const entry of this.entries(filter)) {
      found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  static matches(entry: AuditEntry, filter: AuditFilter): boolean {
    if (filter.event && !entry.event.startsWith(filter.event)) return false;
    if (filter.user !== undefined) {
      const users = typeof filter.user === 'string' ? [filter.user] : filter.user;
      if (users.length > 0 && !users.some((user) => user !== '' && (entry.actor === user || entry.subject === user))) return false;
    }
    if (filter.client && entry.client !== filter.client) return false;
    if (filter.since !== undefined && entry.at < filter.since) return false;
    if (filter.until !== undefined && entry.at > filter.until) return false;
    return true;
  }
}
