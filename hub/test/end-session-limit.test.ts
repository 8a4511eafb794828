/**
 * An anonymous `GET /session/end` makes oidc-provider store a session (for the confirmation
 * form's xsrf token) that lives as long as any hub session: unbounded, a flood from one
 * address filled the store (found by a review). It now counts against the same per-address
 * limit as the sign-in pages (SIGNIN_STARTS_PER_IP).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('sign-out pages count against the per-address limit of pages that write a record', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', { SIGNIN_STARTS_PER_IP: '5' });
  });
  afterAll(() => hub.close());

  test('the sixth anonymous GET /session/end from one address within the window is 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i += 1) {
      const page = await fetch(`${hub.url}/session/end`);
      expect(page.status).toBe(200);
      await page.text();
    }
    const refused = await fetch(`${hub.url}/session/end`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).not.toMatch(/<form[^>]*session\/end\/confirm/);
    const json = await fetch(`${hub.url}/SESSION/END`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(429);
    expect(await json.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
