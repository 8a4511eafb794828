import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ClientRegistry } from './clients/client-registry.js';
import { ConflictError } from './errors.js';
import type { UserRepository } from './users/user-repository.js';

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

/**
 * Applies a seed: clients are created or updated (secrets kept when the file gives none);
 * users are created once and never overwritten, so a restart does not reset passwords.
 */
export async function applySeed(seed: Seed, users: UserRepository, clients: ClientRegistry): Promise<void> {
  for (const client of seed.clients) await clients.upsert(client);
  for (const user of seed.users) {
    if (await users.findByLogin(user.username)) continue;
    try {
      await users.create(user);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}
