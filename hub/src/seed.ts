import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConflictError, msg, type LocalizedMessage } from './errors.js';
import { SIGNING_ALGS } from './secrets/secrets.js';
import { KNOWN_ROLES } from './users/user.js';
import type { DomainServices } from './domain-services.js';
import { UcenterAppRegistry } from './ucenter/ucenter-apps.js';
import { UserRepository } from './users/user-repository.js';
import { isStoreUnavailable } from './store/store.js';
import { seedEntry } from './seed-entries.js';

const grant = z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit']);

// Strict objects: a key the schema does not know (`redirect_uris`, a CLI flag's name, a typo) is an
// error naming it, not a silently dropped setting (a client with no redirect URI, a site never synced).
const seedSchema = z.strictObject({
  users: z
    .array(
      z.strictObject({
        id: z.string().optional(),
        username: z.string(),
        email: z.string(),
        name: z.string().optional(),
        password: z.string(),
        roles: z.array(z.enum(KNOWN_ROLES as [string, ...string[]], { message: `a role the hub knows: ${KNOWN_ROLES.join(', ')}` })).optional(),
      }),
    )
    .default([]),
  clients: z
    .array(
      z.strictObject({
        clientId: z.string(),
        clientSecret: z.string().optional(),
        name: z.string().optional(),
        redirectUris: z.array(z.string()).optional(),
        postLogoutRedirectUris: z.array(z.string()).optional(),
        grantTypes: z.array(grant).optional(),
        tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
        trusted: z.boolean().optional(),
        requirePkce: z.boolean().optional(),
        scope: z.string().optional(),
        syncLoginUrl: z.string().optional(),
        syncLogoutUrl: z.string().optional(),
        syncTransport: z.enum(['img', 'script']).optional(),
        syncKey: z.string().optional(),
        userdeleteUrl: z.string().optional(),
        backchannelLogoutUri: z.string().optional(),
        casCompat: z.boolean().optional(),
        allowSecretInQuery: z.boolean().optional(),
        allowHttp: z.boolean().optional(),
        idTokenSignedResponseAlg: z.enum(SIGNING_ALGS).optional(),
      }),
    )
    .default([]),
  /** UCenter applications with their app id and key (the key is in their own configuration). */
  ucenterApps: z
    .array(
      z.strictObject({
        appId: z.number().int().positive(),
        name: z.string(),
        url: z.string(),
        key: z.string().min(32, 'a UC_KEY needs at least 32 characters'),
        type: z.string().optional(),
        noteFile: z.string().optional(),
        internalUrl: z.string().optional(),
        charset: z.string().optional(),
        synlogin: z.boolean().optional(),
        updatepw: z.boolean().optional(),
        allowRegister: z.boolean().optional(),
        insecureOperation: z.boolean().optional(),
      }),
    )
    .default([]),
});

/** A declarative file of users and clients (the demo's, or a deployment's bootstrap). */
export type Seed = z.infer<typeof seedSchema>;

/** A seed file that cannot be read or parsed; the message names the file and what is wrong. */
export class SeedFileError extends TypeError {
  override readonly name = 'SeedFileError';
}

export function parseSeed(text: string, source = 'seed'): Seed {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    // The YAML parser's message is several lines (with an excerpt): its first line is enough.
    throw new SeedFileError(`${source} is not valid YAML or JSON: ${((error as Error).message.split('\n')[0] ?? '').trim()}`);
  }
  const result = seedSchema.safeParse(data);
  if (!result.success) {
    const lines = result.error.issues.flatMap((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      if (issue.code !== 'unrecognized_keys') return [`  ${where}: ${issue.message}`];
      return issue.keys.map((key) => `  ${where}: unknown key ${JSON.stringify(key)} (keys are the registry's, in camelCase: README, "Seeding")`);
    });
    throw new SeedFileError(`${source} is not a valid seed file:\n${lines.join('\n')}`);
  }
  return result.data;
}

export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SeedFileError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseSeed(text, path);
}

export interface SeedReport {
  /** `user:NAME` / `client:ID` / `ucenter:APPID` created by this run. */
  created: string[];
  /** Entries left alone: they exist, or were applied once and since changed or deleted by an admin. */
  skipped: string[];
  /**
   * Secrets made up for clients created by this run (the file named none). A caller that shows
   * them passes `show`, which gets each client's as it is created; a sync key counts as shown
   * (its first rotation keeps it signing for the overlap) only once `show` has returned. The
   * hub's start-up shows none: its sync keys stay marked unshown, so their first rotation takes
   * effect at once.
   */
  generated: GeneratedSecrets[];
}

export interface ApplySeedOptions {
  /**
   * Shows one client's generated secrets, at once (the CLI prints them): called right after the
   * client is written and before its sync key is marked shown, so a run interrupted before it
   * leaves a key no one saw marked unshown.
   */
  show?: (secrets: GeneratedSecrets) => void;
  /** Called right after each entry is created (the caller audits it), before the next one is written. */
  created?: (entry: string) => Promise<void>;
}

export interface GeneratedSecrets {
  clientId: string;
  clientSecret?: string;
  syncKey?: string;
}

/** One line per generated secret, as `clients add` shows them: to print once, never to log. */
export function generatedSecretLines(report: Pick<SeedReport, 'generated'>): string[] {
  return report.generated.flatMap(secretLines);
}

