/**
 * A user's deletion that stops part-way (the store's deadline, a crash) leaves nothing that
 * cannot be finished by deleting again. Before: the record went first and the username index
 * after it, so a deletion cut off between the two left the username pointing at no account:
 * nobody could sign up with it again, and deleting again said there was no such user (a
 * review of the change that made each index let go only where it still points at the account).
 */
import { describe, expect, it } from '@jest/globals';
import { Keys } from '../src/store/keys.js';
import { MemoryStore } from '../src/store/memory.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { UserRepository } from '../src/users/user-repository.js';
import type { PasswordHasher } from '../src/users/passwords.js';

describe('a deletion cut off part-way', () => {
  it.each(['swap', 'del', 'setRemove'])('a store failure at its first %s: deleting again finishes it and the username is free', async (method) => {
    const keys = new Keys('t:');
    const faulty = faultyStore(new MemoryStore());
    const users = new UserRepository(faulty.store, keys, {} as PasswordHasher);
    const user = await users.importUser({ username: 'halfway', email: 'halfway@example.test', passwordHash: 'x'.repeat(60) });
    let failed = false;
    faulty.plan((m) => {
      if (m !== method || failed) return 'ok';
      failed = true;
      return 'fail';
    });
    await expect(users.delete(user.id)).rejects.toThrow();
    faulty.plan(undefined);
    // The admin presses delete again (or the account is still there to be found and deleted).
    const again = await users.findById(user.id);
    if (again) await users.delete(user.id);
    expect(await users.findById(user.id)).toBeUndefined();
    expect(await users.findByUsername('halfway')).toBeUndefined();
    // The username (and the address) can be taken by a new account.
    await expect(users.importUser({ username: 'halfway', email: 'halfway@example.test', passwordHash: 'y'.repeat(60) })).resolves.toMatchObject({ username: 'halfway' });
  });

});
