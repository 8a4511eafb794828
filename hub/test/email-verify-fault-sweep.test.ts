/**
 * A sign-up's verification link opened while the store fails at any one of its writes (README
 * "Store down or stalled": a request that answered 503 must be safe to retry): opened again
 * once the store is back, it must verify the address (the account holds it) and be used up
 * after that. Before the fix the link was used up first (GETDEL): a fault at any later write
 * left it spent and the account unverified ("this link is not valid" on the retry).
 *
 * Each write is failed in turn (`fail`), then made to land with its answer lost (`stall`).
 * One MemoryStore behind faultyStore (the writes are Redis's).
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { AccountTokens } from '../src/users/account-tokens.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

describe('E-mail verification: a store fault at each of its writes, then the link opened again', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;
  let tokens: AccountTokens;

  beforeAll(async () => {
    hub = await startTestHub('memory', { HUB_SIGNUP: 'open' }, faulty.store);
    tokens = new AccountTokens(hub.store, hub.services.keys);
  });
  afterAll(() => hub.close());

  let counter = 0;
  async function signedUpWithLink() {
    counter += 1;
    const username = `verify${counter}`;
    const email = `${username}@example.test`;
    // An imported-style hash: no argon2 per case.
    const user = await hub.services.users.createSignedUp({ username, email, name: 'Sweep', passwordHash: `$2y$10$${'x'.repeat(53)}` });
    const token = await tokens.issue('email-verify', { userId: user.id, email }, 3600);
    return { id: user.id, email, token };
  }

  const verify = (token: string) => hub.services.signup.verify(token, '127.0.0.1');

  async function expectDone(id: string, email: string, token: string): Promise<void> {
    expect((await hub.services.users.findById(id))?.emailVerified).toBe(true);
    expect((await hub.services.users.findByEmail(email))?.id).toBe(id);
    // Used up once the verification went through.
    expect(await tokens.peek('email-verify', token)).toBeUndefined();
  }

  test.each(['fail', 'stall'] as const)('each write %s in turn: opened again, the link verifies the address', async (kind) => {
    const healthy = await signedUpWithLink();
    const { writes, error } = await withNthWriteFaulted(faulty, undefined, kind, () => verify(healthy.token));
    expect(error).toBeUndefined();
    await expectDone(healthy.id, healthy.email, healthy.token);
    expect(writes).toBeGreaterThan(1);

    const problems: string[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const { id, email, token } = await signedUpWithLink();
      const faulted = await withNthWriteFaulted(faulty, nth, kind, () => verify(token));
      if (faulted.error === undefined) continue; // absorbed (an audit write): fine if the verification is whole
      try {
        // Refused as used: only right when the fault hit the write that used the link up, which
        // landed with its answer lost (the last one): the verification must be whole already.
        await verify(token).catch((error: unknown) => {
          if (!(error instanceof Error && /not valid|expired|invalid/i.test(error.message))) throw error;
        });
        await expectDone(id, email, token);
      } catch (retryError) {
        problems.push(`write ${nth} ${kind}: ${retryError instanceof Error ? retryError.message : String(retryError)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
