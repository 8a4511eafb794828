import { AuditEntriesDroppedError, AuditLog, AuditWriteRefusedError } from './audit/audit-log.js';
import { ClientRegistry } from './clients/client-registry.js';
import { ConfigError, type HubConfig } from './config.js';
import { DeliveryQueue } from './delivery/delivery-queue.js';
import type { Logger } from './logger.js';
import { createMailer } from './mail/create-mailer.js';
import type { DevOutbox } from './mail/dev-outbox.js';
import type { Mailer } from './mail/mailer.js';
import { ConsentIndex } from './oidc/consents.js';
import { GrantIndex } from './oidc/grant-index.js';
import { SessionIndex } from './oidc/session-index.js';
import { Keys } from './store/keys.js';
import { IntegrationCheck } from './sync/integration-check.js';
import type { Store } from './store/store.js';
import { Invites } from './signup/invites.js';
import { AccountTokens } from './users/account-tokens.js';
import { BreachedPasswords } from './users/breached-passwords.js';
import { PasswordPolicy } from './users/password-policy.js';
import { UcenterNotes } from './ucenter/app-notes.js';
import { UcenterAppRegistry } from './ucenter/ucenter-apps.js';
import { hubEntry } from './ucenter/app-rows.js';
import { PendingDeletions } from './users/pending-deletions.js';
import { TwoStepRepository } from './two-step/two-step-repository.js';
import { PasswordHasher } from './users/passwords.js';
import { UserRepository } from './users/user-repository.js';
import { signingAlgsOf } from './secrets/signing-algs.js';

/**
 * The domain services over the store, shared by the running hub and the admin CLI: no
 * OIDC engine, no portal client, no secrets, nothing listening. Building them writes
 * nothing, so an admin command can never change what a running hub owns.
 */
export interface DomainServices {
  config: HubConfig;
  store: Store;
  keys: Keys;
  users: UserRepository;
  hasher: PasswordHasher;
  /** The policy for passwords people choose themselves (sign-up, reset, change): length, strength, breached list. */
  passwords: PasswordPolicy;
  clients: ClientRegistry;
  consents: ConsentIndex;
  /** account → its grants (one per sign-in session and client). */
  grants: GrantIndex;
  sessions: SessionIndex;
  /** Userdelete and back-channel logout deliveries, retried until the subsite answers 2xx. */
  deliveries: DeliveryQueue;
  audit: AuditLog;
  /** Two-step enrolments (storage only: the CLI and console can reset them without the encryption keys). */
  twoStepRecords: TwoStepRepository;
  /** Account deletions recorded before they are carried out, finished later when cut off part-way (console, CLI, the hub's resumer). */
  pendingDeletions: PendingDeletions;
  /** On-demand test sync to a subsite's endpoints (admin console, CLI). */
  integration: IntegrationCheck;
  /** Outgoing mail from templates (SMTP_URL; the development outbox; or off). See hub/src/mail/. */
  mailer: Mailer;
  /** The development outbox, when MAIL_DEV_OUTBOX is on (and no SMTP): shown at /dev/outbox. */
  outbox: DevOutbox | undefined;
  /** UCenter applications the hub serves as their UCenter. */
  ucenterApps: UcenterAppRegistry;
  /** Their deleteuser and updatepw notes, through `deliveries`. */
  ucenterNotes: UcenterNotes;
  /** Single-use sign-up links for HUB_SIGNUP=invite (admin console, CLI). */
  invites: Invites;
}

