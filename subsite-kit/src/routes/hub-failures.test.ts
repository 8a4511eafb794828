import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import request from 'supertest';
import { makeSite, HTML } from '../test-support/site.js';
import { startStubHub, type StubHub } from '../test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Clicks "Sign in" on a site built with `extra` and returns what the kit logged. */
async function signInLogs(extra: Parameters<typeof makeSite>[1]): Promise<{ status: number; logs: string[] }> {
  const logs: string[] = [];
  const { app, sso } = await makeSite(hub, { ...extra, logger: { warn: (line) => logs.push(line) } });
  app.use(sso.errorHandler);
  const res = await request(app).get('/sso/login?next=/forum').set(HTML);
  return { status: res.status, logs };
}

describe('logs name the cause: which hub URL failed and why', () => {
  it('refused connection → the discovery URL and ECONNREFUSED', async () => {
    const port = await closedPort();
    const { status, logs } = await signInLogs({ hubInternalUrl: `http://127.0.0.1:${port}` });
    expect(status).toBe(503);
    expect(logs.join('\n')).toContain(`hub discovery http://127.0.0.1:${port}/.well-known/openid-configuration failed: connection refused`);
    expect(logs.join('\n')).toContain('(ECONNREFUSED)');
  });

  it('missing hubInternalUrl (Node cannot resolve *.localhost) → ENOTFOUND and a hint to set hubInternalUrl', async () => {
    const { status, logs } = await signInLogs({ hubUrl: 'http://hub.sso.localhost:4999', hubInternalUrl: undefined });
    expect(status).toBe(503);
    expect(logs.join('\n')).toMatch(/http:\/\/hub\.sso\.localhost:4999\/\.well-known\/openid-configuration failed: host not found .*hubInternalUrl.*\(ENOTFOUND\)/);
  });

  it('a host name nobody resolves (not *.localhost) → ENOTFOUND naming that host, not the *.localhost hint', async () => {
    const { status, logs } = await signInLogs({ hubInternalUrl: 'http://hub.example.invalid:4999' });
    expect(status).toBe(503); // a name lookup may fail for a while (a container restarting): not refused for good
    const text = logs.join('\n');
    expect(text).toMatch(/hub discovery http:\/\/hub\.example\.invalid:4999\/\.well-known\/openid-configuration failed: (host not found: this server finds no address for "hub\.example\.invalid": is the host name in hubInternalUrl .* \(ENOTFOUND\)|host name lookup failed \(DNS\) for "hub\.example\.invalid" \(EAI_AGAIN\))/);
    expect(text).not.toContain('*.localhost');
  });

  it('hubUrl that is not the hub\'s issuer → reported on first contact with both values', async () => {
    const { status, logs } = await signInLogs({ hubUrl: 'http://not-the-issuer.test' });
    expect(status).toBe(502);
    expect(logs.join('\n')).toContain('the hub\'s issuer is "http://hub.test" but hubUrl is "http://not-the-issuer.test"');
    expect(logs.join('\n')).toContain('set hubUrl to the hub\'s issuer');
  });

  it('https against an http hub → a TLS failure, not "TypeError"', async () => {
    const { status, logs } = await signInLogs({ hubInternalUrl: hub.url.replace('http:', 'https:') });
    expect(status).toBe(502); // a configuration problem, not "try again in a moment": it never clears by itself
    expect(logs.join('\n')).toMatch(/TLS handshake failed \(https against an http hub\?\) \((EPROTO|ERR_SSL_\w+)\)/);
  });

  it('no log line is just "temporarily_unavailable: TypeError"', async () => {
    const port = await closedPort();
    const { logs } = await signInLogs({ hubInternalUrl: `http://127.0.0.1:${port}` });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.some((line) => /: (TypeError|object)$/.test(line))).toBe(false);
  });
});

describe('wrong client secret: one hub round trip, then an error page (no loop)', () => {
  it('requireLogin → login → hub → callback: 502 page naming invalid_client; the protected page is not retried', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { clientSecret: 'not-the-secret', logger: { warn: (line) => logs.push(line) } });
    const agent = request.agent(app);
    hub.resetCounts();
    const guarded = await agent.get('/private').set(HTML);
    const login = await agent.get(guarded.headers.location!).set(HTML);
    const hubUrl = new URL(login.headers.location!);
    const back = await fetch(`${hub.url}${hubUrl.pathname}${hubUrl.search}`, { redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    const res = await agent.get(`${callback.pathname}${callback.search}`).set(HTML);
    expect(res.status).toBe(502);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('invalid_client');
    expect(hub.counts['/auth']).toBe(1);
    expect(hub.counts['/token']).toBe(1);
    expect(logs.join('\n')).toMatch(/token request http:\/\/127\.0\.0\.1:\d+\/token failed: the hub answered 401 invalid_client.*check clientId and clientSecret/);
  });
});
