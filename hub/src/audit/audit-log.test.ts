import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { openTestStore } from '../testing/test-hub.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { AuditEntriesDroppedError, AuditLog, AuditWriteRefusedError, type AuditEntry, type AuditLogOptions } from './audit-log.js';

/** Wraps a store and counts the calls made to it, by method. */
function countingStore(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls };
}

/** Makes each batch write (zAddMany) take `delayMs` first; `writes()` says how many there were. */
function slowWrites(store: MemoryStore, delayMs: number): { writes: () => number } {
  let writes = 0;
  const original = store.zAddMany.bind(store);
  store.zAddMany = async (key, items) => {
    writes += 1;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return original(key, items);
  };
  return { writes: () => writes };
}

describe('audit log bounds', () => {
  test('at its cap, trim() removes the oldest in one command and keeps exactly the newest maxEntries', async () => {
    const memory = new MemoryStore();
    const keys = new Keys('t:');
    const maxEntries = 1_000;
    const at = Date.now();
    await memory.zAddMany(
      keys.auditLog(),
      Array.from({ length: maxEntries + 400 }, (_, i) => ({ score: at + i, member: JSON.stringify({ id: `e${i}`, at: at + i, event: 'token.issued', actor: `user-${i}` }) })),
    );
    const { store, calls } = countingStore(memory);
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries });
    expect(await log.trim(at + 10_000)).toBe(400);
    // One command for the retention, one for the cap, per log (the rest, tokens issued, attempts): not one per removed entry.
    expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(6);
    expect(calls.get('zRemove')).toBeUndefined();
    const kept = await memory.zRevRange(keys.auditLog(), 0, -1);
    expect(kept).toHaveLength(maxEntries);
    expect(kept.map((member) => (JSON.parse(member) as { id: string }).id)).toEqual(Array.from({ length: maxEntries }, (_, i) => `e${maxEntries + 399 - i}`));
    // Under the cap, trimming removes nothing.
    expect(await log.trim(at + 10_000)).toBe(0);
    await memory.close();
  });

  test('stays within the entry cap (to the trim interval) and trim() enforces it exactly', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 50 });
    // One millisecond per entry, so "oldest" is well defined (entries within one millisecond
    // have no order among themselves).
    let clock = Date.now();
    const now = jest.spyOn(Date, 'now').mockImplementation(() => (clock += 1));
    for (let i = 0; i < 305; i += 1) await log.record({ event: 'logout', actor: `user-${i}` });
    now.mockRestore();
    const count = await store.zCard(keys.auditLog());
    expect(count).toBeGreaterThanOrEqual(50);
    expect(count).toBeLessThanOrEqual(50 + 100);
    await log.trim();
    expect(await store.zCard(keys.auditLog())).toBe(50);
    // The oldest go first: the newest 50 are kept.
    const kept: number[] = [];
    for await (const entry of log.entries()) kept.push(Number(entry.actor!.slice(5)));
    expect(kept).toEqual(Array.from({ length: 50 }, (_, i) => 304 - i));
    await store.close();
  });

  test('drops entries older than the retention', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 60, maxEntries: 1000 });
    for (let i = 0; i < 10; i += 1) await log.record({ event: 'logout' });
    expect(await log.trim(Date.now() + 61_000)).toBe(10);
    expect(await store.zCard(keys.auditLog())).toBe(0);
    await store.close();
  });

  test('concurrent records are written in batches, and every promise resolves once stored', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const { writes } = slowWrites(store, 5);
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.record({ event: 'login.success', client: `c${i}` })));
    expect(await store.zCard(keys.auditLog())).toBe(200);
    expect(writes()).toBeLessThanOrEqual(3);
    let seen = 0;
    for await (const _entry of log.entries()) seen += 1;
    expect(seen).toBe(200);
    await store.close();
  });

  test('entries recorded a moment apart (requests finishing one after another) share one write', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const { writes } = slowWrites(store, 0);
    // A linger far longer than the gaps (event-loop turns), so a loaded machine's slow turns
    // cannot split the batch (at the default 10 ms, a CI run on a busy machine did).
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000, lingerMs: 1_000 });
    for (let i = 0; i < 4; i += 1) {
      log.recordLater({ event: 'token.issued', client: `c${i}` });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await log.flush();
    expect(await store.zCard(keys.auditTokens())).toBe(4);
    expect(writes()).toBe(1);
    // An entry a caller awaits is not held back.
    await log.record({ event: 'login.success' });
    expect(writes()).toBe(2);
    await store.close();
  });

  test('a reader is not held up by entries that keep arriving after it asked', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    slowWrites(store, 5);
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000 });
    let busy = true;
    const writer = (async () => {
      while (busy) {
        void log.record({ event: 'token.issued' });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = Date.now();
    const found = await log.search({}, 10);
    expect(Date.now() - started).toBeLessThan(500);
    expect(found.length).toBeGreaterThan(0);
    busy = false;
    await writer;
    await log.flush();
    await store.close();
  });

  test('tokens issued cannot push other entries out: they are kept apart, under a cap of their own', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 100, maxTokenEntries: 200, lingerMs: 0 });
    let clock = Date.now();
    const now = jest.spyOn(Date, 'now').mockImplementation(() => (clock += 1));
    await log.record({ event: 'admin.user.delete', actor: 'admin-1', subject: 'user-9' });
    await log.record({ event: 'login.success', actor: 'user-1' });
    // A flood of tokens (a service client, or someone with a stolen client secret), far past both caps.
    for (let i = 0; i < 1_000; i += 1) log.recordLater({ event: 'token.issued', client: 'svc' });
    await log.flush();
    await log.record({ event: 'logout', actor: 'user-1' });
    now.mockRestore();
    await log.trim(clock);
    expect(await log.search({ event: 'admin' })).toEqual([expect.objectContaining({ event: 'admin.user.delete', actor: 'admin-1', subject: 'user-9' })]);
    expect(await log.search({ event: 'login' })).toEqual([expect.objectContaining({ event: 'login.success' })]);
    expect(await store.zCard(keys.auditTokens())).toBe(200);
    // Read together, newest first: the logout, then the newest tokens, down to the oldest entries.
    const all: string[] = [];
    for await (const entry of log.entries()) all.push(entry.event);
    expect(all).toHaveLength(203);
    expect(all[0]).toBe('logout');
    expect(all.slice(1, 201).every((event) => event === 'token.issued')).toBe(true);
    expect(all.slice(201)).toEqual(['login.success', 'admin.user.delete']);
    await store.close();
  });

  test('attempts anyone can make without signing in cannot push other entries out: kept apart, under a cap of their own', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 100, maxAttemptEntries: 150, lingerMs: 0 });
    let clock = Date.now();
    const now = jest.spyOn(Date, 'now').mockImplementation(() => (clock += 1));
    await log.record({ event: 'admin.user.disable', actor: 'admin-1', subject: 'user-9' });
    await log.record({ event: 'login.success', actor: 'user-1' });
    // A second step that failed after a correct password: the sign of a stolen one, kept with the rest.
    await log.record({ event: 'login.failure', actor: 'user-1', subject: 'user-1', detail: { step: 'two-step' } });
    await log.record({ event: 'logout', actor: 'user-1', subject: 'user-1' });
    // A guessing attack, a sign-up flood, anonymous sign-out requests and a public client's
    // revocations, far past both caps, as fast as the throttles let them.
    for (let i = 0; i < 300; i += 1) {
      await log.record({ event: i % 3 === 0 ? 'login.throttled' : 'login.failure', actor: 'user-1', ip: '203.0.113.7' });
      await log.record({ event: i % 2 ? 'signup.created' : 'password.reset.requested', ip: '203.0.113.7' });
      if (i % 10 === 0) await log.record({ event: 'logout', ip: '203.0.113.7' });
      if (i % 10 === 5) await log.record({ event: 'token.revoked', actor: 'spa', client: 'spa', detail: { token_type_hint: '', client_auth: 'none' } });
    }
    await log.record({ event: 'token.revoked', actor: 'forum', client: 'forum', detail: { token_type_hint: '' } });
    await log.record({ event: 'account.password.wrong', actor: 'user-1' });
    now.mockRestore();
    await log.trim(clock);
    expect(await log.search({ event: 'admin' })).toEqual([expect.objectContaining({ event: 'admin.user.disable', actor: 'admin-1', subject: 'user-9' })]);
    expect(await log.search({ event: 'login.success' })).toEqual([expect.objectContaining({ actor: 'user-1' })]);
    expect(await log.search({ user: 'user-1', event: 'login.failure' }, 1_000)).toContainEqual(expect.objectContaining({ detail: { step: 'two-step' } }));
    expect(await log.search({ event: 'logout', user: 'user-1' })).toHaveLength(1);
    expect(await log.search({ event: 'token.revoked', client: 'forum' })).toHaveLength(1);
    expect(await store.zCard(keys.auditAttempts())).toBe(150);
    expect(await store.zCard(keys.auditLog())).toBe(6);
    // Read together, newest first: the attempts that are left come between the entries around them.
    const all: string[] = [];
    for await (const entry of log.entries()) all.push(entry.event);
    expect(all).toHaveLength(156);
    expect(all.slice(0, 2)).toEqual(['account.password.wrong', 'token.revoked']);
    expect(all.slice(152)).toEqual(['logout', 'login.failure', 'login.success', 'admin.user.disable']);
    // A filter that only the attempts match reads only their log.
    const { store: counted, calls } = countingStore(store);
    const failures = await new AuditLog(counted, keys, { retentionSeconds: 3600, maxEntries: 100 }).search({ event: 'login.failure' }, 1_000);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((entry) => entry.event === 'login.failure')).toBe(true);
    expect(calls.get('zRevRangeByScore')).toBe(2); // the main log and the attempts' (login.* may be either), not the tokens'
    await store.close();
  });

  test('both logs read together are in time order across pages, filtered, and cut at `since`', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000 });
    const at = Date.now();
    // Interleaved in time, more than one page (500) of each.
    await store.zAddMany(keys.auditTokens(), Array.from({ length: 700 }, (_, i) => ({ score: at + 2 * i, member: JSON.stringify({ id: `t${i}`, at: at + 2 * i, event: 'token.issued', client: i % 2 ? 'a' : 'b' }) })));
    await store.zAddMany(keys.auditLog(), Array.from({ length: 700 }, (_, i) => ({ score: at + 2 * i + 1, member: JSON.stringify({ id: `s${i}`, at: at + 2 * i + 1, event: 'login.success', client: i % 2 ? 'a' : 'b' }) })));
    const times: number[] = [];
    for await (const entry of log.entries()) times.push(entry.at);
    expect(times).toHaveLength(1_400);
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const forA = await log.search({ client: 'a' }, 2_000);
    expect(forA).toHaveLength(700);
    expect(forA.every((entry) => entry.client === 'a')).toBe(true);
    const recent = await log.search({ since: at + 1_000 }, 2_000);
    expect(recent).toHaveLength(400); // each log's entries 500..699
    expect(recent.every((entry) => entry.at >= at + 1_000)).toBe(true);
    // A reader that stops early reads one page of each log (the main log, tokens, attempts), no more.
    const { store: counted, calls } = countingStore(store);
    const early = await new AuditLog(counted, keys, { retentionSeconds: 3600, maxEntries: 10_000 }).search({}, 3);
    expect(early).toEqual([expect.objectContaining({ id: 's699' }), expect.objectContaining({ id: 't699' }), expect.objectContaining({ id: 's698' })]);
    expect(calls.get('zRevRangeByScore')).toBe(3);
    await store.close();
  });

  test('a reader paging while tokens keep being recorded reads each entry once, in order, pages cut inside a millisecond included', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000, maxTokenEntries: 10_000 });
    const at = Date.now() - 60_000;
    // 1,200 entries, 300 in each millisecond: pages of 500 end inside a millisecond.
    await store.zAddMany(keys.auditTokens(), Array.from({ length: 1_200 }, (_, i) => ({ score: at + Math.floor(i / 300), member: JSON.stringify({ id: `t${i}`, at: at + Math.floor(i / 300), event: 'token.issued' }) })));
    const seen: AuditEntry[] = [];
    for await (const entry of log.entries()) {
      seen.push(entry);
      if (seen.length > 5_000) break; // paged by rank, the reader never got to the end
      // The endpoint keeps issuing while the console pages: newer entries land on top.
      if (seen.length % 100 === 0) await store.zAddMany(keys.auditTokens(), Array.from({ length: 200 }, (_, i) => ({ score: Date.now(), member: JSON.stringify({ id: `new${seen.length}-${i}`, at: Date.now(), event: 'token.issued' }) })));
    }
    const ids = seen.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('t'))).toHaveLength(1_200);
    expect(seen.map((entry) => entry.at)).toEqual(seen.map((entry) => entry.at).sort((x, y) => y - x));
    await store.close();
  });
});

