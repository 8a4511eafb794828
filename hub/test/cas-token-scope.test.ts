/**
 * Seed 001's `/oauth2.0/accessToken` answer always has `scope` (its table marks the field as
 * always present, and its example is `"scope":""`), so a CAS client may read it unconditionally
 * (org.json's `getString("scope")` throws on a missing key). The engine leaves `scope` out when
 * the token has none: a `client_credentials` request without a scope, or with scopes the hub does
 * not know. The CAS adapter now answers `"scope": ""` then; the standard `/token` is unchanged.
 * (A third-party client review: the code and password grants had `scope`, client_credentials not.)
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

describe('CAS-style accessToken answers always carry scope', () => {
  let hub: RunningHub;
  let secret: string;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    const client = await hub.services.clients.register({
      clientId: 'cas-cc',
      name: 'CAS service',
      redirectUris: ['https://cas-cc.test/cb'],
      grantTypes: ['client_credentials'],
      casCompat: true,
      requirePkce: false,
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    secret = client.clientSecret!;
  });
  afterAll(() => hub.close());

  test.each([
    ['no scope', {}],
    ['a scope the hub does not know', { scope: 'read write' }],
  ])('client_credentials with %s: 200, "scope": ""', async (_what, extra: Record<string, string>) => {
    const answer = await postForm(`${hub.url}/oauth2.0/accessToken`, { grant_type: 'client_credentials', client_id: 'cas-cc', client_secret: secret, ...extra });
    expect(answer.status).toBe(200);
    expect(typeof answer.body.access_token).toBe('string');
    expect(answer.body.scope).toBe('');
  });

  test('an error answer gets no scope', async () => {
    const answer = await postForm(`${hub.url}/oauth2.0/accessToken`, { grant_type: 'client_credentials', client_id: 'cas-cc', client_secret: 'wrong' });
    expect(answer.status).toBe(401);
    expect(answer.body).not.toHaveProperty('scope');
  });

  test('the standard token endpoint is unchanged: no scope when none was granted', async () => {
    const answer = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('cas-cc', secret) });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('scope');
  });
});
