/**
 * ASVS 5 V6.5.2: lookup secrets with less than 112 bits of entropy are stored under an approved
 * password hash with a random salt. Recovery codes carry 50 bits and were kept as unsalted
 * SHA-256 (`recovery:` + the code, one digest function for every user), so a copy of the store
 * could be searched for every user's codes at once: 2^50 SHA-256 is hours for one GPU. A set of
 * codes now has its own salt and each code is kept as argon2id with it; enrolments an older hub
 * made (SHA-256, no salt) still work until their codes are made anew.
 */
import { randomUUID } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { STORE_KINDS } from '../testing/test-hub.js';
import { closeTwoStep, openTwoStep } from '../testing/two-step-store.js';
import { awayFromStepEdge, totpCode } from '../testing/totp.js';
import { newRecoveryCodes, newRecoverySalt, recoveryCodeDigest, saltedRecoveryCodeDigest } from './recovery-codes.js';
import { SecretBox } from './secret-box.js';
import type { TwoStepRecord, TwoStepRepository } from './two-step-repository.js';
import type { TwoStepService } from './two-step-service.js';

const KEK = 'k'.repeat(40);
const SESSION = 'session-uid-1';

describe.each(STORE_KINDS)('recovery codes at rest (%s)', (kind) => {
  let store: Store;
  let keys: Keys;
  let service: TwoStepService;
  let repository: TwoStepRepository;

  beforeAll(async () => {
    ({ store, keys, service, repository } = await openTwoStep(kind, 3, KEK));
  });
  afterAll(() => closeTwoStep({ store, keys }));

  async function enrolled(): Promise<{ userId: string; codes: string[] }> {
    const userId = randomUUID();
    await awayFromStepEdge();
    const { secret } = await service.beginEnrolment(userId, 'someone', SESSION);
    const confirmed = await service.confirmEnrolment(userId, SESSION, totpCode(secret, -1));
    if (!('codes' in confirmed)) throw new Error(`enrolment refused: ${confirmed.refused}`);
    return { userId, codes: confirmed.codes };
  }

  test('no code is stored as its SHA-256: each under argon2id with a salt of its set, and still works once', async () => {
    const { userId, codes } = await enrolled();
    const record = (await repository.find(userId))!;
    expect(typeof record.recoverySalt).toBe('string');
    expect(Buffer.from(record.recoverySalt!, 'base64url').length).toBeGreaterThanOrEqual(16);
    for (const code of codes) {
      expect(record.recovery).not.toContain(recoveryCodeDigest(code));
      expect(await store.get(keys.twoStepRecoveryCode(userId, recoveryCodeDigest(code)))).toBeNull();
      const salted = await saltedRecoveryCodeDigest(code, record.recoverySalt!);
      expect(record.recovery).toContain(salted);
      expect(await store.get(keys.twoStepRecoveryCode(userId, salted))).not.toBeNull();
    }
    expect(await service.verify(userId, codes[0]!.toUpperCase())).toBe('recovery');
    expect(await service.verify(userId, codes[0]!)).toBeUndefined();
    expect(await service.status(userId)).toMatchObject({ recoveryCodesLeft: 9 });
  }, 30_000);

  test('two enrolments have two salts: the same code would be stored differently; new codes, a new salt', async () => {
    const first = await enrolled();
    const second = await enrolled();
    const a = (await repository.find(first.userId))!;
    const b = (await repository.find(second.userId))!;
    expect(a.recoverySalt).not.toBe(b.recoverySalt);
    const code = first.codes[0]!;
    expect(await saltedRecoveryCodeDigest(code, a.recoverySalt!)).not.toBe(await saltedRecoveryCodeDigest(code, b.recoverySalt!));
    const fresh = await service.regenerateRecoveryCodes(first.userId);
    const regenerated = (await repository.find(first.userId))!;
    expect(regenerated.recoverySalt).not.toBe(a.recoverySalt);
    expect(await service.verify(first.userId, code)).toBeUndefined(); // the old set is gone
    expect(await service.verify(first.userId, fresh[3]!)).toBe('recovery');
  }, 30_000);

  test('an enrolment an older hub made (SHA-256 digests, no salt) still works, each code once', async () => {
    const userId = randomUUID();
    const codes = newRecoveryCodes();
    const now = Math.floor(Date.now() / 1000);
    const legacy: TwoStepRecord = { v: 1, secret: new SecretBox([KEK]).seal('JBSWY3DPEHPK3PXP', userId), enabledAt: now, recovery: codes.map(recoveryCodeDigest), recoveryIssuedAt: now };
    expect(await repository.replace(userId, undefined, legacy)).toBe(true);
    expect(await service.verify(userId, codes[4]!)).toBe('recovery');
    expect(await service.verify(userId, codes[4]!)).toBeUndefined();
    expect(await service.verify(userId, codes[5]!)).toBe('recovery');
  });

  test('codes an older hub makes anew over a salted enrolment (it keeps the record\'s other fields, the salt too) work, each once', async () => {
    // A rolling upgrade: an older hub process regenerates the codes of an enrolment a newer one
    // made. It writes `{ ...record, recovery: SHA-256 digests }`, so the salt stays in the record
    // beside digests that are not salted: the digests' own form says how they were made.
    const { userId } = await enrolled();
    const stored = (await repository.read(userId))!;
    const codes = newRecoveryCodes();
    const byOlderHub = { ...stored.record, recovery: codes.map(recoveryCodeDigest), recoveryIssuedAt: Math.floor(Date.now() / 1000) };
    expect(byOlderHub.recoverySalt).toBeDefined();
    expect(await repository.replace(userId, stored, byOlderHub)).toBe(true);
    expect(await service.verify(userId, codes[2]!)).toBe('recovery');
    expect(await service.verify(userId, codes[2]!)).toBeUndefined();
    expect(await service.status(userId)).toMatchObject({ recoveryCodesLeft: 9 });
  }, 30_000);
});

test('the salted digest: canonical form, deterministic per salt', async () => {
  const salt = newRecoverySalt();
  const [code] = newRecoveryCodes(1) as [string];
  const digest = await saltedRecoveryCodeDigest(code, salt);
  expect(digest).toMatch(/^a2:[A-Za-z0-9_-]{43}$/);
  expect(await saltedRecoveryCodeDigest(` ${code.toUpperCase().replace('-', ' ')} `, salt)).toBe(digest);
  expect(await saltedRecoveryCodeDigest(code, newRecoverySalt())).not.toBe(digest);
});
