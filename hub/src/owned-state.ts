import { differingSettings, publishedSettingsText, publishSettings, REPUBLISH_EVERY_MS, settingsText, unreadableCookieSigners } from './published-settings.js';
import { performance } from 'node:perf_hooks';
import type Provider from 'oidc-provider';
import { OVERLOADED_MIN_BUSY_MS, OVERLOADED_UTILIZATION } from './health/overload.js';
import type { ClientInput, ClientRegistry } from './clients/client-registry.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';
import { ID_TOKEN_TTL } from './oidc/provider.js';
import { replaceProviderKeys } from './oidc/provider-keys.js';
import { PROCESS_CLOCK, type Clock } from './store/store-clock.js';
import { loadCookieKeys, loadSigningKeysText, loadTotpKeys, type Jwks } from './secrets/secrets.js';
import { effectiveJwks, liveKeys, parseKeySet, type KeySet } from './secrets/signing-keys.js';
import type { Keys } from './store/keys.js';
import type { Store } from './store/store.js';
import { errorMessagesOf, isAuthFailure, isOutOfMemory, lastConnectionError, onConnectionError, redactCredentials, secretsOf, type RedisClient, type RedisTarget } from './store/redis-client.js';
import { refusedCredentials } from './store/redis-probe.js';
import { credentialSettings } from './store/redis-access.js';
import { tlsFailureHint } from './store/redis-tls.js';
import { tlsRefusal } from './store/redis-tls-probe.js';
import { readEvictionStatus, SAFE_EVICTION_POLICY, unsafePolicyMessage } from './store/redis-memory-policy.js';
import { SecretBox } from './two-step/secret-box.js';

/** What `/readyz` reports: ready, or why not (each reason says what to do). */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

export interface OwnedStateDeps {
  config: HubConfig;
  store: Store;
  keys: Keys;
  clients: ClientRegistry;
  logger: Logger;
  /** The hub's own portal client, from its configuration. */
  portalClient: ClientInput;
  /**
   * The clock key activations are read on (default: this process's). The hub passes the store's
   * (StoreClock): `keys rotate` dates a key on it, and a process whose own clock ran ahead would
   * sign with the key before the others publish it.
   */
  clock?: Clock;
}

/**
 * What a running hub process owns and shares through the store: the signing key set, the
 * cookie keys, the two-step (TOTP) key-encryption keys and its own portal client. Every HUB_STORE_CHECK_MS it re-reads them:
 * - a rotated key set is picked up live (published at once, signing from its activation);
 * - what the store lost is written back from this process's memory with `SET NX`, so
 *   processes restoring at the same time agree on one value;
 * - what cannot be put right without a restart (cookie keys another process replaced)
 *   makes the process report not-ready, with the reason.
 */
export class OwnedState {
  #set: KeySet;
  #setText: string | undefined;
  #applied = '';
  #jwks: Jwks;
  #provider: Provider | undefined;
  #reasons: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #activation: NodeJS.Timeout | undefined;
  #checking: Promise<Readiness> | undefined;
  /** The last check that finished, and when (`Date.now()`): `/readyz` answers with it while this process's own load holds up a fresh one. */
  #finished: { readiness: Readiness; at: number } | undefined;
  /** When this process last published its settings for the CLI. */
  #publishedAt = 0;
  /** Set once the hub listens (`publish()`): from then on every check keeps the published settings this process's. */
  #publishing = false;
  /** The other processes' cookie signing keys this one cannot verify, as last reported (fingerprints). */
  #unreadableSigners = '';
  readonly #retireAfterMs: number;
  /** The Redis eviction policies last read (sorted, joined): '' before the first read, or when none could be read. */
  #policies = '';
  /** Whether Redis keeps every key when memory runs out (noeviction): undefined until read (the memory store: always). */
  #evictionSafe: boolean | undefined;
  /** `evicted_keys` as last read, and the count and time of the last warning about it. */
  #evicted: { seen: number | undefined; warned: number; warnedAt: number } = { seen: undefined, warned: 0, warnedAt: Number.NEGATIVE_INFINITY };
  /** The last time each Redis connection error was logged (once per message per CONNECTION_ERROR_LOG_MS). */
  readonly #connectionErrorsLogged = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;
  /** The two-step key-encryption secrets this process seals and opens with (HUB_TOTP_KEYS, or the stored ones). */
  #twoStepKeys: string[];
  /** Seals and opens two-step secrets; its keys follow the stored list (see `#checkTwoStepKeys`). */
  readonly twoStepBox: SecretBox;

