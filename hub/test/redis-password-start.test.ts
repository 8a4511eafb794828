/**
 * A hub started against a Redis with `requirepass` and a REDIS_URL with a wrong password, or with
 * none: the one line it prints names REDIS_URL and what to write, and says Redis's refusal once.
 * Before (an operator review), a wrong password printed WRONGPASS three times in one line (node-redis
 * wraps the reply in an error of the same words, and the start appended the cause again), and a
 * missing one printed Redis's two-sentence NOAUTH text about HELLO three times, and called it a
 * refusal of credentials that were never given.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { main, startFailureLine } from '../src/main.js';
import { freePort } from '../src/testing/hub-process.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';

const PASSWORD = `data-${randomUUID()}`;

/** The line `node hub/dist/main.js` prints on stderr when main(env) is refused. */
async function refusedStart(env: Record<string, string>): Promise<string> {
  const started = await main({ LOG_LEVEL: 'silent', HUB_PORT: String(await freePort()), KEY_PREFIX: `pwstart-${randomUUID()}:`, ...env }).then(
    async (running) => {
      await running.close();
      return undefined;
    },
    (error: unknown) => startFailureLine(error),
  );
  if (started === undefined) throw new Error('the hub started');
  return started;
}

describe('a Redis that asks for a password', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.sendCommand(['CONFIG', 'SET', 'requirepass', PASSWORD]);
    await admin.destroy();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  test('a wrong password in REDIS_URL: refused once, naming REDIS_URL, never showing the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const line = await refusedStart({ REDIS_URL: redis.url.replace('redis://', `redis://:${wrong}@`) });
    expect(line).toMatch(/answered, but refused the credentials \(WRONGPASS .*\): check the password in REDIS_URL/);
    expect(line.match(/WRONGPASS/g)).toHaveLength(1);
    expect(line).not.toContain(wrong);
    expect(line).not.toContain('\n');
  }, 30_000);

  test('no password in REDIS_URL: said as that, with how to write one', async () => {
    const line = await refusedStart({ REDIS_URL: redis.url });
    expect(line).toMatch(/answered, but asks for a password, and REDIS_URL has none: write it in REDIS_URL as redis:\/\/:PASSWORD@host:port/);
    expect(line).not.toMatch(/NOAUTH|HELLO/);
  }, 30_000);

  test('a Redis that is not there: the refusal still names REDIS_URL', async () => {
    expect(await refusedStart({ REDIS_URL: 'redis://127.0.0.1:1' })).toMatch(/did not answer .*REDIS_URL/);
  }, 30_000);
});

describe('startFailureLine', () => {
  test('a cause that adds something (the resolver\'s words) follows the message once; one it already quotes, or a refused password, does not', () => {
    expect(startFailureLine(new Error('Redis redis:6379 (single) did not answer', { cause: new Error('getaddrinfo ENOTFOUND redis') }))).toBe('Redis redis:6379 (single) did not answer (getaddrinfo ENOTFOUND redis)');
    expect(startFailureLine(new Error('refused the credentials (WRONGPASS x): check REDIS_URL', { cause: new Error('WRONGPASS x') }))).toBe('refused the credentials (WRONGPASS x): check REDIS_URL');
    expect(startFailureLine(new Error('asks for a password: write it in REDIS_URL', { cause: new Error('NOAUTH Authentication required.') }))).toBe('asks for a password: write it in REDIS_URL');
    expect(startFailureLine('plain')).toBe('plain');
  });
});
