import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConflictError } from './errors.js';
import type { DomainServices } from './domain-services.js';

const grant = z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit']);

const seedSchema = z.object({
  users: z
    .array(
      z.object({
        id: z.string().optional(),
        username: z.string(),
        email: z.string(),
        name: z.string().optional(),
        password: z.string(),
        roles: z.array(z.string()).optional(),
      }),
    )
    .default([]),
  clients: z
    .array(
      z.object({
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
      }),
    )
    .default([]),
  /** UCenter applications with their app id and key (the key is in their own configuration). */
  ucenterApps: z
    .array(
      z.object({
        appId: z.number().int().positive(),
        name: z.string(),
        url: z.string(),
        key: z.string().min(32, 'a UC_KEY needs at least 32 characters'),
        type: z.string().optional(),
        noteFile: z.string().optional(),
        internalUrl: z.string().optional(),
        synlogin: z.boolean().optional(),
        updatepw: z.boolean().optional(),
        allowRegister: z.boolean().optional(),
      }),
    )
    .default([]),
});

/** A declarative file of users and clients (the demo's, or a deployment's bootstrap). */
export type Seed = z.infer<typeof seedSchema>;

export function parseSeed(text: string, source = 'seed'): Seed {
  const result = seedSchema.safeParse(parse(text));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new TypeError(`${source} is not a valid seed file:\n${lines.join('\n')}`);
  }
  return result.data;
}

export async function loadSeedFile(path: string): Promise<Seed> {
  return parseSeed(await readFile(path, 'utf8'), path);
}

export interface SeedReport {
  /** `user:NAME` / `client:ID` / `ucenter:APPID` created by this run. */
  created: string[];
  /** Entries left alone: they exist, or were applied once and since changed or deleted by an admin. */
  skipped: string[];
}

/**
 * Applies a seed, create-only: what is missing is created; nothing is ever overwritten
 * (a rotated secret, an edited redirect URI stay as the admin left them) and nothing comes
 * back (each entry is marked as applied in the store, so a user or client an admin
 * deleted is not created again when the file is applied at the next start).
 */
export async function applySeed(
  seed: Pick<Seed, 'users' | 'clients'> & Partial<Pick<Seed, 'ucenterApps'>>,
  services: Pick<DomainServices, 'store' | 'keys' | 'users' | 'clients' | 'ucenterApps'>,
): Promise<SeedReport> {
  const { store, keys, users, clients, ucenterApps } = services;
  const applied = new Set(await store.setMembers(keys.seedApplied()));
  const report: SeedReport = { created: [], skipped: [] };
  const once = async (entry: string, exists: () => Promise<boolean>, create: () => Promise<unknown>) => {
    if (applied.has(entry) || (await exists())) {
      report.skipped.push(entry);
    } else {
      try {
        await create();
        report.created.push(entry);
      } catch (error) {
        // Taken meanwhile (another process applying the same file, or an email in use).
        if (!(error instanceof ConflictError)) throw error;
        report.skipped.push(entry);
      }
    }
    // Marked after the write: a crash in between leaves an entry that exists, found above next time.
    if (!applied.has(entry)) await store.setAdd(keys.seedApplied(), entry);
  };
  for (const client of seed.clients) {
    await once(`client:${client.clientId}`, async () => (await clients.findUncached(client.clientId)) !== undefined, () => clients.register(client));
  }
  for (const user of seed.users) {
    await once(`user:${user.username.toLowerCase()}`, async () => (await users.findByLogin(user.username)) !== undefined, () => users.create(user));
  }
  for (const app of seed.ucenterApps ?? []) {
    await once(`ucenter:${app.appId}`, async () => (await ucenterApps.find(app.appId)) !== undefined, () => ucenterApps.put(app));
  }
  return report;
}
