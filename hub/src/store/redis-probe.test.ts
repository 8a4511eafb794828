import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.js';
import { freePort } from '../testing/hub-process.js';
import { launch, startOwnRedisSentinel, type OwnRedisSentinel, type Spawned } from '../testing/redis-server.js';
import { unreachableRedisMessage } from './index.js';
import { wrongKindOfRedis } from './redis-probe.js';

jest.setTimeout(60_000);

describe('a Sentinel setting whose sentinels answer', () => {
  let own: OwnRedisSentinel;
  beforeAll(async () => {
    own = await startOwnRedisSentinel('sso-probe');
  });
  afterAll(async () => {
    await own?.stop();
  });

  test('a mistyped REDIS_SENTINEL_NAME is named with the names the sentinels monitor, not "did not answer" (an outside operator review: it sent them to check whether Redis ran)', async () => {
    const message = await unreachableRedisMessage({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: 'sso-prob' });
    expect(message).toMatch(/found no primary: the sentinel at 127\.0\.0\.1:\d+ monitors no primary named "sso-prob" \(they monitor "sso-probe"\): set REDIS_SENTINEL_NAME to the name in their `sentinel monitor NAME …` line/);
    expect(message).not.toMatch(/did not answer/);
  });

  test('the right name says nothing more (the cause lies elsewhere)', async () => {
    expect(await wrongKindOfRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: 'sso-probe' })).toBeUndefined();
  });
});

describe('sentinels that answer and name a primary that does not (the failover review started a hub so)', () => {
  let dir: string;
  const sentinels: Spawned[] = [];
  let primaryPort = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sso-probe-down-'));
    // Nothing listens there, and nothing will: a free port picked here could be taken by another
    // test's server meanwhile (it was, in a run beside other jest runs), and then it answered.
    primaryPort = 1;
    for (let i = 0; i < 3; i += 1) {
      sentinels.push(await launch(async (port) => {
        const file = join(dir, `sentinel-${port}.conf`);
        await writeFile(file, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor sso-down 127.0.0.1 ${primaryPort} 2`, 'sentinel down-after-milliseconds sso-down 1000', ''].join('\n'));
        return [file, '--sentinel'];
      }, dir, 'sentinel'));
    }
  });
  afterAll(async () => {
    for (const { child } of sentinels) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(sentinels.map((s) => s.exited));
    await rm(dir, { recursive: true, force: true });
  });

  test('the start names the primary the sentinels point to as the one not answering, not the sentinels', async () => {
    const target = { kind: 'sentinel' as const, sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: 'sso-down' };
    const message = await unreachableRedisMessage(target);
    expect(message).toMatch(new RegExp(`\\(sentinel\\) found no primary: the sentinels name 127\\.0\\.0\\.1:${primaryPort} as the primary "sso-down", and it does not answer: start it, or let the sentinels promote a replica`));
    expect(message).not.toMatch(/did not answer: is it running/);
    await expect(main({ REDIS_SENTINELS: target.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), REDIS_SENTINEL_NAME: 'sso-down', HUB_PORT: String(await freePort()), LOG_LEVEL: 'silent' })).rejects.toThrow(`the sentinels name 127.0.0.1:${primaryPort} as the primary "sso-down", and it does not answer`);
  });
});
