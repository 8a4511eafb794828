import { randomUUID } from 'node:crypto';
import { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { STORE_KINDS } from '../testing/test-hub.js';
import { closeTwoStep, openTwoStep } from '../testing/two-step-store.js';
import { awayFromStepEdge, totpCode } from '../testing/totp.js';
import { recoveryCodeDigest } from './recovery-codes.js';
import { TwoStepService } from './two-step-service.js';

const KEK = 'k'.repeat(40);
const SESSION = 'session-uid-1';

/**
 * Changes to one enrolment that run at once (a double-clicked "New recovery codes", two tabs,
 * the owner turning two-step off while another tab makes new codes, an administrator's reset)
 * leave the enrolment as one of them made it: every recovery code that works is one the
 * enrolment lists (so the account page's count is the truth), and two-step that was turned off
 * stays off.
 */
describe.each(STORE_KINDS)('two-step enrolment changed twice at once (%s)', (kind) => {
  let store: Store;
  let keys: Keys;
  let service: TwoStepService;

  beforeAll(async () => {
    ({ store, keys, service } = await openTwoStep(kind, 1000, KEK));
  });
  afterAll(() => closeTwoStep({ store, keys }));

  async function enrolled(): Promise<{ userId: string; secret: string; codes: string[] }> {
    const userId = randomUUID();
    await awayFromStepEdge();
    const { secret } = await service.beginEnrolment(userId, 'someone', SESSION);
    const confirmed = await service.confirmEnrolment(userId, SESSION, totpCode(secret, -1));
    if (!('codes' in confirmed)) throw new Error(`enrolment refused: ${confirmed.refused}`);
    return { userId, secret, codes: confirmed.codes };
  }

  test('two new sets of recovery codes at once: only the set the enrolment lists works', async () => {
    const { userId } = await enrolled();
    const [first, second] = await Promise.allSettled([service.regenerateRecoveryCodes(userId), service.regenerateRecoveryCodes(userId)]);
    const made = [first, second].flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(made.length).toBeGreaterThan(0);
    const { recoveryCodesLeft } = await service.status(userId);
    expect(recoveryCodesLeft).toBe(10);
    // Every code handed out that still works counts in what the account page says is left.
    let working = 0;
    for (const codes of made) for (const code of codes) if (await service.verify(userId, code)) working += 1;
    expect(working).toBe(recoveryCodesLeft);
  });

  test('two-step turned off while new recovery codes are made stays off, and none of those codes works later', async () => {
    const { userId, secret } = await enrolled();
    const [regenerated, disabled] = await Promise.allSettled([service.regenerateRecoveryCodes(userId), service.disable(userId)]);
    expect(disabled).toEqual({ status: 'fulfilled', value: true });
    expect(await service.isEnabled(userId)).toBe(false);
    // Nothing of the enrolment is left behind (the code keys have no TTL).
    const made = regenerated.status === 'fulfilled' ? regenerated.value : [];
    for (const code of made) expect(await store.get(keys.twoStepRecoveryCode(userId, recoveryCodeDigest(code)))).toBeNull();
    // Enrolled again (a new phone): codes of the earlier enrolment must not work with it.
    const { secret: again } = await service.beginEnrolment(userId, 'someone', SESSION);
    expect(again).not.toBe(secret);
    await awayFromStepEdge();
    const confirmed = await service.confirmEnrolment(userId, SESSION, totpCode(again));
    expect('codes' in confirmed).toBe(true);
    if (regenerated.status === 'fulfilled') {
      for (const code of regenerated.value) expect(await service.verify(userId, code)).toBeUndefined();
    }
  });

  test('a set-up confirmed after two-step came on (another tab, another session) does not replace the enrolment', async () => {
    // The page confirms a set-up only while two-step is off, but checks that before the write:
    // a confirmation whose check ran before another session's enrolment landed reached the write
    // after it, and replaced it (the other's authenticator and recovery codes stopped working,
    // the enrolment became this one's). Enrolment is "only while none": the write says so itself.
    const { userId, secret, codes } = await enrolled();
    const other = 'session-uid-2';
    const { secret: late } = await service.beginEnrolment(userId, 'someone', other);
    await awayFromStepEdge();
    expect(await service.confirmEnrolment(userId, other, totpCode(late))).toEqual({ refused: 'enrolExpired' });
    // The first enrolment's app still signs in (the next step: the step memory is the account's).
    expect(await service.verify(userId, totpCode(secret, 1))).toBe('totp');
    expect(await service.verify(userId, codes[0]!)).toBe('recovery');
  });

  test('a recovery code key the enrolment does not list (left by a change cut off part-way) does not sign in', async () => {
    const { userId } = await enrolled();
    const stray = 'abcde-fghjk';
    await store.set(keys.twoStepRecoveryCode(userId, recoveryCodeDigest(stray)), '1');
    expect(await service.verify(userId, stray)).toBeUndefined();
    expect(await service.status(userId)).toMatchObject({ recoveryCodesLeft: 10 });
  });
});
