/**
 * The delivery queue in a zh-CN console: the hub's own reasons a notice failed (the subsite is
 * gone, the queue gave up after N attempts, a UCenter application that did not answer 1) are shown
 * in the reader's language; a technical answer (`HTTP 503`, a network error) as recorded. Before,
 * the reason column showed the stored English sentence in an otherwise Chinese page (a console
 * review). The stored text, which the audit log's `error` detail carries, stays as it was.
 */
import { DELIVERY_ERRORS, gaveUpText, shownDeliveryError } from '../src/delivery/delivery-errors.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: delivery failures in the reader’s language', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  test('a notice for a subsite that is gone: its reason in Chinese, the stored text unchanged', async () => {
    const item = await hub.services.deliveries.enqueue({ kind: 'userdelete', clientId: 'gone-site', sub: 'user-1', url: 'http://127.0.0.1:9/sso/userdelete' });
    await hub.deliveryWorker.runOnce();
    expect((await hub.services.deliveries.get(item.id))!.lastError).toBe(DELIVERY_ERRORS.clientGone);

    const admin = await signedInAdmin(hub);
    admin.cookies(hub.url).set('lang', 'zh-CN');
    const zh = await (await admin.get(`${hub.url}/admin/deliveries?status=failed`)).text();
    expect(zh).toContain('该子站点已不存在，或没有此通知的 URL');
    expect(zh).not.toContain(DELIVERY_ERRORS.clientGone);

    admin.cookies(hub.url).set('lang', 'en');
    const en = await (await admin.get(`${hub.url}/admin/deliveries?status=failed`)).text();
    expect(en).toContain('the subsite is gone, or has no URL for this notice');
  });

  test('a stored text is read back as the catalog’s message, a gave-up count, or as recorded', () => {
    expect(shownDeliveryError(gaveUpText('HTTP 503', 12))).toEqual({ text: 'HTTP 503', gaveUpAfter: 12 });
    expect(shownDeliveryError(gaveUpText(DELIVERY_ERRORS.appRefused, 3))).toEqual({ name: 'appRefused', text: DELIVERY_ERRORS.appRefused, gaveUpAfter: 3 });
    expect(shownDeliveryError(gaveUpText(undefined, 1))).toEqual({ name: 'notDelivered', text: 'not delivered', gaveUpAfter: 1 });
    expect(shownDeliveryError('fetch failed: ECONNREFUSED')).toEqual({ text: 'fetch failed: ECONNREFUSED' });
    expect(shownDeliveryError(undefined)).toBeUndefined();
  });
});
