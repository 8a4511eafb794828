/**
 * A Discuz! forum whose `config/config_ucenter.php` (or another file its api/uc.php includes)
 * was saved "UTF-8 with BOM" prints the three bytes EF BB BF before every answer: it answers a
 * note `\xEF\xBB\xBF1` after doing what the note asked. The delivery worker read that as a
 * refusal ("the application did not answer 1") and sent the note again and again: an `updatepw`
 * gave the member a new random forum password at every try, signing them out of the forum each
 * time, while `ucenter apps test` said OK. Found with Discuz! X3.5's own api/uc.php (run by
 * php -S) behind a config file with a BOM. The marks are now dropped before the answer is judged,
 * and the test note's detail names them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { authcodeDecode } from '../src/ucenter/authcode.js';
import { checkUcenterApp } from '../src/ucenter/note-check.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
let hub: RunningHub;
let handler: Server;
let forum: UcenterApp;
const received: Record<string, string>[] = [];
let marks = 1;

beforeAll(async () => {
  handler = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const plain = authcodeDecode(url.searchParams.get('code') ?? '', forum.key);
    req.resume();
    if (!plain) return void res.end(Buffer.concat([BOM, Buffer.from('Authracation has expiried')]));
    received.push(Object.fromEntries(new URLSearchParams(plain)));
    res.end(Buffer.concat([...Array.from({ length: marks }, () => BOM), Buffer.from('1')]));
  });
  await new Promise<void>((resolve) => handler.listen(0, '127.0.0.1', resolve));
  hub = await startTestHub('memory', { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
  forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: `http://127.0.0.1:${(handler.address() as AddressInfo).port}`, updatepw: true });
});
afterAll(async () => {
  await hub.close();
  handler.closeAllConnections();
  await new Promise((resolve) => handler.close(resolve));
});

it('a note answered 1 after byte-order marks is delivered once, not sent again', async () => {
  await hub.deliveryWorker.runOnce(); // the application list (updateapps)
  const user = await hub.services.users.create({ username: 'alice', email: 'alice@example.com', password: 'wonderland-123' });
  marks = 2;
  await hub.services.users.setPassword(user.id, 'looking-glass-456');
  await hub.deliveryWorker.runOnce();
  await hub.deliveryWorker.runOnce();
  const updatepw = (await hub.services.deliveries.list('delivered')).filter((item) => item.kind === 'ucenter-updatepw');
  expect(updatepw).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1 })]);
  expect((await hub.services.deliveries.list('pending')).filter((item) => item.clientId === `ucenter:${forum.appId}`)).toEqual([]);
  expect(received.filter((note) => note.action === 'updatepw')).toHaveLength(1);
});

it("the test note says OK and names the byte-order marks; a wrong key is still told apart", async () => {
  marks = 1;
  const check = await checkUcenterApp(forum, 5_000);
  expect(check).toMatchObject({ status: 'ok', reason: 'noteOk' });
  expect(check.detail).toContain('byte-order mark');
  expect(await checkUcenterApp({ ...forum, key: 'another key' }, 5_000)).toMatchObject({ status: 'wrong_key' });
});
