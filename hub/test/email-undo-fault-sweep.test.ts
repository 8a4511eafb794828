/**
 * "Give my address back" cut off by the store at any one of its writes (README "Store down or
 * stalled": a request that answered 503 must be safe to retry). The owner whose address a taker
 * changed is shown the 503 page and sends the form again once the store is back: the address
 * must then be theirs again, every session of the account (the taker's) ended, and the link
 * used up after that. Before the fix the link was used up first (GETDEL): a fault at any later
 * write left it spent, the retry told "this link has expired or was already used", with the
 * taker's address kept, or the address given back while the taker's sessions went on.
 *
 * Each write is failed in turn (`fail`), then made to land with its answer lost (`stall`).
 * One MemoryStore behind faultyStore (the writes are Redis's).
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signInAtPortal } from '../src/testing/flows.js';
import type { TestBrowser } from '../src/testing/browser.js';
import { AccountTokens } from '../src/users/account-tokens.js';
import { InvalidUndoLinkError } from '../src/users/email-change.js';
import { isSignedIn } from './support.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

const PASSWORD = 'looking-glass-42';

describe('E-mail undo: a store fault at each of its writes, then the same form sent again', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;
  let tokens: AccountTokens;

  beforeAll(async () => {
    hub = await startTestHub('memory', { LOGIN_MAX_ATTEMPTS_PER_IP: '1000' }, faulty.store);
    tokens = new AccountTokens(hub.store, hub.services.keys);
  });
  afterAll(() => hub.close());

  let counter = 0;
  /** An account whose address a taker changed, the taker signed in, and the undo link the old address got. */
  async function takenWithLink() {
    counter += 1;
    const username = `undo${counter}`;
    const from = `${username}@example.test`;
    const to = `${username}@taker.test`;
    const created = await hub.services.users.create({ username, email: from, password: PASSWORD, roles: [] });
    await hub.services.users.changeEmail(created.id, from, { verified: true });
    await hub.services.users.changeEmail(created.id, to, { verified: true, changedAt: Date.now() });
    const taker = await signInAtPortal(hub, username, PASSWORD);
    const token = await tokens.issue('email-undo', { userId: created.id, from, to }, 3600);
    return { id: created.id, from, to, taker, token };
  }

  function undo(token: string) {
    return hub.services.emailChange.undo(token, '127.0.0.1');
  }

  async function expectDone(id: string, from: string, to: string, taker: TestBrowser, token: string): Promise<void> {
    expect((await hub.services.users.findById(id))?.email).toBe(from);
    // The taker's address is let go: it signs in no more, and is free for anyone.
    expect(await hub.services.users.findByLogin(to)).toBeUndefined();
    expect(await isSignedIn(taker, hub.url)).toBe(false);
    // Used up once the undo went through.
    await expect(undo(token)).rejects.toBeInstanceOf(InvalidUndoLinkError);
  }

  test.each(['fail', 'stall'] as const)('each write %s in turn: the retry gives the address back and ends the sessions', async (kind) => {
    const healthy = await takenWithLink();
    const { writes, error } = await withNthWriteFaulted(faulty, undefined, kind, () => undo(healthy.token));
    expect(error).toBeUndefined();
    await expectDone(healthy.id, healthy.from, healthy.to, healthy.taker, healthy.token);
    expect(writes).toBeGreaterThan(2);

    const problems: string[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const { id, from, to, taker, token } = await takenWithLink();
      const faulted = await withNthWriteFaulted(faulty, nth, kind, () => undo(token));
      if (faulted.error === undefined) continue; // absorbed (an audit write): fine if the undo is whole
      try {
        // Refused as used: only right when the fault hit the write that used the link up, which
        // landed with its answer lost (the last one): the job must be whole already.
        await undo(token).catch((error: unknown) => {
          if (!(error instanceof InvalidUndoLinkError)) throw error;
        });
        await expectDone(id, from, to, taker, token);
      } catch (retryError) {
        problems.push(`write ${nth} ${kind}: ${retryError instanceof Error ? retryError.name : String(retryError)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 180_000);
});
