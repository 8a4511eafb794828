import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { WindowLimit } from '../security/window-limit.js';
import { startOwnRedis } from '../testing/redis-server.js';
import { ioDeadline } from './io-deadline.js';
import { connectRedis } from './redis-client.js';

describe('ioDeadline: a deadline that reads the I/O that arrived first', () => {
  it('fires after its time when nothing arrives, and not at all once cancelled', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => ioDeadline(50, resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    let fired = false;
    const cancel = ioDeadline(20, () => (fired = true));
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toBe(false);
  });

  it('a rate limit counted while the process itself held the event loop past the store deadline: Redis\'s reply is taken, not a 503', async () => {
    // An SRE review: under a burst of GET /login (the loop held by the hub's own work, Redis idle)
    // hundreds of pages answered 503 "rate limit store timed out" (timers run before I/O in a turn).
    // Its own Redis, paused while the command goes out, then let go while this process is busy:
    // the reply arrives during the hold, as a busy hub's replies do.
    const own = await startOwnRedis();
    const redis = await connectRedis(own.url);
    try {
      const limit = new WindowLimit({ name: 'held', points: 5, windowSeconds: 60, keyPrefix: `test:io-deadline:${randomUUID()}`, redis });
      own.pause();
      const answer = limit.count('127.0.0.1');
      answer.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the command is on its way
      // The hold runs in the loop's check phase, as a request's work after its I/O: the loop's next
      // turn starts with the timers, then reads the reply.
      await new Promise<void>((held) => setImmediate(() => {
        own.resume();
        const until = Date.now() + 2_300; // past the store's 2 s deadline
        while (Date.now() < until) { /* the process's own work */ }
        held();
      }));
      await expect(answer).resolves.toBeUndefined();
    } finally {
      await redis.close();
      await own.stop();
    }
  });
});
