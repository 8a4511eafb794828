import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { captureLogger } from '../testing/capture-logger.js';
import { startTestHub, type RunningHub } from '../testing/test-hub.js';
import { StoreUnavailableError } from '../store/store.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { connect } from 'node:net';

/** koa keeps a provider's middleware in `middleware`; the hub's additions should be one entry. */
const stackOf = (provider: Provider) => (provider as unknown as { middleware: unknown[] }).middleware.length;

describe('ProtocolHooks: the hub’s additions around oidc-provider as one middleware', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  });
  afterAll(() => hub.close());

  it('the hub adds one middleware to the engine, not one per addition (there were eight)', () => {
    expect(stackOf(hub.services.provider) - stackOf(new Provider('http://plain.test'))).toBe(1);
  });

  describe('order and routes, as separate koa middlewares would run them', () => {
    let server: Server;
    let url: string;
    const log: string[] = [];

    beforeAll(async () => {
      const provider = new Provider('http://hooks.test');
      const hooks = ProtocolHooks.of(provider);
      expect(ProtocolHooks.of(provider)).toBe(hooks);
      hooks.before(() => (log.push('before 1'), true));
      hooks.after(['discovery'], () => void log.push('after 1 (discovery)'));
      hooks.before((ctx) => {
        log.push('before 2');
        if (ctx.path !== '/stop') return true;
        ctx.status = 429;
        ctx.body = { error: 'stopped' };
        return false;
      });
      hooks.after(undefined, () => void log.push('after 2 (every route)'));
      hooks.after(['token'], () => void log.push('after 3 (token)'));
      server = createServer(provider.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('before hooks in the order added, after hooks innermost first and only for their routes', async () => {
      log.length = 0;
      expect((await fetch(`${url}/.well-known/openid-configuration`)).status).toBe(200);
      expect(log).toEqual(['before 1', 'before 2', 'after 2 (every route)', 'after 1 (discovery)']);
    });

    it('a before hook that answers stops the request there', async () => {
      log.length = 0;
      const answer = await fetch(`${url}/stop`);
      expect(answer.status).toBe(429);
      expect(await answer.json()).toEqual({ error: 'stopped' });
      expect(log).toEqual(['before 1', 'before 2']);
    });
  });

  describe('a hook that fails: an answer the client can read and one log line, not koa\'s bare 500 and a raw stack', () => {
    let failing: RunningHub;
    const capture = captureLogger();
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
    beforeAll(async () => {
      failing = await startTestHub('memory', {}, undefined, capture.logger);
      const hooks = ProtocolHooks.of(failing.services.provider);
      const failure = (ctx: { get(name: string): string }) => {
        const kind = ctx.get('x-fail');
        if (kind === 'bug') throw new TypeError('a hook\'s bug');
        if (kind === 'store') throw new StoreUnavailableError(new Error('connection lost'));
      };
      hooks.before((ctx) => (ctx.get('x-fail-at') === 'before' && failure(ctx), true));
      hooks.after(undefined, async (ctx) => { if (ctx.get('x-fail-at') === 'after') failure(ctx); });
    });
    afterEach(() => { capture.lines.length = 0; consoleError.mockClear(); });
    afterAll(async () => { consoleError.mockRestore(); await failing.close(); });

    const discovery = (headers: Record<string, string>) => fetch(`${failing.url}/.well-known/openid-configuration`, { headers });

    it.each(['before', 'after'])('a bug in a %s hook: RFC 6749 server_error JSON (500) for a client, logged once through the hub', async (at) => {
      const answer = await discovery({ 'x-fail-at': at, 'x-fail': 'bug', accept: 'application/json' });
      expect(answer.status).toBe(500);
      expect(await answer.json()).toEqual({ error: 'server_error', error_description: expect.any(String) });
      expect(capture.lines.filter((line) => line.message === 'protocol request failed')).toEqual([
        expect.objectContaining({ level: 'error', fields: expect.objectContaining({ errorName: 'TypeError' }) }),
      ]);
      expect(consoleError).not.toHaveBeenCalled();
    });

    it('a client that sends no Accept (or */*) at a program\'s endpoint gets JSON, not the page', async () => {
      for (const accept of [undefined, '*/*']) {
        const answer = await discovery({ 'x-fail-at': 'before', 'x-fail': 'bug', ...(accept ? { accept } : {}) });
        expect(answer.status).toBe(500);
        expect(await answer.json()).toEqual({ error: 'server_error', error_description: expect.any(String) });
        const down = await discovery({ 'x-fail-at': 'before', 'x-fail': 'store', ...(accept ? { accept } : {}) });
        expect(down.status).toBe(503);
        expect(await down.json()).toMatchObject({ error: 'temporarily_unavailable' });
      }
    });

    /** POSTs /token with a body cut short (headers `extra`), lets the hub start on it, hangs up, and waits for the request's log line. */
    async function cutShort(extra = ''): Promise<void> {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(failing.url).port), '127.0.0.1', () => {
          socket.write(`POST /token HTTP/1.1\r\nHost: x\r\n${extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=`);
          setTimeout(() => { socket.destroy(); resolve(); }, 100);
        });
        socket.on('error', reject);
      });
      for (const deadline = Date.now() + 5_000; !capture.lines.some((line) => line.message === 'request' && line.fields?.route === '/token'); ) {
        if (Date.now() > deadline) throw new Error('no request log line within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it('a client that closes the connection before its body is sent is its 499, not an error line with a stack (a review)', async () => {
      await cutShort();
      expect(capture.lines).toContainEqual(expect.objectContaining({ message: 'request', fields: expect.objectContaining({ route: '/token', status: 499 }) }));
      expect(capture.lines.filter((line) => line.level === 'error')).toEqual([]);
      expect(consoleError).not.toHaveBeenCalled();
    });

    it('a bug that fails such a request is still logged as one: only the connection\'s own error is the client\'s', async () => {
      await cutShort('x-fail-at: before\r\nx-fail: bug\r\n');
      expect(capture.lines.filter((line) => line.message === 'protocol request failed')).toEqual([
        expect.objectContaining({ level: 'error', fields: expect.objectContaining({ errorName: 'TypeError' }) }),
      ]);
    });

    it('a bug in a hook on a browser\'s request: the hub\'s error page', async () => {
      const answer = await fetch(`${failing.url}/auth?client_id=x`, { headers: { 'x-fail-at': 'before', 'x-fail': 'bug', accept: 'text/html' } });
      expect(answer.status).toBe(500);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await answer.text()).toContain('Something went wrong');
      expect(consoleError).not.toHaveBeenCalled();
    });

    it('the store down in a hook: the fail-closed 503 with Retry-After', async () => {
      const answer = await discovery({ 'x-fail-at': 'before', 'x-fail': 'store', accept: 'application/json' });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBeTruthy();
      expect(await answer.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(consoleError).not.toHaveBeenCalled();
    });
  });
});
