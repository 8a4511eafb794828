/**
 * Issue 12, "Health and metrics": `/metrics` in the Prometheus format (prom-client), protected
 * by a token on the hub's port or by the bind address of its own listener; one structured
 * JSON log line per request with a request id that the request's audit entries carry.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubMetrics } from '../src/metrics/hub-metrics.js';
import { metricsHandler } from '../src/metrics/metrics-routes.js';
import { captureLogger } from '../src/testing/capture-logger.js';
import { MemoryStore } from '../src/store/memory.js';
import { TestBrowser } from '../src/testing/browser.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const TOKEN = 'metrics-token-0123456789abcdefghijklmnop';
const REDIRECT = 'https://rp.example.test/cb';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(hub: RunningHub): Promise<string> {
  const response = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe('/metrics on the hub port', () => {
  let hub: RunningHub;
  afterEach(async () => {
    await hub.close();
  });

  test('is a 404 when no METRICS_TOKEN is set, 401 with a wrong token, 200 with the right one', async () => {
    hub = await startTestHub('memory');
    // An outside review: a bare text/plain 404 without the hub's security headers. Now the hub's 404 page.
    const off = await fetch(`${hub.url}/metrics`);
    expect(off.status).toBe(404);
    expect(off.headers.get('content-type')).toMatch(/^text\/html/);
    expect(off.headers.get('x-frame-options')).toBe('DENY');
    expect(off.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    await hub.close();
    hub = await startTestHub('memory', { METRICS_TOKEN: TOKEN });
    const none = await fetch(`${hub.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    for (const header of ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy']) expect(none.headers.get(header)).toBeTruthy();
    expect((await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    await scrape(hub);
  });

  test('counts requests by route and status, sign-ins by outcome, tokens by grant type, silent checks, store commands, the queue', async () => {
    hub = await startTestHub('redis', { METRICS_TOKEN: TOKEN });
    await hub.services.users.create({ username: 'mia', email: 'mia@example.test', password: 'mia-password-123' });
    const { clientSecret } = await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: [REDIRECT], trusted: true, grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    // One failed sign-in, one that succeeds (through a full authorization), one silent check.
    const browser = new TestBrowser();
    await expect(walk(new TestBrowser(), hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), { login: 'mia', password: 'wrong-password-1' })).rejects.toThrow();
    await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), { login: 'mia', password: 'mia-password-123' });
    await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
    const token = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('rp', clientSecret!) });
    expect(token.status).toBe(200);
    await hub.services.deliveries.enqueue({ kind: 'userdelete', clientId: 'rp', sub: 'u', url: 'http://127.0.0.1:9/sso/userdelete' });
    await hub.services.audit.flush();

    const text = await scrape(hub);
    expect(sample(text, 'sso_sign_ins_total', { outcome: 'succeeded' })).toBe(1);
    expect(sample(text, 'sso_sign_ins_total', { outcome: 'failed' })).toBe(1);
    expect(sample(text, 'sso_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
    expect(sample(text, 'sso_tokens_issued_total', { grant_type: 'authorization_code' })).toBeUndefined(); // no code was exchanged
    expect(sample(text, 'sso_lazy_verifications_total', { outcome: 'code' })).toBe(1);
    expect(sample(text, 'sso_http_requests_total', { route: '/token', method: 'POST', status: '200' })).toBe(1);
    expect(sample(text, 'sso_http_request_duration_seconds_count', { route: '/token', method: 'POST', status: '200' })).toBe(1);
    expect(sample(text, 'sso_http_requests_total', { route: '/auth', method: 'GET' })).toBeGreaterThan(0);
    expect(sample(text, 'sso_sync_beacons_planned_total', { act: 'login' })).toBe(0);
    expect(sample(text, 'sso_store_command_duration_seconds_count', { command: 'get' })).toBeGreaterThan(0);
    expect(sample(text, 'sso_delivery_queue_depth')).toBe(1);
    expect(sample(text, 'sso_delivery_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
    // Labels are route names, never raw paths, ids or codes.
    expect(text).not.toMatch(/route="\/interaction\/[^"]+"|code=|mia-password/);
  });
});

test('one JSON log line per request with a request id that its audit entries carry; no secrets in the line', async () => {
  const { lines, logger } = captureLogger();
  const store = new MemoryStore();
  const hub = await startTestHub('memory', {}, store, logger);
  const { url } = hub;
  try {
    await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: [REDIRECT], trusted: true });
    // A failed sign-in: audited with the request's id.
    await expect(walk(new TestBrowser(), url, authUrl(url, codeRequest('rp', REDIRECT).params), { login: 'nobody', password: 'secret-password-9' })).rejects.toThrow();
    const offered = 'proxy-request-0001';
    const probe = await fetch(`${url}/login?next=/account&code=should-not-be-logged`, { headers: { 'x-request-id': offered }, redirect: 'manual' });
    expect(probe.headers.get('x-request-id')).toBe(offered);
    await hub.services.audit.flush();

    const requests = lines.filter((line) => line.message === 'request');
    expect(requests.length).toBeGreaterThan(2);
    for (const { fields } of requests) {
      expect(Object.keys(fields).sort()).toEqual(['method', 'ms', 'requestId', 'route', 'status']);
    }
    expect(requests.some(({ fields }) => fields.requestId === offered && fields.route === '/login')).toBe(true);
    const [failure] = await hub.services.audit.search({ event: 'login.failure' });
    expect(failure?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = requests.find(({ fields }) => fields.requestId === failure!.requestId);
    expect(logged?.fields).toMatchObject({ method: 'POST', route: '/interaction' });
    expect(JSON.stringify(lines)).not.toMatch(/secret-password-9|should-not-be-logged/);
  } finally {
    await hub.close();
    await store.close();
  }
});

test('protocol requests (no context of the hub\'s own) still give their audit entries the request id', async () => {
  const hub = await startTestHub('memory');
  try {
    const { clientSecret } = await hub.services.clients.register({ clientId: 'svc', name: 'Service', grantTypes: ['client_credentials'] });
    const auth = basic('svc', clientSecret!);
    const issued = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: auth, 'x-request-id': 'proxy-token-0001' });
    expect(issued.status).toBe(200);
    // The revocation is audited after oidc-provider's route has finished (an after-hook).
    const revoked = await postForm(`${hub.url}/token/revocation`, { token: issued.body.access_token as string }, { authorization: auth, 'x-request-id': 'proxy-revoke-0001' });
    expect(revoked.status).toBe(200);
    // A request without an id of its own gets a fresh one, and its entry carries it.
    const again = await fetch(`${hub.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: 'grant_type=client_credentials' });
    expect(again.status).toBe(200);
    const fresh = again.headers.get('x-request-id');
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    await hub.services.audit.flush();
    const tokens = (await hub.services.audit.search({ event: 'token.issued' })).map((entry) => entry.requestId);
    expect(tokens.sort()).toEqual([fresh, 'proxy-token-0001'].sort());
    expect((await hub.services.audit.search({ event: 'token.revoked' }))[0]?.requestId).toBe('proxy-revoke-0001');
  } finally {
    await hub.close();
  }
});

test('docs/grafana-dashboard.json graphs only metrics the hub exports', async () => {
  const { readFileSync } = await import('node:fs');
  const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const hub = await startTestHub('memory', { METRICS_TOKEN: TOKEN });
  try {
    hub.services.metrics.collectProcessMetrics();
    const exported = new Set([...(await scrape(hub)).matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(sso_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  } finally {
    await hub.close();
  }
});

test('the store down at a protocol endpoint: one "store unavailable" line (as the portal logs it), not a stack trace per request', async () => {
  // An operator review saw every /token and /me request during a Redis outage log
  // `oidc server_error` with the StoreUnavailableError's whole stack at error level.
  const { lines, logger } = captureLogger();
  const inner = new MemoryStore();
  const { store, plan } = faultyStore(inner, { reads: true });
  const hub = await startTestHub('memory', {}, store, logger);
  const { url } = hub;
  try {
    const { clientSecret } = await hub.services.clients.register({ clientId: 'svc', name: 'Service', grantTypes: ['client_credentials'] });
    plan(() => 'fail');
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the client cache: the store is asked
    const answer = await postForm(`${url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', clientSecret!) });
    expect(answer.status).toBe(503);
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors.map((line) => line.message)).toContain('store unavailable');
    expect(errors.filter((line) => line.message === 'oidc server_error')).toEqual([]);
    expect(JSON.stringify(errors)).not.toMatch(/\bat [\w.<>]+ \(/); // no stack frame
  } finally {
    plan(undefined);
    await hub.close();
    await inner.close();
  }
});

test('the metrics listener (METRICS_PORT) answers GET /metrics only; any other path is a 404 that says where they are', async () => {
  // Before, it served the metrics on any path (/healthz on the metrics port returned them).
  const server = createServer(metricsHandler(new HubMetrics(), undefined, { open: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const scraped = await fetch(`${url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('sso_http_requests_total');
    for (const [path, method] of [['/healthz', 'GET'], ['/', 'GET'], ['/metrics', 'POST']] as const) {
      const other = await fetch(`${url}${path}`, { method });
      expect({ path, method, status: other.status }).toEqual({ path, method, status: 404 });
      expect(await other.text()).toMatch(/GET \/metrics/);
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
