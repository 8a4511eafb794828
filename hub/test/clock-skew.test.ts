/**
 * Two hub processes whose clocks are two seconds apart, on one Redis. A refresh token sent to
 * both at once (two tabs behind a load balancer) must be answered once and revoke nothing, as
 * on clocks in step: a redemption claim says when it was made and when its answer went out,
 * and the other process compares that with its own "now". On the processes' own clocks (an
 * outside review, one hub's clock shifted): 1.5 s apart took the duplicate for a reuse and
 * revoked the grant, signing the user out, in 20 of 30 pairs; 3 s apart took the winner's
 * answer, still going out, for a lost one and sent the same tokens again. Claims are now dated
 * by the store's clock (hub/src/store/store-clock.ts). Real processes, real Redis.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, startHubProcess, type HubProcess } from '../src/testing/hub-process.js';
import { connectRedis } from '../src/store/redis.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

// Two hub process starts (tsx compiles each) on a loaded 2-core machine.
jest.setTimeout(180_000);

const CLIENT = 'skew-app';
const SECRET = 'skew-app-client-secret-0123456789abcdef';
const USER = { login: 'skewed', password: 'skew-password-1' };
const SKEW_MS = 2_000;
const ROUNDS = 12;

describe('two hub processes with clocks 2 s apart (Redis)', () => {
  const prefix = `test:skew:${randomUUID()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'sso-skew-'));
  const hubs: HubProcess[] = [];
  let issuer: string;

  beforeAll(async () => {
    const seedFile = join(dir, 'seed.yaml');
    writeFileSync(seedFile, stringify({
      users: [{ username: USER.login, email: 'skewed@example.test', password: USER.password }],
      clients: [{ clientId: CLIENT, clientSecret: SECRET, name: 'Skew App', redirectUris: ['http://rp.skew.test/cb'], grantTypes: ['password', 'refresh_token'], trusted: true }],
    }));
    // Shifts Date.now (what the hub's times come from) by TEST_CLOCK_SKEW_MS in the process it is preloaded in.
    const skew = join(dir, 'skew.mjs');
    writeFileSync(skew, 'const skew = Number(process.env.TEST_CLOCK_SKEW_MS ?? 0);\nconst now = Date.now;\nDate.now = () => now() + skew;\n');
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      KEY_PREFIX: prefix,
      HUB_ISSUER: issuer,
      HUB_SEED_FILE: seedFile,
      HUB_ENABLE_PASSWORD_GRANT: 'true',
      LOGIN_MAX_ATTEMPTS_PER_IP: '1000000',
    };
    // One after the other: the first creates the keys and applies the seed, the second finds them.
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(port) }));
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(await freePort()), NODE_OPTIONS: `--import ${skew}`, TEST_CLOCK_SKEW_MS: String(SKEW_MS) }));
  });

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    const client = await connectRedis(TEST_REDIS_URL);
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
    await client.quit();
  });

  const token = (hub: HubProcess, form: Record<string, string>) => postForm(`http://127.0.0.1:${hub.port}/token`, form, { authorization: basic(CLIENT, SECRET) });

  test('a refresh sent to both at once: one answer, one invalid_grant, and the winner\'s new token works', async () => {
    const [a, b] = hubs as [HubProcess, HubProcess];
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const first = await token(a, { grant_type: 'password', username: USER.login, password: USER.password, scope: 'openid offline_access' });
      expect(first.status).toBe(200);
      const refreshToken = String(first.body.refresh_token);
      const pair = await Promise.all([a, b].map((hub) => token(hub, { grant_type: 'refresh_token', refresh_token: refreshToken })));
      const won = pair.filter((answer) => answer.status === 200);
      const lost = pair.filter((answer) => answer.status === 400 && answer.body.error === 'invalid_grant');
      let next = 'none';
      if (won.length === 1) next = String((await token(a, { grant_type: 'refresh_token', refresh_token: String(won[0]!.body.refresh_token) })).status);
      outcomes.push(`${won.length} won, ${lost.length} refused, winner's next refresh ${next}`);
    }
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, () => "1 won, 1 refused, winner's next refresh 200"));
    // The skewed process knows its clock is off, and says so.
    expect(hubs[1]!.stdout() + hubs[1]!.stderr()).toMatch(/clock differs from the store's/);
  });
});
