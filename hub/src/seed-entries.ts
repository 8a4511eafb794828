import { foldName, type Keys } from './store/keys.js';
import type { Store } from './store/store.js';

/**
 * The names a seed gives its entries in `{prefix}seed:applied` (seed.ts). An entry there is never
 * created by a seed again: what a seed created or found, and what an admin removed by hand (a
 * client, a user, a UCenter application), so a seed applied for the first time after the removal
 * does not bring it back.
 */
export const seedEntry = {
  client: (clientId: string): string => `client:${clientId}`,
  user: (username: string): string => `user:${foldName(username)}`,
  ucenterApp: (appId: number): string => `ucenter:${appId}`,
};

/** Marks an entry an admin removed: no seed creates it again. */
export async function keepRemovedFromSeeds(store: Store, keys: Keys, entry: string): Promise<void> {
  await store.setAdd(keys.seedApplied(), entry);
}