export function createDomainServices(config: HubConfig, store: Store, logger: Logger): DomainServices {
  const keys = new Keys(config.KEY_PREFIX);
  const hasher = new PasswordHasher({
    memoryCost: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_ITERATIONS,
    parallelism: config.ARGON2_PARALLELISM,
  }, config.argon2Turns);
  const audit = new AuditLog(store, keys, { retentionSeconds: config.AUDIT_RETENTION_SECONDS, maxEntries: config.AUDIT_MAX_ENTRIES, maxTokenEntries: config.AUDIT_MAX_TOKEN_ENTRIES, maxAttemptEntries: config.AUDIT_MAX_ATTEMPT_ENTRIES }, (error) =>
    error instanceof AuditEntriesDroppedError
      ? auditGivenUp(logger, error)
      : logger.warn(error instanceof AuditWriteRefusedError ? 'audit entries not written yet' : 'audit log not trimmed', { error: error instanceof Error ? error.message : String(error) }),
  );
  const clients = new ClientRegistry(store, keys);
  const deliveries = new DeliveryQueue(store, keys, {
    retentionSeconds: config.DELIVERY_RETENTION_SECONDS,
    failedRetentionSeconds: config.DELIVERY_FAILED_RETENTION_SECONDS,
    maxDelivered: config.DELIVERY_MAX_DELIVERED,
    // A lease outlives the longest delivery request, so it only lapses when its process died.
    leaseSeconds: Math.ceil(config.DELIVERY_TIMEOUT_MS / 1000) + 30,
    // Each notice names the registration it is for: a removed client's never reaches its id's next owner.
    clientGeneration: (clientId) => clients.generationOf(clientId),
  });
  // A hub that pins its keys signs ID tokens only with their kinds.
  if (config.HUB_JWKS) clients.limitSigningAlgs(signingAlgsOf(config.HUB_JWKS.keys));
  // An https hub takes no new plain-http client URL off loopback (the CLI's HUB_ISSUER is the running hub's, published).
  if (new URL(config.HUB_ISSUER).protocol === 'https:') clients.requireHttps();
  const { mailer, outbox } = createMailer(config, store, keys, logger);
  const passwords = new PasswordPolicy({
    minLength: config.PASSWORD_MIN_LENGTH,
    minScore: config.PASSWORD_MIN_SCORE,
    ...(config.HUB_BREACHED_PASSWORDS_FILE ? { breached: loadBreachedList(config.HUB_BREACHED_PASSWORDS_FILE) } : {}),
  });
  const users = new UserRepository(store, keys, hasher);
  const ucenterApps = new UcenterAppRegistry(store, keys);
  const ucenterNotes = new UcenterNotes(ucenterApps, users, deliveries, hubEntry(config.HUB_ISSUER), store, keys);
  // Wherever a password is set (console, CLI, account page, reset link, user/edit), the
  // UCenter applications that asked for it hear of it.
  users.onPasswordSet((user) => ucenterNotes.enqueueUpdatepw(user));
  // uc_client only asks for synlogin/synlogout scripts while its cached list names another application.
  ucenterApps.onListChange(() => ucenterNotes.enqueueUpdateapps());
  ucenterApps.onRemove((app) => ucenterNotes.dropPending(app));
  return {
    config,
    store,
    keys,
    users,
    hasher,
    passwords,
    clients,
    // A consent of another client generation was given to a removed client of that id.
    consents: new ConsentIndex(store, keys, clients),
    grants: new GrantIndex(store, keys),
    sessions: new SessionIndex(store, keys, config.HUB_MAX_SESSIONS_PER_ACCOUNT),
    deliveries,
    audit,
    twoStepRecords: new TwoStepRepository(store, keys),
    pendingDeletions: new PendingDeletions(store, keys),
    integration: new IntegrationCheck(clients, { issuer: config.HUB_ISSUER, keyOverlapSeconds: config.SYNC_KEY_OVERLAP_SECONDS, timeoutMs: config.DELIVERY_TIMEOUT_MS }),
    mailer,
    outbox,
    ucenterApps,
    ucenterNotes,
    invites: new Invites(new AccountTokens(store, keys), config.HUB_ISSUER),
  };
}

function loadBreachedList(path: string): BreachedPasswords {
  try {
    return BreachedPasswords.fromFile(path);
  } catch (error) {
    throw new ConfigError(`invalid hub configuration:\n  HUB_BREACHED_PASSWORDS_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Audit entries given up: one line with the count, and each main-log entry (a sign-in, an admin action) whole, so its trail survives in the process log. */
function auditGivenUp(logger: Logger, error: AuditEntriesDroppedError): void {
  logger.error('audit entries not recorded', { count: error.count, error: error.message });
  for (const entry of error.mainEntries) logger.error('audit entry not recorded', { entry: JSON.parse(entry) as unknown });
}
