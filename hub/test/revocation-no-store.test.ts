/**
 * Every answer of the revocation endpoint is `Cache-Control: no-store`, as the token and
 * introspection endpoints' are (DESIGN: no-store on token responses): oidc-provider sets it on
 * those two but not on revocation, whose 200, 400 and 401 answers went out with no
 * Cache-Control at all (a third-party client review, comparing the endpoints' answers).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

describe('revocation answers are not cached', () => {
  let hub: RunningHub;
  let secret: string;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    const client = await hub.services.clients.register({ clientId: 'rev', name: 'Rev', redirectUris: ['https://rev.test/cb'], grantTypes: ['authorization_code', 'client_credentials'] });
    secret = client.clientSecret!;
  });
  afterAll(() => hub.close());

  test('a revocation (200), a missing token (400) and no client authentication (401): no-store', async () => {
    const token = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('rev', secret) });
    expect(token.status).toBe(200);
    const answers = [
      await postForm(`${hub.url}/token/revocation`, { token: String(token.body.access_token) }, { authorization: basic('rev', secret) }),
      await postForm(`${hub.url}/token/revocation`, {}, { authorization: basic('rev', secret) }),
      await postForm(`${hub.url}/token/revocation`, { token: 'x' }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 400, 401]);
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answers[0]!.body).toEqual({});
  });
});