/** Makes the store refuse batch writes (zAddMany) while `refusing()` says so; `tries()` counts them. */
function refusingWrites(store: MemoryStore): { refuse(on: boolean): void; tries: () => number } {
  let refusing = false;
  let tries = 0;
  const original = store.zAddMany.bind(store);
  store.zAddMany = async (key, items) => {
    tries += 1;
    if (refusing) throw new Error('store unavailable (test)');
    return original(key, items);
  };
  return { refuse: (on) => (refusing = on), tries: () => tries };
}

/** An audit log on an embedded store whose batch writes can be refused; what the log reported, and the "given up" reports. */
function refusingLog(options: Partial<AuditLogOptions> = {}) {
  const store = new MemoryStore();
  const keys = new Keys('t:');
  const writes = refusingWrites(store);
  const errors: unknown[] = [];
  const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000, lingerMs: 0, ...options }, (error) => errors.push(error));
  const givenUp = () => errors.filter((error): error is AuditEntriesDroppedError => error instanceof AuditEntriesDroppedError);
  return { store, keys, writes, errors, log, givenUp };
}

async function until(check: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('audit log: a batch the store refuses is written again, not lost', () => {
  test('entries refused by a store that is down are kept and written once it is back; no caller is held up', async () => {
    const { store, keys, writes, errors, log } = refusingLog({ retryMs: 20 });
    writes.refuse(true);
    const started = Date.now();
    await log.record({ event: 'login.success', actor: 'u1' }); // refused: resolves all the same
    log.recordLater({ event: 'token.issued', client: 'c1' });
    await log.record({ event: 'admin.user.create', actor: 'admin' }); // while a try is due: at once
    expect(Date.now() - started).toBeLessThan(500);
    expect(await store.zCard(keys.auditLog())).toBe(0);
    expect(errors[0]).toBeInstanceOf(AuditWriteRefusedError);
    // Tries back off while the store stays down…
    await until(() => writes.tries() >= 3);
    writes.refuse(false);
    // …and once it is back, everything recorded is there, each entry once.
    await until(async () => (await store.zCard(keys.auditLog())) === 2 && (await store.zCard(keys.auditTokens())) === 1);
    const events = (await log.search({}, 10)).map((entry) => entry.event).sort();
    expect(events).toEqual(['admin.user.create', 'login.success', 'token.issued']);
    expect(errors.some((error) => error instanceof AuditEntriesDroppedError)).toBe(false);
    log.stop();
    await store.close();
  });

  test('a write that went through but whose answer was lost is sent again without a duplicate', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const original = store.zAddMany.bind(store);
    let lostAnswers = 1;
    store.zAddMany = async (key, items) => {
      const written = await original(key, items);
      if (lostAnswers-- > 0) throw new Error('connection reset after the write (test)');
      return written;
    };
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000, retryMs: 10 }, () => {});
    await log.record({ event: 'login.success', actor: 'u1' });
    await until(() => lostAnswers < 0);
    await log.flush();
    expect(await store.zCard(keys.auditLog())).toBe(1);
    log.stop();
    await store.close();
  });

  test('a store down for long: the oldest entries past maxPendingEntries are given up and reported once, the newest kept', async () => {
    const { store, writes, log, givenUp } = refusingLog({ maxPendingEntries: 5, retryMs: 60_000 });
    writes.refuse(true);
    for (let i = 0; i < 8; i += 1) await log.record({ event: 'login.success', actor: `u${i}` });
    expect(log.waiting).toBe(5);
    writes.refuse(false);
    await log.flush();
    const actors = (await log.search({}, 20)).map((entry) => entry.actor).sort();
    expect(actors).toEqual(['u3', 'u4', 'u5', 'u6', 'u7']);
    const dropped = givenUp();
    expect(dropped.map((error) => error.count)).toEqual([3]);
    expect(log.givenUp).toBe(3);
    expect(log.waiting).toBe(0);
    log.stop();
    await store.close();
  });

  test('each log is bounded on its own: a flood of tokens issued (or of failed sign-ins) never pushes out a waiting admin action, and a main-log entry given up is handed over whole', async () => {
    const { store, keys, writes, log, givenUp } = refusingLog({ maxPendingEntries: 5, retryMs: 60_000 });
    writes.refuse(true);
    await log.record({ event: 'admin.user.delete', actor: 'admin', subject: 'victim' });
    for (let i = 0; i < 1_000; i += 1) log.recordLater({ event: 'token.issued', client: `c${i}` });
    for (let i = 0; i < 1_000; i += 1) log.recordLater({ event: 'login.failure', actor: `guess${i}` });
    expect(log.waiting).toBe(11);
    writes.refuse(false);
    await log.flush();
    expect((await store.zRevRange(keys.auditLog(), 0, -1)).map((raw) => (JSON.parse(raw) as AuditEntry).event)).toEqual(['admin.user.delete']);
    expect(await store.zCard(keys.auditTokens())).toBe(5);
    expect(await store.zCard(keys.auditAttempts())).toBe(5);
    const dropped = givenUp();
    expect(dropped.map((error) => error.count)).toEqual([1_990]);
    expect(dropped[0]!.mainEntries).toEqual([]);

    // Past the cap of the main log itself: its oldest are handed over whole, for the process log.
    writes.refuse(true);
    for (let i = 0; i < 7; i += 1) await log.record({ event: 'admin.user.create', actor: 'admin', subject: `u${i}` });
    writes.refuse(false);
    await log.flush();
    const mainGivenUp = givenUp().at(-1)!;
    expect(mainGivenUp.count).toBe(2);
    expect(mainGivenUp.mainEntries.map((raw) => (JSON.parse(raw) as AuditEntry).subject)).toEqual(['u0', 'u1']);
    log.stop();
    await store.close();
  });

  test('once stopped, what the store still refuses at the last flush is reported as given up, and nothing is tried later', async () => {
    const { store, keys, writes, log, givenUp } = refusingLog({ retryMs: 10 });
    writes.refuse(true);
    await log.record({ event: 'login.success', actor: 'u1' });
    log.stop();
    await log.flush();
    const tries = writes.tries();
    expect(givenUp().map((error) => error.count)).toEqual([1]);
    writes.refuse(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writes.tries()).toBe(tries);
    expect(await store.zCard(keys.auditLog())).toBe(0);
    await store.close();
  });
});

