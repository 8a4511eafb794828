import { RedisStore } from './store/redis.js';
import { isCluster, isSentinel, scanKeys } from './store/redis-client.js';
import { Keys } from './store/keys.js';
import type { Store } from './store/store.js';
import { readPublishedSettings } from './published-settings.js';

/**
 * Other KEY_PREFIXes of this Redis under which a hub has published its settings (at most
 * `limit`, found by SCAN): for a CLI run or a hub start whose own prefix has none, most likely a
 * typo of one of them.
 */
export async function otherPublishedPrefixes(store: Store, keys: Keys, limit = 5): Promise<string[]> {
  if (!(store instanceof RedisStore)) return [];
  const mine = keys.hubSettings();
  const suffix = mine.slice(keys.prefix.length);
  const found = new Set<string>();
  for await (const batch of scanKeys(store.client, `*${suffix}`, 1_000)) {
    for (const key of batch) if (key !== mine && key.endsWith(suffix)) found.add(key.slice(0, -suffix.length));
    if (found.size >= limit) break;
  }
  return [...found].sort().slice(0, limit);
}

/** How many prefixes a warning names. */
const NAMED_AT_MOST = 5;

/**
 * Said at a hub's start when hubs on the same Redis have published their settings under other
 * KEY_PREFIXes: a replica whose prefix is mistyped (`sso` for `sso:`) would otherwise start empty,
 * answer ready and know none of the fleet's users, clients or sessions. Looked for only while
 * nothing is published under this prefix yet (its first start): hubs there with this hub's
 * HUB_ISSUER are one deployment for certain, and named so; others are named as possibly so (a
 * second deployment under a prefix of its own starts this way once). Only a warning: a refusal
 * would stop that second deployment too.
 */
export async function strayPrefixWarning(store: Store, keys: Keys, issuer: string): Promise<string | undefined> {
  if (!(store instanceof RedisStore)) return undefined;
  // Only while this prefix has no published settings (its first start): the SCAN reads the whole
  // keyspace, which on a Redis of millions of sessions would add seconds to every start of a
  // rolling restart. A mistyped prefix is new at its first start, and said then.
  if (await readPublishedSettings(store, keys)) return undefined;
  // Every one, not the first five: on a Redis of more deployments (a shared one) the fleet of
  // this issuer may sort anywhere among them, and was then named only as "possibly so", or not at all.
  const others = await otherPublishedPrefixes(store, keys, Number.POSITIVE_INFINITY);
  if (!others.length) {
    const databases = await otherDatabasesWithHubs(store, keys);
    if (!databases.length) return undefined;
    const current = selectedDatabase(store);
    return `no hub has published its settings in database ${current} of this Redis (the /${current} of REDIS_URL, or none: 0), but hubs have in ${describeOtherDatabases(databases)}: if this process belongs to their fleet, write REDIS_URL with their /N and restart it: in another database it knows none of their users, clients or sessions, and a load balancer sending it their sign-ins splits the fleet; a hub of its own in a new database can ignore this (said only until it has published its settings)`;
  }
  const sameIssuer: string[] = [];
  for (const prefix of others) if ((await readPublishedSettings(store, new Keys(prefix)))?.HUB_ISSUER === issuer) sameIssuer.push(prefix);
  const named = (prefixes: string[]) => prefixes.slice(0, NAMED_AT_MOST).map((prefix) => JSON.stringify(prefix)).join(', ') + (prefixes.length > NAMED_AT_MOST ? ` (and ${prefixes.length - NAMED_AT_MOST} more)` : '');
  const fix = 'set KEY_PREFIX as they have it (a typo?) and restart this process: under its own prefix it knows none of their users, clients or sessions, and a load balancer sending it their sign-ins splits the fleet';
  if (sameIssuer.length) return `hubs with this HUB_ISSUER (${issuer}) run on this Redis under KEY_PREFIX ${named(sameIssuer)}, not this process's ${JSON.stringify(keys.prefix)}: ${fix}`;
  return `no hub has published its settings under KEY_PREFIX ${JSON.stringify(keys.prefix)} on this Redis, but hubs have under ${named(others)}: if this process belongs to their fleet, ${fix}; a hub of its own under a new prefix can ignore this (said only until it has published its settings)`;
}

/** A database of this Redis server, other than REDIS_URL's, where hubs have published their settings. */
export interface OtherDatabase {
  db: number;
  /** Their KEY_PREFIXes there (at most five). */
  prefixes: string[];
}

/**
 * Other databases of this one Redis server (REDIS_URL's `/N`; not a cluster, which has only
 * database 0, nor Sentinel) where hubs have published their settings: for a CLI run or a hub start
 * whose own database has none, most likely a REDIS_URL with the wrong `/N` (or none) next to a
 * fleet that has one. Before (an operator review), `clients add` on `/5` next to hubs on `/0`
 * registered the client where no hub reads, with a warning that no hub had published "on Redis
 * 127.0.0.1:6379 … nor under any other", and a hub on `/1` started empty and answered ready.
 * Only the databases INFO keyspace lists as holding keys are looked in, one SCAN each.
 */
export async function otherDatabasesWithHubs(store: Store, keys: Keys, limit = 5): Promise<OtherDatabase[]> {
  if (!(store instanceof RedisStore) || isCluster(store.client) || isSentinel(store.client)) return [];
  const client = store.client;
  const current = selectedDatabase(store);
  // Best effort: a Redis user without INFO or another database's rights has nothing said here.
  const info = String(await client.info('keyspace').catch(() => ''));
  const databases = [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].map((match) => Number(match[1])).filter((db) => db !== current);
  const suffix = keys.hubSettings().slice(keys.prefix.length);
  const found: OtherDatabase[] = [];
  for (const db of databases) {
    // Without the URL: node-redis parses it again over the overrides, and its /N would win.
    const other = client.duplicate({ database: db, url: undefined });
    other.on('error', () => undefined);
    try {
      await other.connect();
      const prefixes = new Set<string>();
      for await (const batch of other.scanIterator({ MATCH: `*${suffix}`, COUNT: 1_000 })) {
        for (const key of batch) if (key.endsWith(suffix)) prefixes.add(key.slice(0, -suffix.length));
        if (prefixes.size >= limit) break;
      }
      if (prefixes.size) found.push({ db, prefixes: [...prefixes].sort().slice(0, limit) });
    } catch {
      // This user may not SELECT that database (ACL), or it went away: looked past.
    } finally {
      other.destroy();
    }
  }
  return found;
}

/** "database 0 (KEY_PREFIX "sso:")", for the messages of a REDIS_URL with another database. */
export function describeOtherDatabases(found: OtherDatabase[]): string {
  return found.map(({ db, prefixes }) => `database ${db} (KEY_PREFIX ${prefixes.map((prefix) => JSON.stringify(prefix)).join(', ')})`).join(', ');
}

/** The database REDIS_URL selects (its `/N`; 0 without one, and on a cluster or Sentinel). */
export function selectedDatabase(store: Store): number {
  if (!(store instanceof RedisStore) || isCluster(store.client) || isSentinel(store.client)) return 0;
  return store.client.options?.database ?? 0;
}
