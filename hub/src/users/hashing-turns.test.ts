import { SignJWT, generateKeyPair } from 'jose';
import { BusyError } from '../errors.js';
import { HashingTurns } from './hashing-turns.js';
import { PasswordHasher } from './passwords.js';

const POLICY = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** A promise with its resolve, to hold an operation running until the test lets it go. */
function held(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('HashingTurns', () => {
  it('runs at most `concurrency` operations at once, the rest in order', async () => {
    const turns = new HashingTurns({ concurrency: 2, queueLimit: 10 });
    const gates = Array.from({ length: 5 }, held);
    const started: number[] = [];
    const runs = gates.map((gate, i) => turns.run(async () => { started.push(i); await gate.promise; return i; }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect([turns.active, turns.waiting]).toEqual([2, 3]);
    gates[0]!.release();
    await runs[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.release();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
  });

  it('turns one more than the queue holds away at once with BusyError (503, Retry-After), and takes new work once it drains', async () => {
    const turns = new HashingTurns({ concurrency: 1, queueLimit: 2 });
    const gate = held();
    const runs = [0, 1, 2].map((i) => turns.run(async () => { await gate.promise; return i; }));
    await new Promise((resolve) => setImmediate(resolve));
    const refused = await turns.run(async () => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).status).toBe(503);
    expect((refused as BusyError).retryAfterSeconds).toBeGreaterThan(0);
    gate.release();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    await expect(turns.run(async () => 'later')).resolves.toBe('later');
  });
});

describe('HashingTurns: a check that waited past maxWaitMs (ARGON2_QUEUE_WAIT_MS)', () => {
  it('is answered busy when its turn comes, not run; a check asked for after that runs', async () => {
    // A review: 800 checks queued on a loaded 2-core machine took 34 s, past nginx's 30 s read timeout.
    const turns = new HashingTurns({ concurrency: 1, queueLimit: 10, maxWaitMs: 100 });
    const gate = held();
    const running = turns.run(() => gate.promise);
    let ran = 0;
    const waited = [0, 1].map(() => turns.run(async () => { ran += 1; }).catch((error: unknown) => error));
    await new Promise((resolve) => setTimeout(resolve, 250));
    gate.release();
    await running;
    const outcomes = await Promise.all(waited);
    expect(ran).toBe(0);
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(BusyError);
      expect((outcome as BusyError).retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(turns.expired).toBe(2);
    await expect(turns.run(async () => 'in time')).resolves.toBe('in time');
  });
});

describe('PasswordHasher turns: a burst of checks leaves libuv pool threads for signatures', () => {
  const BURST = 16;

  /** How many of a burst of BURST checks had finished when an RS256 signature (WebCrypto, on libuv's pool) made during it came back. */
  async function checksDoneWhenSigned(hasher: PasswordHasher): Promise<number> {
    const hash = await hasher.hash('correct horse');
    const { privateKey } = await generateKeyPair('RS256');
    await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(privateKey); // warm
    let done = 0;
    const burst = Array.from({ length: BURST }, () => hasher.verify(hash, 'correct horse').then((ok) => { expect(ok).toBe(true); done += 1; }));
    await new Promise((resolve) => setImmediate(resolve));
    await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const doneThen = done;
    await Promise.all(burst);
    return doneThen;
  }

  it('with ARGON2_CONCURRENCY below the pool size, a signature does not wait for the queued checks', async () => {
    // libuv's pool has 4 threads here (UV_THREADPOOL_SIZE unset); one check at a time leaves three.
    const done = await checksDoneWhenSigned(new PasswordHasher(POLICY, { concurrency: 1, queueLimit: BURST }));
    expect(done).toBeLessThanOrEqual(4);
  });

  it('control: with every check let onto the pool at once (the hub before), the signature waits behind nearly all of them', async () => {
    const done = await checksDoneWhenSigned(new PasswordHasher(POLICY, { concurrency: BURST, queueLimit: BURST }));
    expect(done).toBeGreaterThanOrEqual(BURST - 4);
  });
});
