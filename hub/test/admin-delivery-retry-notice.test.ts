/**
 * The console's notice after a retry press says what happened (a delivery review): a press that
 * made nothing due said "The subsite's notices are queued for delivery now."; "Retry now" on an
 * item delivered meanwhile (the list was opened before the worker got to it) or gone since (its
 * retention ran out) said "That item is being delivered right now", and sent the admin to a list
 * without it. In both languages.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import type { TestBrowser } from '../src/testing/browser.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

let hub: RunningHub;
let admin: TestBrowser;
beforeAll(async () => {
  hub = await startTestHub('memory');
  await hub.services.clients.register({ clientId: 'bbs', name: 'Forum', redirectUris: ['http://127.0.0.1:9/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
  admin = await signedInAdmin(hub);
});
afterAll(() => hub.close());

/** Presses a console button and reads the notice on the page it lands on. */
async function press(path: string, fields: Record<string, string>, language = 'en'): Promise<string> {
  const { csrf } = await pageWithCsrf(admin, `${hub.url}/admin/users`);
  const answer = await admin.post(`${hub.url}${path}`, { _csrf: csrf, ...fields });
  if (answer.status !== 303) throw new Error(`answered ${answer.status}: ${(await answer.text()).replace(/\s+/g, " ").slice(-1500)}`);
  const landed = await admin.get(`${hub.url}${answer.headers.get('location')!}`, { 'accept-language': language });
  const html = await landed.text();
  return /data-testid="admin-notice">([^<]*)</.exec(html)?.[1]?.trim() ?? '(no notice)';
}

test('a subsite press that made nothing due says so, not "queued"', async () => {
  const said = await press('/admin/deliveries/retry-subsite', { client: 'bbs', status: 'failed' });
  expect(said).toContain('Nothing to retry');
  expect(said).not.toContain('queued for delivery now');
  expect(await press('/admin/deliveries/retry-subsite', { client: 'bbs', status: 'failed' }, 'zh-CN')).toContain('没有需要重试的通知');
});

test('"Retry now" on an item delivered meanwhile says it was delivered', async () => {
  const { deliveries } = hub.services;
  const item = await deliveries.enqueue({ kind: 'userdelete', clientId: 'bbs', sub: 'user-1', url: 'http://127.0.0.1:9/sso/userdelete' });
  const [claim] = await deliveries.claimDue(1);
  await deliveries.delivered(claim!, { attempts: 1, lastStatus: 200 });
  const said = await press(`/admin/deliveries/${item.id}/retry`, {});
  expect(said).toContain('already delivered');
  expect(said).not.toContain('being delivered right now');
  expect(await press(`/admin/deliveries/${item.id}/retry`, {}, 'zh-CN')).toContain('已投递');
});

test('"Retry now" on an item that is gone says it is gone', async () => {
  const said = await press('/admin/deliveries/no-such-item/retry', {});
  expect(said).toContain('no longer in the queue');
  expect(await press('/admin/deliveries/no-such-item/retry', {}, 'zh-CN')).toContain('已不在队列中');
});

test('a press that did make items due still says so', async () => {
  const { deliveries } = hub.services;
  await deliveries.enqueue({ kind: 'userdelete', clientId: 'bbs', sub: 'user-2', url: 'http://127.0.0.1:9/sso/userdelete' });
  expect(await press('/admin/deliveries/retry-subsite', { client: 'bbs', status: 'pending' })).toContain('queued for delivery now');
});
