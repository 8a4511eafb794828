/**
 * A password reset cut off by the store at any one of its writes (README "Store down or
 * stalled": a request that answered 503 must be safe to retry). The person holding the link
 * is shown the 503 page and sends the form again once the store is back: the reset must then
 * go through — the new password set, every session of the account ended — and the link be
 * used up after that. Before the fix the link was used up first (GETDEL), so a fault at any
 * later write (the new password, the sign-out everywhere) left it spent: the retry was told
 * "this link has expired or was already used", with the password not changed, or changed
 * while the sessions (a taker's too) went on.
 *
 * Each write is failed in turn (`fail`: it never reaches the store), then made to land with
 * its answer lost (`stall`). One MemoryStore behind faultyStore (the writes are Redis's).
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { AccountTokens } from '../src/users/account-tokens.js';
import { passwordStamp } from '../src/users/password-stamp.js';
import { InvalidResetLinkError } from '../src/users/password-recovery.js';
import { isSignedIn } from './support.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

const OLD_PASSWORD = 'looking-glass-42';
const NEW_PASSWORD = 'tulgey-wood-burbled-77';

describe('Password reset: a store fault at each of its writes, then the same form sent again', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;
  let tokens: AccountTokens;

  beforeAll(async () => {
    hub = await startTestHub('memory', { LOGIN_MAX_ATTEMPTS_PER_IP: '1000', SIGN_IN_STARTS_PER_IP: '1000' }, faulty.store);
    tokens = new AccountTokens(hub.store, hub.services.keys);
  });
  afterAll(() => hub.close());

  let counter = 0;
  /** A user signed in at the portal (a session the reset must end) and a reset link of theirs. */
  async function signedInWithLink() {
    counter += 1;
    const username = `reset${counter}`;
    const created = await hub.services.users.create({ username, email: `${username}@example.test`, password: OLD_PASSWORD, roles: [] });
    const user = (await hub.services.users.findById(created.id))!;
    const browser = await signInAtPortal(hub, username, OLD_PASSWORD);
    const token = await tokens.issue('password-reset', { userId: user.id, stamp: passwordStamp(user), email: user.email.toLowerCase() }, 3600);
    return { id: user.id, browser, token };
  }

  function reset(token: string) {
    return hub.services.recovery.reset(token, NEW_PASSWORD, NEW_PASSWORD, 'en', '127.0.0.1');
  }

  async function expectDone(id: string, browser: Awaited<ReturnType<typeof signedInWithLink>>['browser'], token: string): Promise<void> {
    const user = (await hub.services.users.findById(id))!;
    expect(await hub.services.hasher.verify(user.passwordHash, NEW_PASSWORD)).toBe(true);
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    // Used up once the reset went through.
    await expect(reset(token)).rejects.toBeInstanceOf(InvalidResetLinkError);
  }

  test('two submissions of one link at once: one sets its password, the other is told the link is used', async () => {
    const { id, browser, token } = await signedInWithLink();
    const other = 'vorpal-blade-snicker-snack-5';
    const outcomes = await Promise.allSettled([reset(token), hub.services.recovery.reset(token, other, other, 'en', '127.0.0.1')]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(InvalidResetLinkError);
    const user = (await hub.services.users.findById(id))!;
    const winner = outcomes[0]!.status === 'fulfilled' ? NEW_PASSWORD : other;
    expect(await hub.services.hasher.verify(user.passwordHash, winner)).toBe(true);
    expect(await isSignedIn(browser, hub.url)).toBe(false);
  });

  test.each(['fail', 'stall'] as const)('each write %s in turn: the retry resets the password and ends the sessions', async (kind) => {
    const healthy = await signedInWithLink();
    const { writes, error } = await withNthWriteFaulted(faulty, undefined, kind, () => reset(healthy.token));
    expect(error).toBeUndefined();
    await expectDone(healthy.id, healthy.browser, healthy.token);
    expect(writes).toBeGreaterThan(2);

    const problems: string[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const { id, browser, token } = await signedInWithLink();
      const faulted = await withNthWriteFaulted(faulty, nth, kind, () => reset(token));
      if (faulted.error === undefined) continue; // absorbed (an audit write): fine if the reset is whole
      try {
        // Refused as used: only right when the fault hit the write that used the link up, which
        // landed with its answer lost (the last one): the job must be whole already.
        await reset(token).catch((error: unknown) => {
          if (!(error instanceof InvalidResetLinkError)) throw error;
        });
        await expectDone(id, browser, token);
      } catch (retryError) {
        problems.push(`write ${nth} ${kind}: ${retryError instanceof Error ? retryError.name : String(retryError)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 180_000);
});
