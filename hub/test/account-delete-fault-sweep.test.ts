/**
 * A deletion cut off at any one of its store writes ends, once the store is back, without anyone
 * acting (users/pending-deletions.ts), in one of two states only: not begun (the fault came before
 * the deletion was recorded: the caller saw the error, the account is as it was, enabled), or
 * finished by the hub's resumer as one that went through: the record, its indexes and the set of
 * users gone; no pending deletion or lease left; the audit entry and the subsite's userdelete
 * there. Never disabled and half-deleted. Each write
 * is failed in turn (`fail`: it never reaches the store) and, in a second pass, lands with its
 * answer lost (`stall`). One MemoryStore behind faultyStore (the writes are the same as on Redis).
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const LATER = 3 * 3600_000; // past any first retry's backoff and any lease

describe('Account deletion: a fault at each of its store writes (memory store)', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory', {}, faulty.store);
    await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: ['http://rp.test/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
  });
  afterAll(() => hub.close());

  let counter = 0;
  async function newUser(): Promise<{ id: string; username: string }> {
    counter += 1;
    const username = `sweep${counter}`;
    // An imported hash: no argon2 per case.
    const user = await hub.services.users.importUser({ username, email: `${username}@example.test`, name: 'Sweep', passwordHash: `$2y$10$${'x'.repeat(53)}`, roles: [] });
    return { id: user.id, username };
  }

  /** Deletes through the console's path with the `nth` write failing as `kind` says; how many writes the deletion made. */
  async function deleteWithFault(id: string, nth: number | undefined, kind: 'fail' | 'stall'): Promise<{ writes: number; failed: boolean }> {
    let writes = 0;
    faulty.plan(() => {
      writes += 1;
      return writes === nth ? kind : 'ok';
    });
    let failed = false;
    try {
      await hub.services.lifecycle.delete(id, { actor: 'cli' });
    } catch {
      failed = true;
    } finally {
      faulty.plan(undefined);
    }
    return { writes, failed };
  }

  async function expectGone(id: string, username: string): Promise<void> {
    const { users, pendingDeletions, store, keys, audit, deliveries } = hub.services;
    expect(await users.findById(id)).toBeUndefined();
    expect(await users.findByLogin(username)).toBeUndefined();
    expect(await store.setMembers(keys.users())).not.toContain(id);
    expect(await pendingDeletions.get(id)).toBeUndefined();
    expect(await store.zRangeByScore(keys.accountDeletionsDue(), -Infinity, Infinity)).not.toContain(id);
    expect(await store.get(keys.accountDeletionLease(id))).toBeNull();
    await audit.flush();
    expect((await audit.search({ event: 'admin.user.delete', user: id })).length).toBeGreaterThanOrEqual(1);
    expect((await deliveries.list('pending', 1000)).filter((item) => item.sub === id && item.kind === 'userdelete').length).toBeGreaterThanOrEqual(1);
  }

  test.each(['fail', 'stall'] as const)('every write %s in turn: the resumer finishes the deletion', async (kind) => {
    const healthy = await newUser();
    const { writes, failed } = await deleteWithFault(healthy.id, undefined, kind);
    expect(failed).toBe(false);
    await expectGone(healthy.id, healthy.username);
    expect(writes).toBeGreaterThan(5);

    const duplicates: string[] = [];
    const notBegun: number[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const user = await newUser();
      await deleteWithFault(user.id, nth, kind);
      // The resumer, once the store is back (and, for the lease of a request whose answer was lost, once it ran out).
      await hub.store.del(hub.services.keys.accountDeletionLease(user.id));
      await hub.deletionResumer.runOnce(Date.now() + LATER);
      const left = await hub.services.users.findById(user.id);
      if (left) {
        // Not begun: nothing of the account was touched, nothing is pending.
        expect(left).toMatchObject({ disabled: false });
        expect(await hub.services.pendingDeletions.get(user.id)).toBeUndefined();
        notBegun.push(nth);
        continue;
      }
      await expectGone(user.id, user.username);
      const notices = (await hub.services.deliveries.list('pending', 1000)).filter((item) => item.sub === user.id && item.kind === 'userdelete').length;
      const audited = (await hub.services.audit.search({ event: 'admin.user.delete', user: user.id })).length;
      if (notices > 1 || audited > 1) duplicates.push(`write ${nth}: ${notices} userdelete(s), ${audited} audit entries`);
    }
    // Only faults before the deletion was recorded (the lease, the due entry, the record) leave it not begun.
    expect(notBegun.every((nth) => nth <= 3)).toBe(true);
    // At least once, not more, except where the fault hit between a step and the record of it having been done.
    expect(duplicates.length).toBeLessThanOrEqual(2);
  });

  test.each(['fail', 'stall'] as const)('the owner\'s deletion (an admin, with another admin: the hold of its check), every write %s in turn: finished, or not begun and the account enabled', async (kind) => {
    const PASSWORD = 'looking-glass-42';
    await hub.services.users.create({ username: `other-admin-${kind}`, email: `other-admin-${kind}@example.test`, name: 'Other', password: PASSWORD, roles: ['admin'] });
    const deleteOwn = async (nth: number | undefined): Promise<{ id: string; username: string; writes: number }> => {
      counter += 1;
      const username = `owner${counter}`;
      const created = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Owner', password: PASSWORD, roles: ['admin'] });
      const user = (await hub.services.users.findById(created.id))!;
      let writes = 0;
      faulty.plan(() => {
        writes += 1;
        return writes === nth ? kind : 'ok';
      });
      try {
        await hub.services.deletion.deleteOwn(user, { password: PASSWORD, code: '', confirmed: true }, '127.0.0.1', 'en');
      } catch {
        // The request's answer: a 503 (or a refusal); what matters is where the account ends.
      } finally {
        faulty.plan(undefined);
      }
      return { id: user.id, username, writes };
    };
    const healthy = await deleteOwn(undefined);
    expect(await hub.services.users.findById(healthy.id)).toBeUndefined();
    const rolledBack: number[] = [];
    for (let nth = 1; nth <= healthy.writes; nth += 1) {
      const { id } = await deleteOwn(nth);
      await hub.store.del(hub.services.keys.accountDeletionLease(id));
      await hub.deletionResumer.runOnce(Date.now() + LATER);
      const left = await hub.services.users.findById(id);
      if (left) {
        // Not decided: rolled back, nothing of the deletion left on the account.
        expect(left).toMatchObject({ disabled: false });
        expect(left).not.toHaveProperty('deletionHold');
      }
      expect(await hub.services.pendingDeletions.get(id)).toBeUndefined();
      const listed = await hub.store.setMembers(hub.services.keys.users());
      if (left) {
        expect(listed).toContain(id);
        rolledBack.push(nth);
      } else {
        expect(listed).not.toContain(id);
        await hub.services.audit.flush();
        expect((await hub.services.audit.search({ event: 'account.deleted', user: id })).length).toBeGreaterThanOrEqual(1);
      }
    }
    // Some cases end each way: before the decision, not deleted; after it, deleted.
    expect(rolledBack.length).toBeGreaterThan(0);
    expect(rolledBack.length).toBeLessThan(healthy.writes);
  }, 120_000);
});