describe('audit log: a log the store refuses does not hold back the others (real Redis)', () => {
  test('the token log’s key holds a string (WRONGTYPE): the main log’s entry is stored at once, only the token entry waits', async () => {
    const store = await openTestStore('redis');
    const keys = new Keys(`t-audit-wrongtype-${randomUUID()}:`);
    const errors: unknown[] = [];
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000, lingerMs: 0, retryMs: 60_000 }, (error) => errors.push(error));
    try {
      await store.set(keys.auditTokens(), 'not a sorted set', { ttlSeconds: 60 });
      log.recordLater({ event: 'login.success', actor: 'alice' });
      log.recordLater({ event: 'token.issued', client: 'svc' });
      await log.flush();
      expect(await store.zCard(keys.auditLog())).toBe(1);
      expect(log.waiting).toBe(1); // the token entry alone, kept for another try
      const refused = errors.filter((error): error is AuditWriteRefusedError => error instanceof AuditWriteRefusedError);
      expect(refused.map((error) => error.count)).toEqual([1]);
      const causes: string[] = [];
      for (let error: unknown = refused[0]; error instanceof Error; error = error.cause) causes.push(error.message);
      expect(causes.join(' / ')).toContain('WRONGTYPE');
      // Once the key is a log again, the kept entry is written, and the main entry only once.
      await store.del(keys.auditTokens());
      await log.flush();
      expect(log.waiting).toBe(0);
      expect(await store.zCard(keys.auditTokens())).toBe(1);
      expect(await store.zCard(keys.auditLog())).toBe(1);
    } finally {
      await log.stop();
      await store.del(keys.auditLog(), keys.auditTokens(), keys.auditAttempts());
      await store.close();
    }
  });

  test('while the token log refuses, the main log is still kept within its cap', async () => {
    const store = await openTestStore('redis');
    const keys = new Keys(`t-audit-wrongtype-${randomUUID()}:`);
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 50, lingerMs: 0, retryMs: 60_000 }, () => {});
    try {
      await store.set(keys.auditTokens(), 'not a sorted set', { ttlSeconds: 60 });
      for (let i = 0; i < 300; i += 1) {
        log.recordLater({ event: 'login.success', actor: `user-${i}` });
        log.recordLater({ event: 'token.issued', client: 'svc' });
        if (i % 20 === 19) await log.flush();
      }
      await log.flush();
      expect(await store.zCard(keys.auditLog())).toBeLessThanOrEqual(50 + 100);
    } finally {
      log.stop();
      await store.del(keys.auditLog(), keys.auditTokens(), keys.auditAttempts());
      await store.close();
    }
  });
});

