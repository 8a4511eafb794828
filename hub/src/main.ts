import { createServer } from 'node:http';
import { checkServerStart, ConfigError, loadConfig } from './config.js';
import { GracefulServer } from './http/graceful-shutdown.js';
import { createHubServer } from './http/hub-server.js';
import { listen } from './http/listen.js';
import { createHub } from './hub.js';
import { strayPrefixWarning } from './other-prefixes.js';
import { replicaMessage, replicaOf } from './store/replica-check.js';
import { Keys } from './store/keys.js';
import { metricsHandler } from './metrics/metrics-routes.js';
import { createLogger } from './logger.js';
import { describeMail } from './mail/create-mailer.js';
import type { SeedReport } from './seed.js';
import type { HubServices } from './services.js';
import { describeRedis, openStore, StoreUnavailableError, unreachableRedisMessage, type Store } from './store/index.js';
import { isAuthFailure } from './store/redis-client.js';
import { ADMIN_ROLE } from './users/user.js';

export interface RunningMain {
  /**
   * Stops gracefully: no new connections, in-flight requests finished (for at most
   * `SHUTDOWN_TIMEOUT_MS`), the delivery worker stopped after its current item, the store closed.
   */
  close(): Promise<void>;
  /** The longest a stop may take, in milliseconds: the shutdown delay plus the bound on in-flight work. */
  readonly shutdownTimeoutMs: number;
}

