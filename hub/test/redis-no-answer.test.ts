/**
 * "Did not answer" is not "wrong password". The admin CLI's `users disable` during a Sentinel
 * failover (the primary frozen, a replica being promoted) printed "Redis … (sentinel) did not
 * answer: is it running, and are REDIS_URL (or …) and its password right?": the store was only
 * slow, and the operator was sent to a password that was right. A refused password (NOAUTH,
 * WRONGPASS) is said as such elsewhere; a store that did not answer in time now says that, and
 * whether it answers now.
 */
import { randomUUID } from 'node:crypto';
import { runCli } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { storeStoppedMessage, unreachableRedisMessage } from '../src/store/index.js';
import { startOwnRedisSentinel, type OwnRedisSentinel } from '../src/testing/redis-server.js';

const PASSWORD = `data-${randomUUID()}`;
const SENTINEL_PASSWORD = `sentinels-${randomUUID()}`;
let sentinel: OwnRedisSentinel;
let env: Record<string, string>;

beforeAll(async () => {
  sentinel = await startOwnRedisSentinel('sso-no-answer', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  env = { LOG_LEVEL: 'error', REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_NAME: sentinel.name, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD, KEY_PREFIX: `no-answer-${randomUUID()}:` };
}, 60_000);

afterAll(async () => {
  await sentinel.stop();
});

/** One CLI run, its exit code and what it printed (or the message it threw). */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  try {
    const code = await runCli([...argv, '--new-prefix'], env, (line) => lines.push(line), () => undefined);
    return { code, out: lines.join('\n') };
  } catch (error) {
    return { code: 1, out: [...lines, error instanceof Error ? error.message : String(error)].join('\n') };
  }
}

test('a store that was slow at connect and serves now: "did not answer in time, and answers now … no password was refused", not "its password right?"', async () => {
  const target = loadConfig(env).redis!;
  const message = await unreachableRedisMessage(target, new Error('could not connect to Redis in time'));
  expect(message).toMatch(/\(sentinel\) did not answer in time, and answers now with these settings \(no password was refused\): .*failover/);
  expect(message).not.toMatch(/password right/);
  expect(message).not.toContain(PASSWORD);
}, 30_000);

test('a store that stopped answering in the middle of a command: said so (it answered at its start), not "its password right?"; a refusal mid-command still names the password', async () => {
  const target = loadConfig(env).redis!;
  const stopped = await storeStoppedMessage(target, new Error('store command timed out'));
  expect(stopped).toMatch(/answered when the command began, then did not answer in time \(no password was refused\); it answers again now: .*The command may have stopped part-way/);
  expect(stopped).not.toMatch(/password right/);
  const refused = await storeStoppedMessage(target, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
  expect(refused).toMatch(/refused the credentials \(WRONGPASS.*check REDIS_PASSWORD/);
}, 30_000);

test('`users disable` while the Sentinel primary is frozen and a replica is promoted: no run blames the password; each failure says it did not answer in time', async () => {
  expect((await cli('users', 'add', '--username', 'alice', '--email', 'alice@example.test', '--password', 'correct horse battery staple')).code).toBe(0);
  await sentinel.readyForFailover();
  await sentinel.pausePrimary();
  const runs: { code: number; out: string }[] = [];
  try {
    // As the failover review's tool did: retried while it fails, as an operator would.
    for (let i = 0; i < 4; i += 1) {
      const run = await cli('users', 'disable', 'alice');
      runs.push(run);
      if (run.code === 0) break;
    }
  } finally {
    await sentinel.resumeReplica();
  }
  for (const run of runs) {
    expect(run.out).not.toMatch(/password right/);
    if (run.code !== 0) expect(run.out).toMatch(/did not answer in time|does not answer|no password was refused/);
    expect(run.out).not.toContain(PASSWORD);
  }
  // Once promoted, the command goes through.
  expect(runs.at(-1)!.code).toBe(0);
}, 90_000);
