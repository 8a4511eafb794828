/**
 * REDIS_URL with another database (`/N`) than the fleet's, on the same Redis server: the same
 * mistake as a mistyped KEY_PREFIX, and now said the same way. Before (an operator review), the
 * admin CLI on `/5` next to a hub on `/0` warned that no hub had published its settings "on Redis
 * 127.0.0.1:… nor under any other" and registered the client where no hub reads it (exit 0), and
 * a hub on `/1` started empty, answered ready and said nothing.
 */
import { randomUUID } from 'node:crypto';
import { runCli } from '../src/cli.js';
import { main } from '../src/main.js';
import { strayPrefixWarning } from '../src/other-prefixes.js';
import { openStore, type Store } from '../src/store/index.js';
import { Keys } from '../src/store/keys.js';
import { freePort } from '../src/testing/hub-process.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';

const PREFIX = `fleet-${randomUUID()}:`;
const ISSUER = 'http://hub.sso.localhost:4999';

describe('a fleet on database 2 of a Redis server', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
    // A hub of the fleet starts (and publishes its settings) on /2, then stops.
    const hub = await main({ LOG_LEVEL: 'silent', REDIS_URL: `${redis.url}/2`, KEY_PREFIX: PREFIX, HUB_ISSUER: ISSUER, HUB_PORT: String(await freePort()) });
    await hub.close();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  const cli = async (url: string, ...more: string[]) => {
    const printed: string[] = [];
    const warned: string[] = [];
    const code = await runCli(['clients', 'add', '--id', `db-${randomUUID()}`, '--redirect-uri', 'https://t.test/cb', ...more], { REDIS_URL: url, KEY_PREFIX: PREFIX }, (line) => printed.push(line), (line) => warned.push(line));
    return { code, printed: printed.join('\n'), warned: warned.join('\n') };
  };

  test('the CLI on /0 (or no path) is refused, naming database 0, the fleet\'s database and REDIS_URL, with nothing written; --new-prefix runs it; /2 runs quietly', async () => {
    for (const url of [`${redis.url}/0`, redis.url]) {
      const refused = await cli(url);
      expect(refused.code).toBe(1);
      expect(refused.printed).toMatch(/^error: no hub has published its settings in database 0 of Redis 127\.0\.0\.1:\d+ \(single\) \(the \/0 of REDIS_URL, or none: 0\), but hubs have in database 2 \(KEY_PREFIX "fleet-[^"]+"\): write REDIS_URL with their \/N/);
      expect(refused.printed).not.toMatch(/registered client/);
    }
    const store = await openStore(`${redis.url}/0`);
    try {
      expect(await (store as Store & { client: { dbSize(): Promise<number> } }).client.dbSize()).toBe(0);
    } finally {
      await store.close();
    }
    const forced = await cli(`${redis.url}/0`, '--new-prefix');
    expect(forced.code).toBe(0);
    const right = await cli(`${redis.url}/2`);
    expect(right.code).toBe(0);
    expect(right.printed).toMatch(/registered client/);
    expect(right.warned).toBe('');
  }, 30_000);

  test('a hub starting on /1 is warned, naming the fleet\'s database; on /2 it is not', async () => {
    const wrong = await openStore(`${redis.url}/1`);
    try {
      expect(await strayPrefixWarning(wrong, new Keys(PREFIX), ISSUER)).toMatch(/^no hub has published its settings in database 1 of this Redis \(the \/1 of REDIS_URL, or none: 0\), but hubs have in database 2 \(KEY_PREFIX "fleet-[^"]+"\): if this process belongs to their fleet, write REDIS_URL with their \/N/);
    } finally {
      await wrong.close();
    }
    const right = await openStore(`${redis.url}/2`);
    try {
      expect(await strayPrefixWarning(right, new Keys(PREFIX), ISSUER)).toBeUndefined();
    } finally {
      await right.close();
    }
  }, 30_000);
});