/** The lines of one client's generated secrets. */
export function secretLines({ clientId, clientSecret, syncKey }: GeneratedSecrets): string[] {
  return [
    ...(clientSecret ? [`client ${clientId}: client secret (shown once): ${clientSecret}`] : []),
    ...(syncKey ? [`client ${clientId}: sync key (shown once): ${syncKey}`] : []),
  ];
}

/** A seed entry the hub refused: the entry (`client:bbs`, `user:kim`, `ucenter:1`) and why. */
export class SeedEntryError extends Error {
  override readonly name = 'SeedEntryError';
  constructor(
    readonly entry: string,
    cause: unknown,
  ) {
    super(`${entry}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** One entry of a seed: whether it is there already, how the hub checks it, how it is made. */
interface SeedEntry {
  entry: string;
  exists: () => Promise<boolean>;
  /** Throws what `create` would refuse, writing nothing. */
  check: () => unknown;
  /** What another record holds that `create` needs (a user's e-mail address, its id), reading only. */
  clash?: () => Promise<LocalizedMessage | undefined>;
  create: () => Promise<unknown>;
}

/**
 * Applies a seed, create-only: what is missing is created; nothing is ever overwritten
 * (a rotated secret, an edited redirect URI stay as the admin left them) and nothing comes
 * back (each entry is marked as applied in the store, so a user or client an admin
 * deleted is not created again when the file is applied at the next start). The entries to
 * create are checked as the hub would create them before anything is written: one the hub
 * refuses among twenty is named (SeedEntryError), and none of them is created.
 */
export async function applySeed(
  seed: Pick<Seed, 'users' | 'clients'> & Partial<Pick<Seed, 'ucenterApps'>>,
  services: Pick<DomainServices, 'store' | 'keys' | 'users' | 'clients' | 'ucenterApps'>,
  { show, created: onCreated }: ApplySeedOptions = {},
): Promise<SeedReport> {
  const { store, keys, users, clients, ucenterApps } = services;
  const report: SeedReport = { created: [], skipped: [], generated: [] };
  const entries: SeedEntry[] = [
    ...seed.clients.map((client): SeedEntry => ({
      entry: seedEntry.client(client.clientId),
      exists: async () => (await clients.findUncached(client.clientId)) !== undefined,
      check: () => clients.check(client),
      create: async () => {
        // Written as unshown: the key counts as shown only once `show` has printed it (a run
        // killed in between leaves a key no one saw, which a rotation replaces at once).
        const created = await clients.register(client, { keyShown: false });
        const clientSecret = client.clientSecret === undefined ? created.clientSecret : undefined;
        const syncKey = client.syncKey === undefined ? created.sync?.key : undefined;
        if (!clientSecret && !syncKey) return;
        const secrets = { clientId: created.clientId, ...(clientSecret ? { clientSecret } : {}), ...(syncKey ? { syncKey } : {}) };
        report.generated.push(secrets);
        if (!show) return;
        show(secrets);
        if (syncKey) await clients.markSyncKeyShown(created.clientId, syncKey);
      },
    })),
    ...seed.users.map((user): SeedEntry => ({
      entry: seedEntry.user(user.username),
      exists: async () => (await users.findByLogin(user.username)) !== undefined,
      check: () => UserRepository.checkNewUser(user),
      // Another account holding the address or the id is the file's mistake, not "there already".
      clash: async () => {
        if (user.id !== undefined && (await users.findById(user.id))) return msg('errors:idTaken', { id: user.id });
        if (await users.findByEmail(user.email)) return msg('errors:emailTaken', { email: user.email.trim() });
        return undefined;
      },
      create: () => users.create(user),
    })),
    ...(seed.ucenterApps ?? []).map((app): SeedEntry => ({
      entry: seedEntry.ucenterApp(app.appId),
      exists: async () => (await ucenterApps.find(app.appId)) !== undefined,
      check: () => UcenterAppRegistry.checked(app),
      create: () => ucenterApps.put(app),
    })),
  ];
  const applied = new Set(await store.setMembers(keys.seedApplied()));
  // What is to be made: not applied before, not there already (an entry applied or present is
  // skipped as it is, even if this version's checks would refuse it now).
  const missing = new Set<SeedEntry>();
  for (const entry of entries) if (!applied.has(entry.entry) && !(await entry.exists())) missing.add(entry);
  for (const one of [...missing]) {
    const { entry, check, clash } = one;
    try {
      check();
    } catch (error) {
      throw new SeedEntryError(entry, error);
    }
    if (!clash) continue;
    const held = await clash();
    // Made meanwhile by another process applying the same file (replicas started together): the
    // address or id is the entry's own, so it is there already, not a clash.
    if (held !== undefined && (await one.exists())) missing.delete(one);
    else if (held !== undefined) throw new SeedEntryError(entry, new ConflictError(held));
  }
  for (const one of entries) {
    const { entry, create } = one;
    if (missing.has(one)) {
      try {
        await create();
        report.created.push(entry);
        // Audited as it is made: a run interrupted later still leaves a trace of what it wrote.
        await onCreated?.(entry);
      } catch (error) {
        // Made meanwhile by another process applying the same file: there already. Any other
        // conflict (an address or id another account took meanwhile) is named, and the entry is
        // not marked applied, so the corrected file creates it.
        if (error instanceof ConflictError && (await one.exists())) report.skipped.push(entry);
        else throw isStoreUnavailable(error) ? error : new SeedEntryError(entry, error);
      }
    } else report.skipped.push(entry);
    // Marked after the write: a crash in between leaves an entry that exists, found above next time.
    if (!applied.has(entry)) await store.setAdd(keys.seedApplied(), entry);
  }
  return report;
}
