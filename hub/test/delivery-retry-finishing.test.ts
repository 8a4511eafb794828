/**
 * "Retry now" on a failed item whose worker has not yet let go of its lease (it writes the item
 * failed and lists it first, then releases): the press waits for those writes and retries it.
 * Before, it did nothing and the console said the item was being delivered; delivery.test.ts's
 * removed-subsite case failed that way on Redis now and then (a delivery review).
 */
import { DeliveryQueue } from '../src/delivery/delivery-queue.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

let hub: RunningHub;
beforeAll(async () => { hub = await startTestHub('memory'); });
afterAll(() => hub.close());

const newItem = (sub: string) => ({ kind: 'userdelete' as const, clientId: 'bbs', sub, url: 'http://127.0.0.1:9/sso/userdelete' });

test('a failed item whose lease is released 150 ms after the press is retried', async () => {
  const { store, keys } = hub.services;
  const queue = new DeliveryQueue(store, keys, { retentionSeconds: 60, leaseSeconds: 30 });
  const item = await queue.enqueue(newItem('finishing'));
  const [claim] = await queue.claimDue(1);
  // The worker's finish, cut at its last step: written failed and listed, its lease still held.
  await store.set(keys.deliveryItem(item.id), JSON.stringify({ ...claim!.item, status: 'failed', doneAt: Date.now(), attempts: 1, lastStatus: 410 }));
  await store.zAdd(keys.deliveryFailed(), Date.now(), item.id);
  await store.zRemove(keys.deliveryDue(), item.id);
  setTimeout(() => void queue.release(claim!), 150);
  expect(await queue.retryNow(item.id)).toBe(true);
  expect(await queue.get(item.id)).toMatchObject({ status: 'pending' });
});

test('a pending item being delivered is not waited for', async () => {
  const { store, keys } = hub.services;
  const queue = new DeliveryQueue(store, keys, { retentionSeconds: 60, leaseSeconds: 30 });
  const item = await queue.enqueue(newItem('in-flight'));
  const claims = await queue.claimDue(10);
  const claim = claims.find((claimed) => claimed.item.id === item.id);
  expect(claim).toBeDefined();
  const started = Date.now();
  expect(await queue.retryNow(item.id)).toBe(false);
  expect(Date.now() - started).toBeLessThan(500);
  for (const claimed of claims) await queue.release(claimed);
});
