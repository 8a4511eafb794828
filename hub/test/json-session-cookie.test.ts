/**
 * A portal session cookie sent as a `j:` JSON cookie (`hub_portal=j:1`, `j:{}`, `j:[1]`): the
 * locale middleware's cookie-parser made it a number or an object in `req.cookies`, and
 * express-session, which looks there when the Cookie header has no `s:` value, threw
 * "raw.substr is not a function": a 500 and an error line with a stack on every portal page for
 * that browser, until the cookie went (a sibling subdomain can set such a cookie; a bad-input
 * sweep found it). It is no session: the pages answer as they do without one.
 */
import { captureLogger } from '../src/testing/capture-logger.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('a j: JSON cookie under the portal session cookie name', () => {
  const { lines, logger } = captureLogger();
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', {}, undefined, logger);
  });
  afterAll(() => hub.close());

  /** The status and where it leads (a sign-in's random state left out). */
  const get = async (path: string, cookie?: string) => {
    const response = await fetch(new URL(path, hub.url), { redirect: 'manual', headers: cookie ? { cookie } : {} });
    await response.arrayBuffer();
    return { status: response.status, location: response.headers.get('location')?.replace(/state=[^&]*/, 'state=…') };
  };

  test.each([
    ['j%3A1', '/login'],
    ['j%3A%7B%22a%22%3A1%7D', '/login'],
    ['j%3A%5B1%5D', '/account'],
    ['j%3A%22s%3Ax%22', '/signup'],
    ['j%3Atrue', '/password/forgot'],
  ])('hub_portal=%s on GET %s: answered as without the cookie, no error logged', async (value, path) => {
    const plain = await get(path);
    lines.length = 0;
    const response = await get(path, `hub_portal=${value}`);
    expect(response).toEqual(plain);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
