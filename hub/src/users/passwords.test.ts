import { createHash } from 'node:crypto';
import argon2 from 'argon2';
import { BusyError } from '../errors.js';
import { legacyHashFrom } from './legacy-hash.js';
import { PasswordHasher } from './passwords.js';

const POLICY = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** An imported UCenter account's stored hash: md5(md5(password) . salt). */
function importedHash(password: string, salt = 'a1b2c3'): string {
  return legacyHashFrom(md5(md5(password) + salt), salt)!;
}

describe('PasswordHasher: every check costs the same, whatever the account', () => {
  it('checks an imported (UCenter md5) hash right, and wrong passwords wrong', async () => {
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 });
    const stored = importedHash('old-forum-pass');
    await expect(hasher.verify(stored, 'old-forum-pass')).resolves.toBe(true);
    await expect(hasher.verify(stored, 'not-the-pass')).resolves.toBe(false);
    await expect(hasher.verify(undefined, 'anything-at-all')).resolves.toBe(false);
  });

  it('an imported hash, an unknown login and a current account each cost one argon2id verification, not microseconds', async () => {
    const verified: string[] = [];
    const counting = { ...argon2, verify: (stored: string, password: string | Buffer) => (verified.push(stored), argon2.verify(stored, password)) };
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 }, counting);
    const current = await hasher.hash('current-pass');
    await hasher.verify(undefined, 'warm-up');
    const decoy = verified.pop()!;
    expect(decoy).toMatch(/^\$argon2id\$/);

    await expect(hasher.verify(importedHash('old-forum-pass'), 'old-forum-pass')).resolves.toBe(true);
    await expect(hasher.verify(importedHash('old-forum-pass'), 'wrong-password')).resolves.toBe(false);
    await expect(hasher.verify(undefined, 'wrong-password')).resolves.toBe(false);
    await expect(hasher.verify(current, 'wrong-password')).resolves.toBe(false);
    // One real argon2id verification each: the decoy for the imported and unknown ones.
    expect(verified).toEqual([decoy, decoy, decoy, current]);
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

describe('PasswordHasher: one password however it is typed (NFKC)', () => {
  const NFC = 'Crème brûlée'.normalize('NFC');
  const NFD = NFC.normalize('NFD');

  it('a new hash is of the NFKC form and says so; composed, decomposed and full-width forms all verify', async () => {
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 });
    const stored = await hasher.hash(`${NFD} ２０２６`);
    expect(stored).toContain(',data=bmZrYw$');
    await expect(hasher.verify(stored, `${NFC} 2026`)).resolves.toBe(true);
    await expect(hasher.verify(stored, `${NFD} ２０２６`)).resolves.toBe(true);
    await expect(hasher.verify(stored, `${NFC} 2027`)).resolves.toBe(false);
    expect(hasher.needsRehash(stored, NFD)).toBe(false);
  });

  it('an older hash is checked as typed, once: a wrong form costs one argon2id check, as an unknown login does', async () => {
    const verified: string[] = [];
    const counting = { ...argon2, verify: (stored: string, password: string | Buffer) => (verified.push(stored), argon2.verify(stored, password)) };
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 }, counting);
    const older = await argon2.hash(NFD, { type: argon2.argon2id, ...POLICY });
    await expect(hasher.verify(older, NFD)).resolves.toBe(true);
    verified.length = 0;
    await expect(hasher.verify(older, NFC)).resolves.toBe(false);
    await expect(hasher.verify(undefined, NFD)).resolves.toBe(false);
    expect(verified).toHaveLength(2);
    // Rehashed at the sign-in that proved it, since NFKC changes it; an older ASCII one is left.
    expect(hasher.needsRehash(older, NFD)).toBe(true);
    expect(hasher.needsRehash(await argon2.hash('plain-ascii', { type: argon2.argon2id, ...POLICY }), 'plain-ascii')).toBe(false);
  });
});

describe('PasswordHasher.needsRehash', () => {
  it('answers as argon2.needsRehash does, and reads a hash of the current policy without parsing it again', async () => {
    const parsed: string[] = [];
    const counting = { ...argon2, needsRehash: (stored: string, options?: Parameters<typeof argon2.needsRehash>[1]) => (parsed.push(stored), argon2.needsRehash(stored, options)) };
    const hasher = new PasswordHasher(POLICY, { concurrency: 2, queueLimit: 10 }, counting);
    const current = await hasher.hash('current-pass');
    const weaker = await argon2.hash('weaker-pass', { type: argon2.argon2id, memoryCost: 8_192, timeCost: 2, parallelism: 1 });
    const moreThreads = await argon2.hash('threads-pass', { type: argon2.argon2id, ...POLICY, parallelism: 2 });
    const argon2i = await argon2.hash('argon2i-pass', { type: argon2.argon2i, ...POLICY });
    for (const stored of [current, weaker, moreThreads, argon2i]) expect(hasher.needsRehash(stored)).toBe(argon2.needsRehash(stored, POLICY));
    expect(hasher.needsRehash(current)).toBe(false);
    expect(hasher.needsRehash(weaker)).toBe(true);
    expect(hasher.needsRehash(importedHash('old-forum-pass'))).toBe(true);
    // Only the hashes that are not the current policy's were parsed.
    expect(parsed).toEqual([weaker, moreThreads, argon2i, weaker]);
  });
});
