/**
 * A `resource` parameter (RFC 8707): the hub serves no resource server, so it is refused with
 * invalid_target, on the front channel (back to the client) and at /token. oidc-provider's
 * default refusal also printed "oidc-provider WARNING: default
 * features.resourceIndicators.getResourceServerInfo function called, you MUST change it" to
 * stderr, outside the JSON log, at the first one anyone sent: an operator read a
 * misconfiguration into a stranger's request (a bad-input sweep found it).
 */
import { jest } from '@jest/globals';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('a resource indicator', () => {
  let hub: RunningHub;
  const warnings: string[] = [];
  const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({ clientId: 'rs-site', name: 'RS site', redirectUris: ['http://rs-site.test/sso/callback'] });
  });
  afterAll(async () => {
    warn.mockRestore();
    await hub.close();
  });

  test('at /auth: invalid_target back to the client, nothing on stderr', async () => {
    warnings.length = 0;
    const query = new URLSearchParams({ client_id: 'rs-site', response_type: 'code', scope: 'openid', redirect_uri: 'http://rs-site.test/sso/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's', resource: 'https://api.example.com/' });
    const response = await fetch(`${hub.url}/auth?${query}`, { redirect: 'manual' });
    await response.arrayBuffer();
    const location = new URL(response.headers.get('location') ?? '', hub.url);
    expect(location.origin + location.pathname).toBe('http://rs-site.test/sso/callback');
    expect(location.searchParams.get('error')).toBe('invalid_target');
    expect(warnings.filter((line) => line.includes('oidc-provider'))).toEqual([]);
  });
});
