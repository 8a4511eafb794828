import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Wreck from '@hapi/wreck';
import { hubRequestError } from './hub-errors.js';

/**
 * What the kit says of a token request that failed, with the errors simple-oauth2's HTTP client
 * (wreck) really throws: an outside review found a hub that never answered logged as "the hub
 * answered 504", which sent the operator looking for a 504 in the hub's logs or at a gateway.
 */
describe('hubRequestError with wreck\'s own errors', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // accepts, never answers
      res.writeHead(504, { 'content-type': 'text/plain' }).end('gateway timeout at the proxy');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** What wreck throws for a POST to `path` (simple-oauth2's token request is one). */
  async function thrown(path: string, timeout: number): Promise<unknown> {
    try {
      await Wreck.post(`${url}${path}`, { timeout });
    } catch (error) {
      return error;
    }
    throw new Error('expected wreck to throw');
  }

  it('the kit\'s own deadline (the hub sent nothing) is a timeout, not an answer', async () => {
    const refused = hubRequestError('token request', `${url}/token`, await thrown('/hang', 100), 100);
    expect(refused.status).toBe(503);
    expect(refused.logMessage).toContain('failed: timed out after 100 ms (the hub sent no answer)');
    expect(refused.logMessage).not.toContain('answered');
  });

  it('a 504 the hub (or a proxy before it) did send is still said as an answer', async () => {
    const refused = hubRequestError('token request', `${url}/token`, await thrown('/answered', 1000), 1000);
    expect(refused.status).toBe(503);
    expect(refused.logMessage).toContain('failed: the hub answered 504');
  });
});
