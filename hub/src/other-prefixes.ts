import { RedisStore } from './store/redis.js';
import { scanKeys } from './store/redis-client.js';
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
  if (!others.length) return undefined;
  const sameIssuer: string[] = [];
  for (const prefix of others) if ((await readPublishedSettings(store, new Keys(prefix)))?.HUB_ISSUER === issuer) sameIssuer.push(prefix);
  const named = (prefixes: string[]) => prefixes.slice(0, NAMED_AT_MOST).map((prefix) => JSON.stringify(prefix)).join(', ') + (prefixes.length > NAMED_AT_MOST ? ` (and ${prefixes.length - NAMED_AT_MOST} more)` : '');
  const fix = 'set KEY_PREFIX as they have it (a typo?) and restart this process: under its own prefix it knows none of their users, clients or sessions, and a load balancer sending it their sign-ins splits the fleet';
  if (sameIssuer.length) return `hubs with this HUB_ISSUER (${issuer}) run on this Redis under KEY_PREFIX ${named(sameIssuer)}, not this process's ${JSON.stringify(keys.prefix)}: ${fix}`;
  return `no hub has published its settings under KEY_PREFIX ${JSON.stringify(keys.prefix)} on this Redis, but hubs have under ${named(others)}: if this process belongs to their fleet, ${fix}; a hub of its own under a new prefix can ignore this (said only until it has published its settings)`;
}