describe('OWASP ASVS 5 V16: control and bidi characters in entries', () => {
  const RLO = '\u202e';
  test('a typed login keeps its text, with controls and bidi overrides as visible escapes, in the store and on reading', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 100 });
    // A login typed to forge a line in a text export and to show as "admin" + "exe.png" reversed.
    const typed = `admin${RLO}gnp.exe\r\n2026-01-01 login.success actor=root\u0000\u0085\u2066x\u2069 李 é ok`;
    await log.record({ event: 'login.failure', actor: typed, client: `c\u0007lient`, ip: '203.0.113.9', detail: { reason: `two\u200fstep`, count: 3 } });
    const [stored] = await store.zRevRange(keys.auditAttempts(), 0, -1);
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    const parsed = JSON.parse(stored!) as AuditEntry;
    for (const text of [parsed.actor!, parsed.client!, String(parsed.detail!.reason)]) expect(text).not.toMatch(unsafe);
    expect(parsed.actor).toBe('admin\\u202egnp.exe\\u000d\\u000a2026-01-01 login.success actor=root\\u0000\\u0085\\u2066x\\u2069 李 é ok');
    expect(parsed.client).toBe('c\\u0007lient');
    expect(parsed.detail).toEqual({ reason: 'two\\u200fstep', count: 3 });
    // The export's line (JSON of the entry as read) holds no such character either.
    const [read] = await log.search({});
    expect(read).toEqual(parsed);
    expect(JSON.stringify(read)).not.toMatch(unsafe);
    // Searched for as typed (the console's filter), it is found.
    expect((await log.search({ user: typed })).map((entry) => entry.id)).toEqual([parsed.id]);
    await store.close();
  });

  test('invisible format characters and lone surrogates are escaped too: a typed login cannot show as another account\'s', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 100 });
    // Each shows as "alice" in the console (a zero-width space, a word joiner, a BOM, a soft
    // hyphen, an invisible tag letter: "ASCII smuggling"); the last keeps half of an emoji.
    const typed = ['alice\u200b', 'ali\u2060ce', '\ufeffalice', 'ali\u00adce', 'alice\u{E0041}', `alice\ud83d`];
    for (const actor of typed) await log.record({ event: 'login.failure', actor, detail: { typed: actor } });
    const stored = (await store.zRevRange(keys.auditAttempts(), 0, -1)).map((member) => JSON.parse(member) as AuditEntry);
    expect(stored.map((entry) => entry.actor).sort()).toEqual(['alice\\u200b', 'ali\\u2060ce', '\\ufeffalice', 'ali\\u00adce', 'alice\\u{e0041}', 'alice\\ud83d'].sort());
    expect(stored.map((entry) => entry.detail!.typed)).toEqual(stored.map((entry) => entry.actor));
    // A whole emoji, and letters of any script, stay as typed.
    await log.record({ event: 'login.failure', actor: 'bob 😀 李 é' });
    expect((await log.search({ user: 'bob 😀 李 é' }))[0]!.actor).toBe('bob 😀 李 é');
    // Entries stored before are read in the same form.
    const at = Date.now();
    await store.zAdd(keys.auditAttempts(), at + 1, JSON.stringify({ id: 'old', at: at + 1, event: 'login.failure', actor: 'alice\u200b\ud83d' }));
    expect((await log.search({ event: 'login' }))[0]!.actor).toBe('alice\\u200b\\ud83d');
    await store.close();
  });

  test('an entry stored before (raw override, raw line break) is read in the same safe form', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 100 });
    const at = Date.now();
    await store.zAdd(keys.auditAttempts(), at, JSON.stringify({ id: 'old', at, event: 'login.failure', actor: `eve${RLO}nimda\nx`, detail: { why: `a${RLO}` } }));
    const [entry] = await log.search({ event: 'login' });
    expect(entry!.actor).toBe('eve\\u202enimda\\u000ax');
    expect(entry!.detail).toEqual({ why: 'a\\u202e' });
    await store.close();
  });
});

