/**
 * A new account cut off by the store at any one of its writes (a sign-up, an admin's or the
 * CLI's create, an import), then made again with the same username and address once the store
 * is back. A create claims the username (and address) first, then writes the record: cut off in
 * between, it left a claim naming no account, with no TTL, so the name (and address) stayed
 * taken for good: the sign-up sent again after the 503 page was told "This username is taken",
 * and so was everyone after. Now a claim naming an id with neither a record nor a create still
 * working on it (`user-creating:{id}`, 60 s) is taken over by the next create of that name.
 *
 * Each write is failed in turn (`fail`), then made to land with its answer lost (`stall`). The
 * marker's 60 s are skipped by deleting it, as the deletion sweep skips its lease. One
 * MemoryStore behind faultyStore (the writes are Redis's).
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { ConflictError } from '../src/errors.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

describe('Creating an account: a store fault at each of its writes, then the same account made again', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory', {}, faulty.store);
  });
  afterAll(() => hub.close());

  const creates = {
    // An imported hash: no argon2 per case. Claims the username and the address.
    import: (username: string) => hub.services.users.importUser({ username, email: `${username}@example.test`, name: 'Sweep', passwordHash: `$2y$10$${'x'.repeat(53)}`, roles: [] }),
    // A self-service sign-up: claims the username only (the address once verified).
    'sign-up': (username: string) => hub.services.users.createSignedUp({ username, email: `${username}@example.test`, name: 'Sweep', passwordHash: `$2y$10$${'x'.repeat(53)}` }),
  };

  let counter = 0;
  test.each(['import', 'sign-up'] as const)('%s: each write failing, then stalling, in turn: the account can be made again, whole', async (how) => {
    const create = creates[how];
    const { users, store, keys } = hub.services;
    counter += 1;
    const { writes, error } = await withNthWriteFaulted(faulty, undefined, 'fail', () => create(`create${counter}`));
    expect(error).toBeUndefined();
    expect(writes).toBeGreaterThan(2);

    const problems: string[] = [];
    for (const kind of ['fail', 'stall'] as const) {
      for (let nth = 1; nth <= writes; nth += 1) {
        counter += 1;
        const username = `create${counter}`;
        const faulted = await withNthWriteFaulted(faulty, nth, kind, () => create(username));
        if (faulted.error === undefined) continue;
        // What a create still at work would hold: the marker, until it expires.
        const holder = await store.get(keys.userByName(username));
        if (holder) await store.del(keys.userCreating(holder));
        const again = await create(username).then(() => 'made', (error: unknown) => (error instanceof ConflictError ? 'taken' : String(error)));
        const user = await users.findByUsername(username);
        // Taken only by the account the faulted create made after all (its last write landed, its answer lost).
        if (!user || (again !== 'made' && again !== 'taken')) problems.push(`write ${nth} ${kind}: ${again}, ${user ? 'an account' : 'no account'}`);
        else if (how === 'import' && (await users.findByEmail(`${username}@example.test`))?.id !== user.id) problems.push(`write ${nth} ${kind}: the address names another account`);
        else if (!(await store.setMembers(keys.users())).includes(user.id)) problems.push(`write ${nth} ${kind}: not in the set of users`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
