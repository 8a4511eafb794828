/**
 * A delivery review's scenario, in one process: seven subsites that misbehave each their own way
 * (500 twice, slower than DELIVERY_TIMEOUT_MS twice, down then up, 200 with an HTML page once, a
 * clock that is off (503 with the kit's reason) for a while, 404 while deploying, healthy), and
 * users disabled, enabled, disabled again, deleted and re-created under the same name in quick
 * succession. Every subsite ends up with every event answered 2xx, each event (its `id`) the
 * one it was queued as, a re-created account's notices under its own `sub`, the queue empty, and
 * no token in the hub's log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { captureLogger } from '../src/testing/capture-logger.js';

const FAST = { DELIVERY_BACKOFF_BASE_MS: '30', DELIVERY_BACKOFF_MAX_MS: '200', DELIVERY_POLL_MS: '10', DELIVERY_TIMEOUT_MS: '600' };

interface Event { sub: string; reason: string; id: string; status: number }
type Behaviour = (n: number) => { status: number; delayMs?: number; html?: boolean; body?: unknown };

const servers: Server[] = [];
let hub: RunningHub | undefined;
afterAll(async () => {
  await hub?.deliveryWorker.stop();
  await hub?.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function subsite(behaviour: Behaviour, listenLaterMs = 0) {
  const events: Event[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}') as { sub: string; events?: Record<string, { reason: string; id: string }> };
      const event = payload.events?.['urn:sso-hub:event:userdelete'];
      n += 1;
      const answer = behaviour(n);
      setTimeout(() => {
        events.push({ sub: payload.sub, reason: event?.reason ?? '?', id: event?.id ?? '?', status: answer.status });
        if (answer.html) res.writeHead(answer.status, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Forum</body></html>');
        else res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body ?? {}));
      }, answer.delayMs ?? 0).unref();
    });
  });
  servers.push(server);
  // Port first (so it can be registered), listening later for a subsite that is down at first.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  if (listenLaterMs) setTimeout(() => void listen(), listenLaterMs).unref();
  else await listen();
  return { url: `http://127.0.0.1:${port}`, events };
}

test('twenty-odd events to seven flaky subsites: each delivered, none lost, none to the wrong account', async () => {
  const clockStart = Date.now();
  const sites = {
    healthy: await subsite(() => ({ status: 200 })),
    errors: await subsite((n) => ({ status: n <= 2 ? 500 : 200 })),
    slow: await subsite((n) => ({ status: 200, delayMs: n <= 2 ? 1_500 : 0 })),
    downThenUp: await subsite(() => ({ status: 200 }), 1_500),
    htmlOnce: await subsite((n) => ({ status: 200, html: n === 1 })),
    wrongClock: await subsite(() => (Date.now() - clockStart < 2_000
      ? { status: 503, body: { error: 'temporarily_unavailable', error_description: "userdelete notice refused for now: token rejected: iat in the future: are the hub's and this server's clocks in sync?" } }
      : { status: 200 })),
    deploying: await subsite((n) => ({ status: n <= 3 ? 404 : 200 })),
  };
  const { lines, logger } = captureLogger();
  hub = await startTestHub('memory', FAST, undefined, logger);
  const { clients, users, lifecycle, deliveries } = hub.services;
  for (const [clientId, { url }] of Object.entries(sites)) {
    await clients.register({ clientId, redirectUris: [`${url}/sso/callback`], userdeleteUrl: `${url}/sso/userdelete` });
  }
  hub.deliveryWorker.start();

  const alice = await users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
  const bob = await users.create({ username: 'bob', email: 'bob@example.test', password: 'builder-12345' });
  await lifecycle.disable(alice.id, { actor: 'test' });
  await lifecycle.enable(alice.id, { actor: 'test' });
  await lifecycle.disable(alice.id, { actor: 'test' });
  await lifecycle.enable(alice.id, { actor: 'test' });
  await lifecycle.delete(bob.id, { actor: 'test' });
  const bob2 = await users.create({ username: 'bob', email: 'bob@example.test', password: 'builder-12345' });
  expect(bob2.id).not.toBe(bob.id);
  await lifecycle.disable(bob2.id, { actor: 'test' });

  const until = Date.now() + 30_000;
  for (;;) {
    const counts = await deliveries.counts();
    if (counts.pending === 0) break;
    if (Date.now() > until) throw new Error(`queue not drained: ${JSON.stringify(counts)}; ${JSON.stringify(await deliveries.list('pending'))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect((await deliveries.counts()).failed).toBe(0);

  for (const [name, site] of Object.entries(sites)) {
    // Every event the site was sent ended with a 2xx, and it is one the hub queued for that account.
    const byId = new Map<string, Event[]>();
    for (const event of site.events) byId.set(event.id, [...(byId.get(event.id) ?? []), event]);
    const accepted = [...byId.values()].map((attempts) => attempts.find((attempt) => attempt.status === 200));
    expect({ name, unanswered: accepted.filter((event) => !event).length }).toEqual({ name, unanswered: 0 });
    const summary = accepted.map((event) => `${event!.sub === alice.id ? 'alice' : event!.sub === bob.id ? 'bob' : event!.sub === bob2.id ? 'bob2' : event!.sub}:${event!.reason}`).sort();
    expect({ name, summary }).toEqual({ name, summary: ['alice:disabled', 'alice:disabled', 'bob2:disabled', 'bob:deleted'] });
    // Every attempt of one event carries the same sub and reason (a retry is the same notice).
    for (const attempts of byId.values()) expect(new Set(attempts.map((attempt) => `${attempt.sub}:${attempt.reason}`)).size).toBe(1);
  }
  const logged = JSON.stringify(lines);
  expect(logged).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
}, 60_000);