describe('a console page of the log: `until` as a range, a bounded scan', () => {
  test('`until` starts the read there (the store range), and includes its millisecond', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const at = Date.now() - 60_000;
    await store.zAddMany(keys.auditLog(), Array.from({ length: 3_000 }, (_, i) => ({ score: at + i, member: JSON.stringify({ id: `e${i}`, at: at + i, event: 'logout', actor: 'u' }) })));
    const { store: counted, calls } = countingStore(store);
    const log = new AuditLog(counted, keys, { retentionSeconds: 3600, maxEntries: 10_000 });
    const found = await log.search({ until: at + 99 }, 1_000);
    expect(found.map((entry) => entry.id)).toEqual(Array.from({ length: 100 }, (_, i) => `e${99 - i}`));
    // One page of each log read (all three: no event filter); before, the 2,900 newer entries were read first (6 pages of the main log).
    expect(calls.get('zRevRangeByScore')).toBe(3);
    await store.close();
  });

  test('a filter that matches nothing examines about scanLimit entries, stops between two milliseconds, and the next page goes on from there', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const at = Date.now() - 60_000;
    // Three entries a millisecond: the limit falls inside one.
    await store.zAddMany(keys.auditTokens(), Array.from({ length: 3_000 }, (_, i) => ({ score: at + Math.floor(i / 3), member: JSON.stringify({ id: `t${i}`, at: at + Math.floor(i / 3), event: 'token.issued', client: 'svc' }) })));
    const log = new AuditLog(store, keys, { retentionSeconds: 3600, maxEntries: 10_000 });
    const first = await log.page({ client: 'nobody' }, 200, 1_000);
    expect(first.entries).toEqual([]);
    // 1,000 reached inside the millisecond of entries 1,998..2,000 from the top: that millisecond is examined whole.
    expect(first.stopped).toEqual({ examined: 1_002, until: at + 665 });
    const second = await log.page({ client: 'nobody', until: first.stopped!.until }, 200, 1_000);
    expect(second.stopped).toEqual({ examined: 1_002, until: at + 331 });
    const third = await log.page({ client: 'nobody', until: second.stopped!.until }, 200, 1_000);
    expect(third).toEqual({ entries: [] });
    // Pages of a filter that matches: every entry once across the stops.
    const ids: string[] = [];
    let until: number | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await log.page({ client: 'svc', ...(until !== undefined ? { until } : {}) }, 5_000, 700);
      ids.push(...page.entries.map((entry) => entry.id));
      if (!page.stopped) break;
      until = page.stopped.until;
    }
    expect(ids).toHaveLength(3_000);
    expect(new Set(ids).size).toBe(3_000);
    await store.close();
  });
});
