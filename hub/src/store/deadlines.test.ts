import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { Deadlines, type DeadlineHooks } from './deadlines.js';

const never = () => new Promise<never>(() => {});
const timedOut: DeadlineHooks = { timeout: () => new Error('timed out'), mapError: (error) => error };

describe('Deadlines: one sweep bounds every operation', () => {
  it('fails a stalled operation between the limit and the limit plus a tick, and leaves nothing behind', async () => {
    const deadlines = new Deadlines(200, 20);
    const started = Date.now();
    const outcomes = await Promise.allSettled([deadlines.run(never, timedOut), deadlines.run(never, timedOut)]);
    const took = Date.now() - started;
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason).toEqual(new Error('timed out'));
    expect(took).toBeGreaterThanOrEqual(195);
    expect(deadlines.size).toBe(0);
  });

  it('a reply that arrived while the process itself held the event loop past the limit is taken, not failed as "no answer"', async () => {
    // An outside review: a burst of sign-ins held the hub's event loop 2.1 s, and store calls whose
    // replies sat in the socket were failed by the sweep (timers run before I/O in a loop turn).
    // The reply comes from another process (as Redis's does), so it arrives while this loop is
    // held; the hold runs after the loop's I/O phase (setImmediate), as a request's work runs
    // between the reply's arrival and the next turn's timers.
    const deadlines = new Deadlines(50, 10);
    const { answer: reply } = await new Promise<{ answer: Promise<string> }>((started) => setImmediate(() => {
      const answer = deadlines.run(() => new Promise<string>((resolve) => {
        const child = spawn('sh', ['-c', 'sleep 0.05; printf pong']);
        child.stdout.once('data', (data: Buffer) => resolve(data.toString()));
      }), timedOut);
      answer.catch(() => undefined);
      const until = Date.now() + 400;
      while (Date.now() < until) { /* the process's own work */ }
      started({ answer });
    }));
    await expect(reply).resolves.toBe('pong');
  });

  it('passes results and errors through and forgets settled operations at once', async () => {
    const deadlines = new Deadlines(10_000);
    await expect(deadlines.run(async () => 42, timedOut)).resolves.toBe(42);
    await expect(deadlines.run(async () => { throw new TypeError('bad'); }, timedOut)).rejects.toBeInstanceOf(TypeError);
    await expect(deadlines.run(() => { throw new RangeError('sync'); }, timedOut)).rejects.toBeInstanceOf(RangeError);
    expect(deadlines.size).toBe(0);
  });

  it('an operation that started later is not failed early by a sweep that fails an earlier one', async () => {
    const deadlines = new Deadlines(150, 10);
    const early = deadlines.run(never, timedOut);
    await new Promise((resolve) => setTimeout(resolve, 100));
    let lateDone = false;
    const late = deadlines.run(never, timedOut).catch(() => (lateDone = true));
    await expect(early).rejects.toThrow('timed out');
    expect(lateDone).toBe(false);
    await late;
    expect(lateDone).toBe(true);
  });

  it('calls answeredLate when an operation the limit already failed settles after all, and only then', async () => {
    const deadlines = new Deadlines(50, 10);
    let late = 0;
    const answeredLate = () => (late += 1);
    let release!: () => void;
    const slow = () => new Promise<void>((resolve) => (release = resolve));
    await expect(deadlines.run(slow, { ...timedOut, answeredLate })).rejects.toThrow('timed out');
    expect(late).toBe(0);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toBe(1);
    await deadlines.run(async () => 1, { ...timedOut, answeredLate }); // in time: not late
    await expect(deadlines.run(async () => { throw new Error('refused'); }, { ...timedOut, answeredLate })).rejects.toThrow('refused');
    expect(late).toBe(1);
  });

  it('maps every rejection, hands the timeout its context, and tells settled of each operation once, in the same promise', async () => {
    const deadlines = new Deadlines(50, 10);
    const settled: [string, boolean][] = [];
    const timeouts: unknown[] = [];
    const hooks: DeadlineHooks<string> = {
      timeout: (context) => {
        timeouts.push(context);
        return new Error('late');
      },
      mapError: (error) => new Error(`mapped: ${(error as Error).message}`),
      settled: (label, ms, failed) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        settled.push([label, failed]);
      },
    };
    await expect(deadlines.run(async () => 'x', hooks, 'ok', 'request 1')).resolves.toBe('x');
    await expect(deadlines.run(async () => { throw new Error('refused'); }, hooks, 'refused', 'request 2')).rejects.toThrow('mapped: refused');
    await expect(deadlines.run(() => { throw new Error('sync'); }, hooks, 'sync', 'request 3')).rejects.toThrow('mapped: sync');
    let release!: () => void;
    await expect(deadlines.run(() => new Promise<void>((resolve) => (release = resolve)), hooks, 'stalled', 'request 4')).rejects.toThrow('mapped: late');
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(timeouts).toEqual(['request 4']);
    expect(settled).toEqual([['ok', false], ['refused', true], ['sync', true], ['stalled', true]]); // the late answer is not told again
    expect(deadlines.size).toBe(0);
  });
});
