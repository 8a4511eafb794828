import { randomUUID } from 'node:crypto';
import { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { STORE_KINDS } from '../testing/test-hub.js';
import { closeTwoStep, openTwoStep } from '../testing/two-step-store.js';
import { awayFromStepEdge, totpCode } from '../testing/totp.js';
import { looksLikeRecoveryCode, newRecoveryCodes, normaliseRecoveryCode, recoveryCodeDigest, saltedRecoveryCodeDigest } from './recovery-codes.js';
import { SealError, SecretBox } from './secret-box.js';
import { STEP_MEMORY_SECONDS } from './totp.js';
import { amrFor, TwoStepService } from './two-step-service.js';
import type { TwoStepRepository } from './two-step-repository.js';

const KEK_A = 'a'.repeat(40);
const KEK_B = 'b'.repeat(40);
/** The hub session (its uid) that enrols. */
const SESSION = 'session-uid-1';

describe('SecretBox: envelope encryption of two-step secrets', () => {
  const box = new SecretBox([KEK_A]);

  test('round trip; every seal has its own data key and nonce', () => {
    const one = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const two = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(box.open(one, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(one.data).not.toBe(two.data);
    expect(one.dek).not.toBe(two.dek);
    expect(JSON.stringify(one)).not.toContain('JBSWY3DPEHPK3PXP');
  });

  test('bound to its owner: a sealed secret copied onto another user does not open', () => {
    expect(() => box.open(box.seal('JBSWY3DPEHPK3PXP', 'user-1'), 'user-2')).toThrow(SealError);
  });

  test('tampering is detected (GCM tag)', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const [iv, body, tag] = sealed.data.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => box.open({ ...sealed, data: [iv, flipped.toString('base64url'), tag].join('.') }, 'user-1')).toThrow(SealError);
  });

  test('rotation: the first key seals, older keys still open; an unknown key is a clear error', () => {
    const old = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const rotated = new SecretBox([KEK_B, KEK_A]);
    expect(rotated.open(old, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.isCurrent(rotated.seal('x', 'user-1'))).toBe(true);
    expect(() => new SecretBox([KEK_B]).open(old, 'user-1')).toThrow(/HUB_TOTP_KEYS/);
  });
});

describe('recovery codes', () => {
  test('ten distinct codes, 50 bits each, typed loosely', () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    const [code] = codes as [string];
    expect(looksLikeRecoveryCode(` ${code.toUpperCase().replace('-', ' ')} `)).toBe(true);
    expect(recoveryCodeDigest(code.toUpperCase().replace('-', ''))).toBe(recoveryCodeDigest(code));
    expect(normaliseRecoveryCode('O1-IL')).toBe('0111');
    expect(looksLikeRecoveryCode('123456')).toBe(false);
  });
});

test('amr values (RFC 8176)', () => {
  expect(amrFor()).toEqual(['pwd']);
  expect(amrFor('totp')).toEqual(['pwd', 'otp', 'mfa']);
  expect(amrFor('recovery')).toEqual(['pwd', 'mfa']);
});

describe.each(STORE_KINDS)('two-step verification in the store (%s)', (kind) => {
  let store: Store;
  let keys: Keys;
  let service: TwoStepService;
  let repository: TwoStepRepository;

  beforeAll(async () => {
    ({ store, keys, service, repository } = await openTwoStep(kind, 3, KEK_A));
  });
  afterAll(() => closeTwoStep({ store, keys }));

  async function enrolled(): Promise<{ userId: string; secret: string; codes: string[] }> {
    const userId = randomUUID();
    await awayFromStepEdge();
    const { secret, uri } = await service.beginEnrolment(userId, 'someone', SESSION);
    expect(uri).toMatch(/^otpauth:\/\/totp\/hub\.test:someone\?/);
    const confirmed = await service.confirmEnrolment(userId, SESSION, totpCode(secret, -1));
    if (!('codes' in confirmed)) throw new Error(`enrolment refused: ${confirmed.refused}`);
    return { userId, secret, codes: confirmed.codes };
  }

  test('a code from otpauth verifies once; the same code again, or an older one, is refused', async () => {
    const { userId, secret } = await enrolled();
    const now = totpCode(secret);
    expect(await service.verify(userId, now)).toBe('totp');
    expect(await service.verify(userId, now)).toBeUndefined();
    expect(await service.verify(userId, totpCode(secret, -1))).toBeUndefined();
    expect(await service.verify(userId, totpCode(secret, 1))).toBe('totp');
    expect(await service.verify(userId, '000000')).toBeUndefined();
  });

  test('two concurrent uses of one code: exactly one passes', async () => {
    const { userId, secret } = await enrolled();
    const code = totpCode(secret);
    const results = await Promise.all(Array.from({ length: 6 }, () => service.verify(userId, code)));
    expect(results.filter((result) => result === 'totp')).toHaveLength(1);
  });

  test('the replay guard expires (no key without a TTL), after the code could no longer verify', async () => {
    const { userId } = await enrolled();
    const ttl = await store.ttl(keys.twoStepLastStep(userId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(STEP_MEMORY_SECONDS);
    expect(await store.ttl(keys.twoStep(userId))).toBe(-1); // the enrolment itself stays
  });

  test('a recovery code works once, also when used twice at the same time; the others stay', async () => {
    const { userId, codes } = await enrolled();
    const results = await Promise.all([service.verify(userId, codes[0]!), service.verify(userId, codes[0]!)]);
    expect(results.filter((result) => result === 'recovery')).toHaveLength(1);
    expect(await service.verify(userId, codes[0]!)).toBeUndefined();
    expect(await service.status(userId)).toMatchObject({ enabled: true, recoveryCodesLeft: 9 });
    expect(await service.verify(userId, codes[1]!)).toBe('recovery');
  });

  test('a wrong first code does not enrol; disable removes every key of the enrolment', async () => {
    const userId = randomUUID();
    const { secret } = await service.beginEnrolment(userId, 'someone', SESSION);
    const wrong = totpCode(secret) === '123456' ? '654321' : '123456';
    expect(await service.confirmEnrolment(userId, SESSION, wrong)).toEqual({ refused: 'enrolCode' });
    expect(await service.isEnabled(userId)).toBe(false);
    const other = await enrolled();
    const salt = (await repository.find(other.userId))!.recoverySalt!;
    const kept = keys.twoStepRecoveryCode(other.userId, await saltedRecoveryCodeDigest(other.codes[2]!, salt));
    expect(await store.get(kept)).not.toBeNull();
    expect(await service.disable(other.userId)).toBe(true);
    expect(await service.verify(other.userId, other.codes[2]!)).toBeUndefined();
    expect(await store.get(kept)).toBeNull();
    expect(await store.get(keys.twoStep(other.userId))).toBeNull();
  });

  test('a set-up is held by the session that started it: another session of the user neither sees its secret nor confirms it', async () => {
    // A review: the pending secret was the user's, shown to every session for 15 minutes, so a
    // stolen session could read the secret its owner was about to confirm and make codes for good.
    const userId = randomUUID();
    await awayFromStepEdge();
    const owners = await service.beginEnrolment(userId, 'someone', SESSION);
    expect((await service.beginEnrolment(userId, 'someone', SESSION)).secret).toBe(owners.secret); // shown again to its own session
    const thiefs = await service.beginEnrolment(userId, 'someone', 'session-uid-2');
    expect(thiefs.secret).not.toBe(owners.secret);
    // The owner's set-up was replaced: its code is refused as expired (the page starts it again).
    expect(await service.confirmEnrolment(userId, SESSION, totpCode(owners.secret))).toEqual({ refused: 'enrolExpired' });
    // The other session's code does not confirm from the owner's session, nor the other way round.
    const again = await service.beginEnrolment(userId, 'someone', SESSION);
    expect(again.secret).not.toBe(thiefs.secret);
    expect(await service.confirmEnrolment(userId, 'session-uid-2', totpCode(again.secret))).toEqual({ refused: 'enrolExpired' });
    expect(await service.isEnabled(userId)).toBe(false);
    expect(await service.confirmEnrolment(userId, SESSION, totpCode(again.secret))).toHaveProperty('codes');
  });

  test('a set-up an older hub started (a rolling update: the page from an older process, the code to this one) is confirmed', async () => {
    // Before 76fabb4 the pending record was the bare sealed secret, shown to every session of the
    // user. Reproduced with 3c63625 and this version on one Redis: the first code was refused as
    // expired and a new QR code shown (the authenticator app already held the first secret).
    const userId = randomUUID();
    await awayFromStepEdge();
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await store.set(keys.twoStepPending(userId), JSON.stringify(new SecretBox([KEK_A]).seal(secret, userId)), { ttlSeconds: 900 });
    expect(await service.confirmEnrolment(userId, SESSION, totpCode(secret))).toHaveProperty('codes');
    expect(await service.isEnabled(userId)).toBe(true);
    expect(await store.get(keys.twoStepPending(userId))).toBeNull();
  });

  test('a set-up an older hub started is not shown here: a visit to the page on this version starts one held by its session', async () => {
    const userId = randomUUID();
    await awayFromStepEdge();
    const older = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await store.set(keys.twoStepPending(userId), JSON.stringify(new SecretBox([KEK_A]).seal(older, userId)), { ttlSeconds: 900 });
    const shown = await service.beginEnrolment(userId, 'someone', SESSION);
    expect(shown.secret).not.toBe(older);
    expect(await service.confirmEnrolment(userId, 'session-uid-2', totpCode(shown.secret))).toEqual({ refused: 'enrolExpired' });
    expect(await service.confirmEnrolment(userId, SESSION, totpCode(older))).toEqual({ refused: 'enrolCode' });
  });

  test('the throttle: failures past the threshold make the next attempt wait, even with the right code', async () => {
    const { userId, secret } = await enrolled();
    const attempt = { ip: '198.51.100.7', account: userId, via: 'portal' as const };
    const bad = totpCode(secret) === '111111' ? '222222' : '111111';
    for (let i = 0; i < 3; i += 1) expect(await service.verifyThrottled(attempt, bad)).toBeUndefined();
    await expect(service.verifyThrottled(attempt, totpCode(secret))).rejects.toMatchObject({ name: 'TooManyAttemptsError' });
  });
});