  private constructor(
    private readonly deps: OwnedStateDeps,
    setText: string | undefined,
    readonly cookieKeys: string[],
    twoStepKeys: string[],
  ) {
    const { config } = deps;
    this.#retireAfterMs =
      (config.HUB_KEY_RETIRE_SECONDS ?? Math.max(ID_TOKEN_TTL, config.HUB_REFRESH_TOKEN_TTL, config.HUB_SESSION_TTL)) * 1000;
    this.#setText = setText;
    this.#set = setText ? parseKeySet(setText) : { keys: config.HUB_JWKS!.keys };
    this.#jwks = effectiveJwks(this.#set, this.#now(), this.#retireAfterMs);
    this.#twoStepKeys = twoStepKeys;
    this.twoStepBox = new SecretBox(twoStepKeys);
    const client = redisClientOf(deps.store);
    if (client) this.#unsubscribe = onConnectionError(client, (message) => this.#logConnectionError(message));
    else if (deps.store.kind === 'memory') this.#evictionSafe = true;
  }

  /** Now on the clock key activations are read on. */
  #now(): number {
    return (this.deps.clock ?? PROCESS_CLOCK).now();
  }

  /** Reads (or creates, on a first start) the shared secrets and writes the portal client. */
  static async load(deps: OwnedStateDeps): Promise<OwnedState> {
    const { config, store, keys, clients } = deps;
    const [setText, cookieKeys, twoStepKeys] = await Promise.all([
      config.HUB_JWKS ? Promise.resolve(undefined) : loadSigningKeysText(store, keys, deps.clock),
      loadCookieKeys(store, keys, config.HUB_COOKIE_SECRETS),
      loadTotpKeys(store, keys, config.HUB_TOTP_KEYS),
    ]);
    // The portal is a client of the hub's own OIDC engine (like Keycloak's account console).
    await clients.own(deps.portalClient);
    const owned = new OwnedState(deps, setText, cookieKeys, twoStepKeys);
    // Said at start, then at every store check when it changes.
    await owned.#checkEviction();
    return owned;
  }

  /**
   * Publishes this hub's settings for the CLI run next to it (its issuer, sign-up mode, key
   * timing): called once the hub listens, so a process that fails to start (a port taken, a
   * wrong setting found late) never leaves its settings for the CLI to use. From then on every
   * store check puts them back if another process wrote others.
   */
  async publish(): Promise<void> {
    this.#publishing = true; // even if this write fails: the next check writes them
    await publishSettings(this.deps.store, this.deps.keys, this.deps.config);
    this.#publishedAt = Date.now();
  }

  /** The signing keys in use now, the signing key first (configured keys: as given). */
  jwks(): Jwks {
    return this.#jwks;
  }

  /** Gives the provider the current keys now and on every later change. */
  attach(provider: Provider): void {
    this.#provider = provider;
    this.#apply();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.deps.config.HUB_STORE_CHECK_MS);
    this.#timer.unref();
  }

  /**
   * Stops the periodic checks and waits for one in flight: after this, nothing of this
   * process writes its records back (a store being cleared or closed stays so).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#activation);
    this.#timer = undefined;
    this.#activation = undefined;
    this.#unsubscribe?.();
    await this.#checking?.catch(() => undefined);
  }

  /** Checks (and restores) now; one check at a time; none once stopped. */
  check(): Promise<Readiness> {
    if (this.#stopped) return Promise.resolve({ ready: false, reasons: ['the hub is stopping'] });
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /**
   * For `/readyz`: a fresh check of the store and of what this process owns, one that reads the
   * store after this call. A check already in flight (the periodic one) may have read it before
   * an operator's repair: that one is waited out, never handed back. Callers meanwhile share the
   * next check.
   */
  readiness(): Promise<Readiness> {
    const inFlight = this.#checking;
    if (!inFlight) return this.check();
    return inFlight.then(
      () => this.check(),
      () => this.check(),
    );
  }

  /** The last check that finished: its verdict and when it finished. */
  lastReadiness(): { readiness: Readiness; at: number } | undefined {
    return this.#finished;
  }

  async #check(): Promise<Readiness> {
    const reasons: string[] = [];
    const loopBefore = performance.eventLoopUtilization();
    try {
      if (!(await this.deps.store.ping())) {
        // The client's own last error says why (NOAUTH, WRONGPASS after a password change), where
        // the failed command only says the client is offline.
        const client = redisClientOf(this.deps.store);
        const cause = client && lastConnectionError(client, 2 * this.deps.config.HUB_STORE_CHECK_MS + 5_000);
        const target = this.deps.config.redis;
        // A TLS handshake the server refuses (a client certificate expired or no longer trusted)
        // often reaches node-redis only as "Socket closed unexpectedly": asked alone, as at
        // start-up, only while the store fails and only with TLS on.
        if (target && !(cause && (isAuthFailure(cause) || tlsFailureHint(cause)))) {
          const refusedTls = await tlsRefusal(target);
          if (refusedTls) throw new Error(`no answer: ${refusedTls.who}: ${refusedTls.message}`);
        }
        if (cause) throw new Error(`no answer: ${cause}`);
        // A cluster's or Sentinel's client retries a refused password quietly (no error event to
        // keep): asked once more with the same credentials, as at start-up, only while it fails.
        const refused = target && target.kind !== 'single' ? await refusedCredentials(target) : undefined;
        throw new Error(refused ? `no answer: ${refused.who} refused the credentials (${redactCredentials(refused.refusal, secretsOf(target!))})` : 'no answer');
      }
      await this.#checkEviction();
      if (this.#setText !== undefined) {
        const keyProblem = await this.#checkSigningKeys();
        if (keyProblem) reasons.push(keyProblem);
      }
      const cookieProblem = await this.#checkCookieKeys();
      if (cookieProblem) reasons.push(cookieProblem);
      const twoStepProblem = await this.#checkTwoStepKeys();
      if (twoStepProblem) reasons.push(twoStepProblem);
      if (this.#publishing) await this.#checkPublishedSettings();
      if (this.#publishing) await this.#checkCookieSigners();
      const restored = await this.deps.clients.verifyOwned();
      // Another process with another HUB_ISSUER on this KEY_PREFIX would make this recur at every check.
      if (restored.length) this.deps.logger.warn('restored the hub’s own client in the store (missing, or written by a process with another HUB_ISSUER on this KEY_PREFIX)', { clients: restored });
    } catch (error) {
      // The details go to the log only: /readyz answers whoever asks. A check held up by this
      // process's own load (every store reply waits for a turn of its event loop) says so: an SRE
      // review read "store check failed: no answer" with Redis idle and the hub saturated. A check
      // that failed at once (a refused connection) was not held up by anything, however busy its
      // one millisecond was: that is the store's failure.
      const loop = performance.eventLoopUtilization(loopBefore);
      const overloaded = loop.utilization >= OVERLOADED_UTILIZATION && loop.active >= OVERLOADED_MIN_BUSY_MS;
      this.deps.logger.warn(overloaded ? 'store check failed while this process was overloaded (its event loop busy through the check): the store may be fine' : 'store check failed', {
        error: error instanceof Error ? error.message : String(error),
        eventLoopBusyMs: Math.round(loop.active),
        checkMs: Math.round(loop.active + loop.idle),
      });
      reasons.push(storeProblem(error, this.deps.config.redis?.kind));
    }
    this.#apply();
    if (reasons.join() !== this.#reasons.join()) {
      if (reasons.length) this.deps.logger.error('hub not ready', { reasons });
      else this.deps.logger.info('hub ready again');
    }
    this.#reasons = reasons;
    const readiness = { ready: reasons.length === 0, reasons };
    this.#finished = { readiness, at: Date.now() };
    return readiness;
  }

  /**
   * Whether Redis may delete keys when its memory runs out. Under any `maxmemory-policy` but
   * noeviction it silently drops users, name indexes, clients, the clients changelog, the seed
   * marker (keys without expiry under allkeys-*), or sign-in throttle counters and single-use
   * claims (volatile-*): logged as an error when first seen and when the policy changes, and shown
   * as `sso_redis_eviction_policy_safe`. Not a /readyz reason: on a managed Redis set up so, every
   * process of the fleet would leave the load balancer at once. Keys evicted since the last read
   * (INFO stats `evicted_keys`) are warned of, at most every EVICTED_WARN_MS. Nothing is said
   * when neither CONFIG GET nor INFO can be read; a failed read never fails the check.
   */
  async #checkEviction(): Promise<void> {
    const client = redisClientOf(this.deps.store);
    if (!client) return;
    const { logger } = this.deps;
    const { policies, evictedKeys } = await readEvictionStatus(client);
    const text = policies.join(',');
    if (policies.length && text !== this.#policies) {
      const safe = policies.every((policy) => policy === SAFE_EVICTION_POLICY);
      if (!safe) logger.error(unsafePolicyMessage(policies), { maxmemoryPolicy: text });
      else if (this.#evictionSafe === false) logger.info(`Redis maxmemory-policy is ${SAFE_EVICTION_POLICY} again: it no longer deletes the hub’s keys when memory runs out`);
      this.#evictionSafe = safe;
      this.#policies = text;
    }
    if (evictedKeys === undefined) return;
    const evicted = this.#evicted;
    // The first read is the baseline; keys evicted before it are said once (a policy changed since).
    if (evicted.seen === undefined) {
      evicted.seen = evicted.warned = evictedKeys;
      if (evictedKeys > 0) {
        evicted.warnedAt = Date.now();
        logger.warn(`Redis has evicted ${evictedKeys} keys since it started (INFO stats evicted_keys): the hub’s records may be gone; set maxmemory-policy ${SAFE_EVICTION_POLICY} (README 'What Redis holds')`, { evictedKeys });
      }
      return;
    }
    // A restarted Redis (or a CONFIG RESETSTAT) counts from 0 again.
    if (evictedKeys < evicted.warned) evicted.warned = evictedKeys;
    evicted.seen = evictedKeys;
    if (evictedKeys > evicted.warned && Date.now() - evicted.warnedAt >= EVICTED_WARN_MS) {
      logger.warn(`Redis evicted ${evictedKeys - evicted.warned} more keys (INFO stats evicted_keys ${evictedKeys}): the hub’s records may be gone; set maxmemory-policy ${SAFE_EVICTION_POLICY} (README 'What Redis holds')`, { evictedKeys, evictedSinceLastWarning: evictedKeys - evicted.warned });
      evicted.warned = evictedKeys;
      evicted.warnedAt = Date.now();
    }
  }

  /** 1 when Redis keeps every key when memory runs out (noeviction), 0 when it may evict, undefined when unknown. */
  get evictionPolicySafe(): boolean | undefined {
    return this.#evictionSafe;
  }

  /** A Redis connection error (credentials already removed), once per message per CONNECTION_ERROR_LOG_MS. */
  #logConnectionError(message: string): void {
    const now = Date.now();
    const logged = this.#connectionErrorsLogged;
    const at = logged.get(message);
    if (at !== undefined && now - at < CONNECTION_ERROR_LOG_MS) return;
    for (const [each, when] of logged) if (now - when >= CONNECTION_ERROR_LOG_MS) logged.delete(each);
    if (logged.size >= 50) return; // many distinct messages at once: enough is said
    logged.set(message, now);
    const tlsHint = tlsFailureHint(message);
    const hint = isAuthFailure(message) ? `: Redis refuses this hub’s credentials; check ${credentialSettings(this.deps.config.redis?.kind)} against the Redis server’s` : tlsHint ? `: the TLS handshake failed; ${tlsHint}` : '';
    this.deps.logger.warn(`Redis connection error${hint}`, { error: message });
  }

  /** Puts this hub's published settings back when they are gone or another process wrote others; refreshes their lifetime daily. */
  async #checkPublishedSettings(): Promise<void> {
    const { store, keys, config, logger } = this.deps;
    const stored = await publishedSettingsText(store, keys);
    if (stored === settingsText(config) && Date.now() - this.#publishedAt < REPUBLISH_EVERY_MS) return;
    await this.publish();
    // Two running hubs with different settings on one KEY_PREFIX would make this recur at every check.
    if (stored !== undefined && stored !== settingsText(config)) {
      // Named, so the operator knows what to align (HUB_JWKS: one process pins its signing keys and
      // another does not, so their /jwks differ and half the ID tokens fail against half the answers).
      const differing = differingSettings(stored, config);
      const what = differing.length > 0 ? differing.join(', ') : 'none this version publishes differs: another version of the hub';
      logger.warn(`restored this hub’s published settings in the store (written by a process with other settings on this KEY_PREFIX: ${what}); give every hub process of one KEY_PREFIX the same values${differing.includes('HUB_JWKS') ? ' (HUB_JWKS: every process pins its signing keys, or none does)' : ''}`, { differing });
    }
  }

  /**
   * Cookie keys across the processes of this KEY_PREFIX, compared by fingerprint (never the keys):
   * one that signs with a key this process does not verify (HUB_COOKIE_SECRETS set on one process
   * and not on another, whose stored key differs; a mistyped key in a rotation) makes every sign-in
   * that crosses between them fail with "This sign-in page has expired". Logged with what to fix
   * when it starts and when it ends; not a /readyz reason, which would take every process of the
   * fleet out of the load balancer at once (each finds the other's key unreadable).
   */
  async #checkCookieSigners(): Promise<void> {
    const { store, keys, config, logger } = this.deps;
    // Kept three checks and a second: a process that stopped drops out soon after.
    const unreadable = await unreadableCookieSigners(store, keys, this.cookieKeys, 3 * config.HUB_STORE_CHECK_MS + 1_000);
    const text = unreadable.join(',');
    if (text === this.#unreadableSigners) return;
    this.#unreadableSigners = text;
    if (unreadable.length === 0) {
      logger.info('every hub process of this KEY_PREFIX signs cookies with a key this one verifies again');
      return;
    }
    logger.warn(
      `another hub process on this KEY_PREFIX signs cookies with a key this process does not have (HUB_COOKIE_SECRETS differ${config.HUB_COOKIE_SECRETS ? '' : '; this process has none set and uses the key kept in the store'}): sign-ins that pass through both fail with "This sign-in page has expired". `
        + 'Give every hub process the same HUB_COOKIE_SECRETS (or none on all); to rotate, add the new key second on every process first (README, "Rotating secrets")',
      { unreadableKeyFingerprints: unreadable },
    );
  }

  /** Picks up a rotation, restores a lost set; returns a reason when the stored set is unusable. */
  async #checkSigningKeys(): Promise<string | undefined> {
    const { store, keys, logger } = this.deps;
    const key = keys.signingKeys();
    let text = await store.get(key);
    if (text === null) {
      // The store lost the key set: put back the one this process holds. NX: the first
      // process to restore wins and every other adopts its set below.
      if (await store.set(key, this.#setText!, { onlyIfAbsent: true })) logger.warn('restored the signing keys in the store from this process');
      text = await store.get(key);
    }
    if (text === null || text === this.#setText) return undefined;
    let stored: KeySet;
    try {
      stored = parseKeySet(text);
    } catch {
      // Keep signing with the keys this process holds; someone has to put the set right.
      return 'the stored signing key set is unreadable: run `npm run hub -- keys rotate` or restore it from a backup';
    }
    // A set written without ours (a process that started on the emptied store): keep every
    // key this process still publishes, so tokens it signed keep verifying everywhere.
    const missing = liveKeys(this.#set, this.#now(), this.#retireAfterMs).filter((mine) => !stored.keys.some((other) => other.kid === mine.kid));
    if (missing.length) {
      const merged = { keys: [...stored.keys, ...missing] };
      const mergedText = JSON.stringify(merged);
      // Compare-and-set over the set as read: a rotation written meanwhile is kept (this merge
      // is redone at the next check), never overwritten.
      if (!(await store.swap(key, text, mergedText))) return undefined;
      stored = merged;
      text = mergedText;
      logger.warn('merged this process’s signing keys into the stored set', { kids: missing.map((mine) => mine.kid) });
    }
    this.#set = stored;
    this.#setText = text;
    return undefined;
  }

  /** Cookie keys: restored when missing; another value cannot be taken over live (signed cookies). */
  async #checkCookieKeys(): Promise<string | undefined> {
    const { config, store, keys, logger } = this.deps;
    if (config.HUB_COOKIE_SECRETS) return undefined;
    const mine = JSON.stringify(this.cookieKeys);
    let text = await store.get(keys.cookieKeys());
    if (text === null) {
      if (await store.set(keys.cookieKeys(), mine, { onlyIfAbsent: true })) logger.warn('restored the cookie keys in the store from this process');
      text = await store.get(keys.cookieKeys());
    }
    if (text === null || text === mine) return undefined;
    return 'the cookie keys in the store differ from this process’s (another process created new ones after the store lost them): restart this process to use them';
  }

  /**
   * Two-step keys kept in the store (HUB_TOTP_KEYS unset): restored when missing, so a secret
   * sealed after the store lost them still opens after a restart. A list another process
   * created meanwhile (it started on the emptied store) gets this process's keys added, and
   * every process takes the stored list: one key seals everywhere, and every key that sealed
   * a secret still opens it.
   */
  async #checkTwoStepKeys(): Promise<string | undefined> {
    const { config, store, keys, logger } = this.deps;
    if (config.HUB_TOTP_KEYS) return undefined;
    const key = keys.twoStepKeys();
    const mine = JSON.stringify(this.#twoStepKeys);
    let text = await store.get(key);
    if (text === null) {
      if (await store.set(key, mine, { onlyIfAbsent: true })) logger.warn('restored the two-step keys in the store from this process');
      text = await store.get(key);
    }
    if (text === null || text === mine) return undefined;
    const stored = secretList(text);
    if (!stored) return 'the stored two-step keys are unreadable: restore them from a backup, or set HUB_TOTP_KEYS to the keys in use';
    const missing = this.#twoStepKeys.filter((secret) => !stored.includes(secret));
    const adopted = [...stored, ...missing];
    if (missing.length) {
      // Compare-and-set: a list changed meanwhile by another process is merged at the next check.
      if (!(await store.swap(key, text, JSON.stringify(adopted)))) return undefined;
      logger.warn('merged this process’s two-step keys into the stored list (another process created new ones after the store lost them)');
    }
    this.#twoStepKeys = adopted;
    this.twoStepBox.use(adopted);
    return undefined;
  }

  /** Recomputes the keys for now (an activation may have passed) and hands a change to the provider. */
  #apply(): void {
    const now = this.#now();
    const jwks = effectiveJwks(this.#set, now, this.#retireAfterMs);
    const fingerprint = jwks.keys.map((key) => key.kid).join(',');
    if (fingerprint !== this.#applied) {
      this.#jwks = jwks;
      if (this.#provider) replaceProviderKeys(this.#provider, jwks);
      if (this.#applied) this.deps.logger.info('signing keys updated', { signing: jwks.keys[0]?.kid, published: jwks.keys.map((key) => key.kid) });
      this.#applied = fingerprint;
    }
    // Switch at the activation moment itself, not at the next check.
    const next = Math.min(...this.#set.keys.map((key) => (typeof key.activatesAt === 'number' && key.activatesAt > now ? key.activatesAt : Infinity)));
    clearTimeout(this.#activation);
    this.#activation = undefined;
    if (Number.isFinite(next) && next - now <= 2 * this.deps.config.HUB_STORE_CHECK_MS && this.#timer) {
      this.#activation = setTimeout(() => this.#apply(), next - now + 1);
      this.#activation.unref();
    }
  }
}

/** How often the same Redis connection error is logged at most: once per this many ms. */
const CONNECTION_ERROR_LOG_MS = 30_000;
/** How often keys evicted by Redis are warned of at most. */
const EVICTED_WARN_MS = 5 * 60_000;

/** The node-redis client under a Redis store (a RedisStore, or a wrapper that passes `client` through); undefined for any other. */
function redisClientOf(store: Store): RedisClient | undefined {
  if (store.kind !== 'redis') return undefined;
  const client = (store as { client?: RedisClient }).client;
  return client && typeof client === 'object' ? client : undefined;
}

/** A stored list of secrets (JSON array of non-empty strings), or undefined when it is not one. */
function secretList(text: string): string[] | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== '') ? (value as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What /readyz says of a failed store check, with what to fix. Redis refusing writes for memory
 * (`OOM command not allowed when used memory > 'maxmemory'`) answers every read and PING: its
 * address is not the problem.
 */
export function storeProblem(error: unknown, kind?: RedisTarget['kind']): string {
  const messages = errorMessagesOf(error);
  if (isAuthFailure(messages)) {
    // Named for the Redis the hub is set up with: on a cluster or Sentinel, REDIS_URL is ignored.
    return `the store refuses this hub’s credentials: Redis answers NOAUTH or WRONGPASS: check ${credentialSettings(kind)} against the Redis server’s`;
  }
  const tlsHint = tlsFailureHint(messages);
  if (tlsHint) return `the store refuses this hub’s TLS connection: ${tlsHint}`;
  if (isOutOfMemory(messages)) {
    return 'the store refuses writes: Redis is out of memory (maxmemory reached, eviction off): raise maxmemory or free memory on the Redis server';
  }
  if (/\bREADONLY\b/.test(messages)) {
    return 'the store refuses writes: Redis answers READONLY, a read-only replica: point REDIS_URL at the primary, or use REDIS_SENTINELS, which finds it';
  }
  return 'the store is unavailable: check REDIS_URL (or REDIS_CLUSTER_NODES, REDIS_SENTINELS) and the Redis server';
}
