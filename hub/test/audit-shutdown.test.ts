/**
 * Stopping the hub writes the audit entries that were still waiting for company: the token
 * endpoint's entries linger (group commit) and the store is closed right after the stop
 * (main.ts), so an entry recorded by the last request must not be lost with it. Real Redis.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

describe('hub stop and the audit log (redis)', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test('a token issued just before the stop is in the audit log once the stop resolves', async () => {
    const client = await hub.services.clients.register({ clientId: 'svc', grantTypes: ['client_credentials'] });
    const answer = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', client.clientSecret!) });
    expect(answer.status).toBe(200);
    await hub.stop();
    // Read past the audit log's own reader, which would flush first.
    const stored = await hub.store.zRevRange(hub.services.keys.auditTokens(), 0, -1);
    const events = stored.map((raw) => JSON.parse(raw) as { event: string; client?: string });
    expect(events).toContainEqual(expect.objectContaining({ event: 'token.issued', client: 'svc' }));
  });
});
