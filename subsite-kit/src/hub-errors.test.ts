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

describe('hubRequestError with a TLS misconfiguration (a review: https against an http hub showed "temporarily unavailable" and was retried every 30 s for good)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('plain http'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('https against a hub that speaks plain http is a configuration problem (502), named, not an outage (503)', async () => {
    let error: unknown;
    try {
      await fetch(`https://127.0.0.1:${port}/.well-known/openid-configuration`);
    } catch (caught) {
      error = caught;
    }
    const refused = hubRequestError('discovery', `https://127.0.0.1:${port}/.well-known/openid-configuration`, error, 1000);
    expect(refused.status).toBe(502);
    expect(refused.logMessage).toContain('TLS handshake failed (https against an http hub?)');
  });

  it('a hub that is down is still an outage (503)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let error: unknown;
    try {
      await fetch(gone);
    } catch (caught) {
      error = caught;
    }
    const refused = hubRequestError('discovery', gone, error, 1000);
    expect(refused.status).toBe(503);
    expect(refused.logMessage).toContain('ECONNREFUSED');
  });
});
