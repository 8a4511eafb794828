/**
 * The test harness's own redis-servers: a port found free may be taken by a test in the other
 * jest worker before the server binds it. `launch` must then notice that the port answers for
 * another process and move to another port, never hand the test someone else's server.
 */
import { launch, startOwnRedis } from './redis-server.js';
import { freePort } from './hub-process.js';

describe('launch: a redis-server of the test’s own', () => {
  test('a port already served by another redis-server is detected (process id) and another one is used', async () => {
    const other = await startOwnRedis();
    const taken = Number(new URL(other.url).port);
    const picks = [taken];
    try {
      const ours = await launch((port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], undefined, 'redis-server', async () => picks.shift() ?? freePort());
      try {
        expect(ours.port).not.toBe(taken);
        expect(ours.child.exitCode).toBeNull();
      } finally {
        ours.child.kill('SIGKILL');
        await ours.exited;
      }
    } finally {
      await other.stop();
    }
  });
});
