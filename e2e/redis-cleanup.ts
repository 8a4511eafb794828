import { createClient } from 'redis';

/**
 * The e2e run writes users, clients, secrets and sessions under its own key prefix; many of
 * them (users, clients, the hub's keys) have no TTL by design. After the run every key under
 * the prefix is deleted (SCAN, never KEYS), and the run fails if anything is left.
 * @returns how many keys were deleted.
 */
export async function deleteRunKeys(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix || prefix.length < 4) throw new Error(`refusing to delete keys under the prefix "${prefix}"`);
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    let deleted = 0;
    for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(prefix)}*`, COUNT: 500 })) {
      if (batch.length > 0) deleted += await client.del(batch);
    }
    let left = 0;
    for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(prefix)}*`, COUNT: 500 })) left += batch.length;
    if (left > 0) throw new Error(`${left} keys under ${prefix} are still in Redis after the e2e teardown`);
    return deleted;
  } finally {
    await client.quit();
  }
}

/** SCAN MATCH treats `*?[]\` as a pattern: a prefix is matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
