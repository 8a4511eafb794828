/**
 * The error handler's 503 page when the store fails: express-session saves a changed session
 * when the answer ends, and with the store down that save fails too. express-session then hands
 * the failure to the `next` of its own router after the page had started to go out: the process
 * printed a raw stack trace (Express's final handler, seen in a Sentinel failover run) and the
 * connection could be cut under the page. A 5xx page saves no session.
 */
import { jest } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../logger.js';
import { StoreUnavailableError } from '../store/store.js';
import { Views } from '../views/views.js';
import { errorHandler } from './error-handler.js';

/** A session store whose writes fail as a stalled Redis's do. */
class FailingStore extends session.Store {
  get(_sid: string, callback: (error: unknown, data?: session.SessionData | null) => void): void {
    callback(null, null);
  }
  set(_sid: string, _data: session.SessionData, callback?: (error?: unknown) => void): void {
    setImmediate(() => callback?.(new StoreUnavailableError(new Error('redis session call timed out'))));
  }
  destroy(_sid: string, callback?: (error?: unknown) => void): void {
    callback?.();
  }
}

let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.set('env', 'production'); // Express's final handler prints errors outside the test env
  // As hub/src/app.ts mounts it: the portal's session inside a router of its own.
  const portal = express.Router();
  portal.use(session({ secret: 'test-secret-test-secret-test-secret', resave: false, saveUninitialized: false, store: new FailingStore() }));
  portal.get('/page', (req, _res, next) => {
    (req.session as unknown as Record<string, unknown>).touched = true; // a page that changed the session
    next(new StoreUnavailableError(new Error('redis command timed out')));
  });
  app.use(portal);
  app.use(errorHandler(new Views({ issuer: 'http://hub.test' }), createLogger('silent')));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('a 503 page after a store failure goes out whole, with Retry-After, and nothing is printed past the logger', async () => {
  const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(`${url}/page`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
      expect(await response.text()).toMatch(/<\/html>\s*$/);
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // a deferred next(error) would run by now
    expect(printed).not.toHaveBeenCalled();
  } finally {
    printed.mockRestore();
  }
});
