import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { startTestHub, type RunningHub } from '../testing/test-hub.js';
import { ProtocolHooks } from './protocol-hooks.js';

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
});
