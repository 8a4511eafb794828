/**
 * A replica started with a mistyped KEY_PREFIX (`sso` for the fleet's `sso:`) on the fleet's Redis
 * started empty, answered ready and said only "no admin account exists yet" (an operator review):
 * the CLI refuses such a prefix, the hub said nothing. Now its start names the prefixes found.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { main, type RunningMain } from '../src/main.js';
import { freePort } from '../src/testing/hub-process.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { closeRedis, connectRedis, deleteByPrefix } from '../src/store/redis-client.js';

jest.setTimeout(120_000);

const base = `stray-${randomUUID().slice(0, 8)}-`;
const running: RunningMain[] = [];
let warnings: string[] = [];

async function start(prefix: string, issuer: string): Promise<void> {
  running.push(await main({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, HUB_ISSUER: issuer, HUB_PORT: String(await freePort()), LOG_LEVEL: 'warn' }));
}

beforeAll(() => {
  // The hub's warn lines go to stderr: kept here, not printed.
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    warnings.push(String(chunk));
    return true;
  });
});

beforeEach(() => {
  warnings = [];
});

afterAll(async () => {
  jest.restoreAllMocks();
  for (const hub of running) await hub.close();
  const client = await connectRedis(TEST_REDIS_URL);
  await deleteByPrefix(client, base);
  await closeRedis(client);
});

const strayLines = () => warnings.filter((line) => line.includes('KEY_PREFIX'));

test('a hub with the fleet’s issuer under another prefix is told which prefix the fleet uses', async () => {
  await start(`${base}sso:`, 'http://hub.stray.localhost:4000');
  // The shared Redis may hold other tests' hubs (other issuers): at most the weaker line, never this one.
  expect(strayLines().filter((line) => line.includes('hubs with this HUB_ISSUER'))).toEqual([]);
  warnings = [];
  await start(`${base}sso`, 'http://hub.stray.localhost:4000');
  expect(strayLines()).toHaveLength(1);
  expect(strayLines()[0]).toContain(`hubs with this HUB_ISSUER (http://hub.stray.localhost:4000) run on this Redis under KEY_PREFIX \\"${base}sso:\\", not this process's \\"${base}sso\\"`);
  expect(strayLines()[0]).toContain('set KEY_PREFIX as they have it');
});

test('a hub of another issuer under a new prefix is told once, until it has published its settings', async () => {
  await start(`${base}other:`, 'http://other.stray.localhost:4000');
  expect(strayLines()).toHaveLength(1);
  expect(strayLines()[0]).toContain(`no hub has published its settings under KEY_PREFIX \\"${base}other:\\" on this Redis, but hubs have under`);
  warnings = [];
  await start(`${base}other:`, 'http://other.stray.localhost:4000');
  expect(strayLines()).toEqual([]);
});