/** Reads the environment, opens the store, builds the hub and listens. */
export async function main(
  env: Record<string, string | undefined> = process.env,
  /** Runs after the hub is built and before it listens (the demo seeds its users and clients here). */
  prepare?: (services: HubServices) => Promise<void>,
): Promise<RunningMain> {
  const config = loadConfig(env);
  const startWarnings = checkServerStart(config, env);
  const logger = createLogger(config.LOG_LEVEL);
  for (const warning of startWarnings) logger.warn(warning);
  if (!config.redis) logger.warn('No Redis is configured (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): using the embedded in-process store, for trying out only (data is lost on restart)');
  else logger.info('store', describeRedis(config.redis, config.redisWaitReplicas));
  const mail = describeMail(config);
  logger[mail.level](mail.message, mail.fields);
  // Read before anything is opened: a missing or broken file stops start-up naming HUB_SEED_FILE.
  const seed = config.HUB_SEED_FILE ? await readSeed(config.HUB_SEED_FILE) : undefined;
  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    // One line naming where Redis was looked for and what to check, not "the session store is unavailable".
    if (error instanceof StoreUnavailableError && config.redis) throw new Error(await unreachableRedisMessage(config.redis, error.cause), { cause: error.cause });
    throw error;
  }
  // A replica answers reads and refuses every write: said at start, not as "unavailable" later.
  const primary = config.redis ? await replicaOf(store) : undefined;
  if (primary && config.redis) {
    await store.close().catch(() => undefined);
    const description = describeRedis(config.redis, 0);
    throw new ConfigError(replicaMessage(`Redis ${String(description.address)} (single)`, primary));
  }
  // A replica with a mistyped KEY_PREFIX would start empty and answer ready: said, with the prefixes found.
  const strayPrefix = await strayPrefixWarning(store, new Keys(config.KEY_PREFIX), config.HUB_ISSUER).catch(() => undefined);
  if (strayPrefix) logger.warn(strayPrefix);
  const hub = await createHub(config, store, logger);
  if (seed) {
    // Create-only: a seed never overwrites or brings back what an admin changed or deleted.
    // Each entry made is audited as it is made (actor `system`), as the CLI's seed is (actor `cli`).
    const file = config.HUB_SEED_FILE!;
    const report = await seed.apply(hub.services, (entry) => hub.services.audit.record({ event: 'admin.seed.create', actor: 'system', detail: { file, entry } }));
    if (report.created.length) await hub.services.audit.record({ event: 'admin.seed.apply', actor: 'system', detail: { file, created: report.created.join(', ') } });
    // No secrets here (logs never carry them): a client created with a generated secret gets
    // it from `clients rotate-secret`, or the file names its clientSecret.
    logger.info('seed applied', { file, created: report.created, skipped: report.skipped.length });
  }
  if (prepare) await prepare(hub.services);
  const server = createHubServer(hub.app, config.HUB_REQUEST_TIMEOUT_MS);
  const graceful = new GracefulServer(server);
  // /metrics without a token on its own listener, protected by its bind address (loopback by default).
  const metricsServer = config.METRICS_PORT ? createServer(metricsHandler(hub.services.metrics, undefined, { open: true })) : undefined;
  try {
    // The metrics port first: taken, the hub never listened (before, it said "hub listening" and
    // took connections, then exited at the metrics port: an operator review).
    if (metricsServer && config.METRICS_PORT) {
      await listen(metricsServer, { service: 'hub metrics', port: config.METRICS_PORT, host: config.METRICS_HOST, portVariable: 'METRICS_PORT', hostVariable: 'METRICS_HOST' });
    }
    await listen(server, { service: 'hub', port: config.HUB_PORT, host: config.HUB_HOST, portVariable: 'HUB_PORT', hostVariable: 'HUB_HOST' });
    logger.info('hub listening', { issuer: config.HUB_ISSUER, port: config.HUB_PORT, store: store.kind });
    if (metricsServer?.listening) logger.info('metrics listening', { host: config.METRICS_HOST, port: config.METRICS_PORT });
  } catch (error) {
    // A port taken (ListenError, one line naming the variable): nothing is left open behind it.
    if (server.listening) server.close();
    if (metricsServer?.listening) metricsServer.close();
    await hub.stop().catch(() => undefined);
    hub.services.audit.stop();
    await hub.services.mailer.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  // For the CLI next to it, only now that this process serves (see OwnedState.publish).
  await hub.services.owned.publish().catch((error: unknown) => logger.warn('could not publish the hub’s settings for the CLI yet; the next store check does', { error: error instanceof Error ? error.message : String(error) }));
  // UCenter applications whose cached list an older hub (or another address) sent get the current one.
  await hub.services.ucenterNotes.sendListIfChanged().catch((error: unknown) => logger.warn('could not send the UCenter applications their list yet; it goes at the next start or list change', { error: error instanceof Error ? error.message : String(error) }));
  // Every hub process delivers the queue; per-item leases keep them from delivering one item twice.
  hub.deliveryWorker.start();
  // Unverified self-sign-ups past HUB_UNVERIFIED_ACCOUNT_DAYS go (one process at a time, by a lock).
  hub.unverified.start();
  // Account deletions cut off part-way are finished (each leased by one process at a time).
  hub.deletionResumer.start();
  hub.services.metrics.collectProcessMetrics();
  // Said once the hub serves, not waited for: the admins' set answers at once, but where it names
  // none (no admin, or a store from before the set) every user is walked, 500 at a time, and with a
  // forum's 300,000 imported members a start would wait for hundreds of round trips (a last read).
  void hub.services.users
    .someAdmin((user) => user.roles.includes(ADMIN_ROLE))
    .then((found) => {
      if (found) return;
      logger.warn(
        store.kind === 'redis'
          ? 'no admin account exists yet: create the first one with `npm run hub -- admin bootstrap` (a random password is shown once)'
          : 'no admin account exists yet: on the embedded store the CLI cannot reach this process; give one in HUB_SEED_FILE (a user with roles: [admin]), or run on Redis and use `npm run hub -- admin bootstrap`',
      );
    })
    .catch(() => undefined); // the store closed under it (a stop right after the start): nothing to say
  let stopBegan = 0;
  let stopSaid = false;
  return {
    shutdownTimeoutMs: config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_TIMEOUT_MS,
    close: async () => {
      if (!graceful.stopping) {
        stopBegan = Date.now();
        logger.info('hub stopping', { inFlight: graceful.inFlight });
      }
      hub.services.draining.start();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      await graceful.stop({
        timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
        delayMs: config.SHUTDOWN_DELAY_MS,
        stopWork: async () => {
          await hub.stop();
          await hub.deliveryWorker.stop();
          // Reset and e-mail-change requests answered already finish their work (and mail) first.
          await Promise.all([hub.services.recovery.settled(), hub.services.emailChange.settled()]);
          await hub.services.mailer.close();
        },
        // Last: requests answered during the drain and the settled resets may still have audit
        // entries waiting for their batch (hub.stop ran alongside the drain).
        closeStore: async () => {
          // No tries later: what the store still refuses now is given up and reported (an error line each for sign-ins and admin actions).
          hub.services.audit.stop();
          await hub.services.audit.flush().catch(() => undefined);
          await store.close();
        },
      });
      // Mail the SMTP server had not taken by the deadline (a slow or silent server) is lost with
      // the process: said, with how many (never to whom), as a mail it refused is. Before, such mail
      // went without a line (a mail-fault review).
      const unsent = hub.services.mailer.sending;
      if (unsent > 0) logger.error('mail not sent: the hub stopped before the SMTP server took it', { count: unsent });
      // The last line (an operator review: "hub stopping", then nothing to say the stop was done, or how long it took).
      if (!stopSaid) logger.info('hub stopped', { tookMs: Date.now() - stopBegan });
      stopSaid = true;
    },
  };
}

