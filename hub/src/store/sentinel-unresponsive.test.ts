import { jest } from '@jest/globals';
import { Socket } from 'node:net';
import { startOwnRedisSentinel, type OwnRedisSentinel } from '../testing/redis-server.js';
import { connectRedis, type RedisClient } from './redis-client.js';
import { StoreUnavailableError } from './store.js';

jest.setTimeout(60_000);

/** The PID a redis-server (or sentinel) on `port` reports, read with one INFO on a raw socket. */
function pidOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error(`no answer from port ${port}`));
    });
    socket.once('error', reject);
    socket.on('data', (data) => {
      reply += data.toString();
      const pid = /process_id:(\d+)/.exec(reply)?.[1];
      if (pid) {
        socket.destroy();
        resolve(Number(pid));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('INFO server\r\n'));
  });
}

/**
 * A sentinel that accepts connections and never answers (its host frozen, a half-open link;
 * here SIGSTOP by PID): node-redis asks sentinels in list order and waits on such a one without
 * limit. An outside review started a hub while the first of three sentinels was stopped: the hub
 * neither started nor exited (it still waited after minutes), although the other two answered.
 */
describe('a sentinel that accepts connections but never answers', () => {
  let own: OwnRedisSentinel;
  const stopped: number[] = [];
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    own = await startOwnRedisSentinel('sso-unresponsive');
  });
  afterEach(async () => {
    for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT');
    for (const client of clients.splice(0)) await Promise.resolve(client.destroy()).catch(() => {});
  });
  afterAll(async () => {
    await own?.stop();
  });

  async function freeze(port: number): Promise<void> {
    const pid = await pidOf(port);
    process.kill(pid, 'SIGSTOP');
    stopped.push(pid);
  }

  test('listed first: the store connects through the sentinels that answer, and works', async () => {
    await freeze(own.sentinelRootNodes[0]!.port);
    const started = Date.now();
    const client = await Promise.race([
      connectRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: own.name }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('connectRedis still waiting after 15 s')), 15_000).unref()),
    ]);
    clients.push(client);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Commands go through (node-redis's scan each second asks the answering sentinels first).
    for (let i = 0; i < 3; i += 1) {
      await expect(Promise.race([client.set('sso-unresponsive:probe', String(i), { EX: 30 }), new Promise((resolve) => setTimeout(() => resolve('no answer in 2 s'), 2_000).unref())])).resolves.toBe('OK');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  });

  test('every sentinel silent: the start fails within its bound instead of waiting for ever', async () => {
    for (const { port } of own.sentinelRootNodes) await freeze(port);
    const started = Date.now();
    const outcome = await Promise.race([
      connectRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: own.name }).then(
        (client) => {
          clients.push(client);
          return 'connected';
        },
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000).unref()),
    ]);
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
