/**
 * `ucenter import` of a big forum: members go several at a time, not one after another (each is
 * a few store round trips; 2,000 members behind a Redis 1 ms away took 47 s, a million would take
 * hours), while the outcome stays what the file's order gives: of two rows sharing a uid, a name
 * or an address, the earlier one wins, and the skipped rows are reported in the file's order.
 * Real Redis, reached through a store that holds each command 2 ms (a network between them).
 */
import { createHash } from 'node:crypto';
import type { Store } from '../src/store/store.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { importUcMembers, parseCsvMembers } from '../src/ucenter/import.js';
import { UserRepository } from '../src/users/user-repository.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const row = (uid: number, username: string, email: string) => `${uid},${username},${email},${md5(md5(`pw-${uid}`) + 's1')},s1,1400000000`;

/** The store, each call held `delayMs` first; counts the calls in flight at once. */
function distantStore(store: Store, delayMs: number): { store: Store; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        inFlight += 1;
        max = Math.max(max, inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight -= 1;
        }
      };
    },
  });
  return { store: proxy, maxInFlight: () => max };
}

describe('ucenter import of many members (redis)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test('imports members several at a time; rows that share a uid, name or address with an earlier one lose to it, as in the file\'s order', async () => {
    const lines = ['uid,username,email,password,salt,regdate'];
    for (let uid = 100; uid < 400; uid += 1) lines.push(row(uid, `member${uid}`, `member${uid}@example.test`));
    // Each of these shares something with an earlier row: near it and far from it.
    lines.push(row(1000, 'MEMBER101', 'other1000@example.test')); // the name of uid 101, folded
    lines.push(row(1001, 'newname1001', 'Member399@Example.test')); // the address of uid 399
    lines.push(row(150, 'another150', 'another150@example.test')); // uid 150 again
    lines.push(row(1002, 'dup', 'dup-a@example.test'));
    lines.push(row(1003, 'DUP', 'dup-b@example.test')); // right after the row it loses to
    const members = parseCsvMembers(`${lines.join('\n')}\n`);

    const distant = distantStore(hub.services.store, 2);
    const users = new UserRepository(distant.store, hub.services.keys, hub.services.hasher);
    const report = await importUcMembers({ store: distant.store, keys: hub.services.keys, users }, members);

    expect(distant.maxInFlight()).toBeGreaterThanOrEqual(8);
    expect(report.imported).toBe(301);
    expect(report.skipped.map((skipped) => skipped.uid)).toEqual([1000, 1001, 150, 1003]);
    expect((await hub.services.users.findByUid(101))!.username).toBe('member101');
    expect((await hub.services.users.findByUid(150))!.username).toBe('member150');
    expect((await hub.services.users.findByUid(399))!.email).toBe('member399@example.test');
    expect((await hub.services.users.findByUid(1002))!.username).toBe('dup');
    for (const uid of [1000, 1001, 1003]) expect(await hub.services.users.findByUid(uid)).toBeUndefined();
    // New users get uids above the export's.
    expect((await hub.services.users.create({ username: 'after', email: 'after@example.test', password: 'after-import-1' })).uid).toBeGreaterThan(1003);
  });
});