/** The seed file of HUB_SEED_FILE, read and checked; a failure is a ConfigError naming the variable. */
async function readSeed(path: string): Promise<{ apply(services: HubServices, created: (entry: string) => Promise<void>): Promise<SeedReport> }> {
  // Loaded only with a seed file: the YAML parser is not needed otherwise (hub/src/lazy-modules.test.ts).
  const { applySeed, loadSeedFile, SeedEntryError, SeedFileError } = await import('./seed.js');
  try {
    const seed = await loadSeedFile(path);
    return {
      // No `show`: start-up shows no generated secret, so its sync keys stay marked unshown.
      apply: (services, created) =>
        applySeed(seed, services, { created }).catch((error: unknown) => {
          // An entry the hub refuses: named, with the file, and nothing of the seed written.
          if (error instanceof SeedEntryError) throw new ConfigError(`HUB_SEED_FILE ${path}: ${error.message}`);
          throw error;
        }),
    };
  } catch (error) {
    if (error instanceof SeedFileError) throw new ConfigError(`HUB_SEED_FILE: ${error.message}`);
    throw error;
  }
}

/**
 * Stops on SIGTERM (docker, systemd, `kill`), SIGINT (Ctrl-C) or SIGHUP (the terminal or ssh
 * session it was started from closed; a `kill -HUP` meant as a reload, which the hub has none of:
 * it reads its settings at start): `stop` runs once and the process exits 0; if it overruns
 * `boundMs`, the process exits 1 all the same. Node's own SIGHUP default killed the process at
 * once, cutting the requests in flight and dropping the audit entries waiting for their batch.
 */
export function exitOnSignals(stop: () => Promise<void>, boundMs: number): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), boundMs).unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
}

/**
 * The one line a failed start prints: the error, and its cause when that adds something (the
 * resolver's `getaddrinfo ENOTFOUND redis`). A cause the message already quotes is not repeated:
 * a refused Redis password was said three times in one line (an operator review).
 */
export function startFailureLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  // A refused password is said in the message, with the setting to fix (Redis's own NOAUTH text
  // is two sentences about HELLO that name no setting).
  return cause && !message.includes(cause) && !isAuthFailure(cause) ? `${message} (${cause})` : message;
}

const isEntry = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntry) {
  main().then(
    (running) => exitOnSignals(() => running.close(), running.shutdownTimeoutMs + 2_000),
    (error: unknown) => {
      process.stderr.write(`${startFailureLine(error)}\n`);
      process.exit(1);
    },
  );
}
