/**
 * The console says why a subsite refused a notice when the subsite said so: the RFC 6749 style
 * `error` and `error_description` of its JSON answer go into the item's `lastError` (printable
 * ASCII, bounded, a token echoed back replaced). Before, a kit whose clock was off answered 503
 * "token rejected: iat in the future: are the hub's and this server's clocks in sync?" for days
 * of retries, and the console showed only `HTTP 503` (a delivery review).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerReason } from '../src/delivery/answer-reason.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const FAST = { DELIVERY_BACKOFF_BASE_MS: '20', DELIVERY_BACKOFF_MAX_MS: '60', DELIVERY_POLL_MS: '10', DELIVERY_TIMEOUT_MS: '2000' };

let hub: RunningHub | undefined;
let server: Server | undefined;
afterEach(async () => {
  await hub?.deliveryWorker.stop();
  await hub?.close();
  hub = undefined;
  server?.closeAllConnections();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

async function subsiteAnswering(status: number, body: (authorization: string) => unknown): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '0' }).end(JSON.stringify(body(req.headers.authorization ?? ''))));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function lastErrorOf(url: string): Promise<string | undefined> {
  hub = await startTestHub('memory', FAST);
  await hub.services.clients.register({ clientId: 'bbs', redirectUris: [`${url}/sso/callback`], userdeleteUrl: `${url}/sso/userdelete` });
  const item = await hub.services.deliveries.enqueue({ kind: 'userdelete', clientId: 'bbs', sub: 'user-1', reason: 'disabled', url: `${url}/sso/userdelete` });
  hub.deliveryWorker.start();
  const until = Date.now() + 8_000;
  for (;;) {
    const seen = await hub.services.deliveries.get(item.id);
    if ((seen?.attempts ?? 0) >= 1 && seen?.lastError) return seen.lastError;
    if (Date.now() > until) throw new Error('no attempt recorded');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("a kit whose clock is off: the console's reason is the kit's own, not a bare HTTP 503", async () => {
  const url = await subsiteAnswering(503, () => ({
    error: 'temporarily_unavailable',
    error_description: "userdelete notice refused for now: token rejected: iat in the future: are the hub's and this server's clocks in sync?",
  }));
  expect(await lastErrorOf(url)).toBe(
    "HTTP 503 (temporarily_unavailable: userdelete notice refused for now: token rejected: iat in the future: are the hub's and this server's clocks in sync?)",
  );
});

test('a token the subsite echoes back is never stored', async () => {
  const url = await subsiteAnswering(401, (authorization) => ({ error: 'invalid_token', error_description: `bad token ${authorization}` }));
  const stored = await lastErrorOf(url);
  expect(stored).toBe('HTTP 401 (invalid_token: bad token Bearer [token])');
});

test('what a subsite says is bounded and printable; a body that is not an RFC 6749 error adds nothing', () => {
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).buffer as ArrayBuffer;
  const long = answerReason('application/json', json({ error: 'server_error', error_description: 'x '.repeat(500) }))!;
  expect(long.length).toBeLessThanOrEqual(200);
  expect(answerReason('application/json', json({ error: 'server_error', error_description: 'line\r\nbreak\u0007' }))).toBe('server_error: line break');
  expect(answerReason('application/json', json({}))).toBeUndefined();
  expect(answerReason('application/json', json({ error: 'a"b' }))).toBeUndefined();
  expect(answerReason('text/html', json({ error: 'server_error' }))).toBeUndefined();
  expect(answerReason('application/json', new TextEncoder().encode('not json').buffer as ArrayBuffer)).toBeUndefined();
  expect(answerReason('application/json', json({ error: 'server_error', error_description: 'k'.repeat(5_000) }))).toBeUndefined();
});
