import { createHash } from 'node:crypto';
import { BusyError } from '../errors.js';
import { legacyHashFrom } from './legacy-hash.js';
import { PasswordHasher } from './passwords.js';

const POLICY = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** An imported UCenter account's stored hash: md5(md5(password) . salt). */
function importedHash(password: string, salt = 'a1b2c3'): string {
  return legacyHashFrom(md5(md5(password) + salt), salt)!;
}

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const spent: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const start = performance.now();
    await run();
    spent.push(performance.now() - start);
  }
  return spent.sort((a, b) => a - b)[Math.floor(times / 2)]!;
}

describe('PasswordHasher: every check costs the same, whatever the account', () => {
  it('checks an imported (UCenter md5) hash right, and wrong passwords wrong', async () => {
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 });
    const stored = importedHash('old-forum-pass');
    await expect(hasher.verify(stored, 'old-forum-pass')).resolves.toBe(true);
    await expect(hasher.verify(stored, 'not-the-pass')).resolves.toBe(false);
    await expect(hasher.verify(undefined, 'anything-at-all')).resolves.toBe(false);
  });

  it('an imported hash takes as long as an unknown login (one argon2id verification), not microseconds', async () => {
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 });
    const stored = importedHash('old-forum-pass');
    await hasher.verify(undefined, 'warm-up');
    const unknown = await median(5, () => hasher.verify(undefined, 'wrong-password'));
    const imported = await median(5, () => hasher.verify(stored, 'wrong-password'));
    expect(imported).toBeGreaterThan(unknown * 0.5);
  });

  it('an imported hash waits for its turn, and is answered busy like any other when the queue is full', async () => {
    const hasher = new PasswordHasher(POLICY, { concurrency: 1, queueLimit: 1 });
    await hasher.verify(undefined, 'warm-up'); // the decoy is ready
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = [hasher.turns.run(() => gate), hasher.turns.run(() => gate)];
    await new Promise((resolve) => setImmediate(resolve));
    await expect(hasher.verify(importedHash('old-forum-pass'), 'old-forum-pass')).rejects.toBeInstanceOf(BusyError);
    await expect(hasher.verify(undefined, 'old-forum-pass')).rejects.toBeInstanceOf(BusyError);
    release();
    await Promise.all(held);
  });
});
