/**
 * Client secrets an operator chooses (a seed file's `clientSecret`): RFC 6749 Appendix A.2
 * allows printable ASCII only (VSCHAR, %x20-7E), and oidc-provider refuses any other client
 * secret as invalid client metadata. Before, the registry took any secret of 32 characters, and
 * a seeded client with an accented letter in its secret was "created" but dead: every
 * authorization request an error page and every token, introspection and revocation request
 * `invalid_client_metadata` (an outside review with openid-client). A secret with characters
 * RFC 6749 §2.3.1 has the client form-urlencode in its Basic header stays allowed, and works
 * for a client that encodes it.
 */
import { ValidationError } from '../src/errors.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const REDIRECT = 'http://rp.test/cb';

function basic(id: string, secret: string, encode = true): string {
  const part = (value: string) => (encode ? encodeURIComponent(value).replace(/%20/g, '+') : value);
  return `Basic ${Buffer.from(`${part(id)}:${part(secret)}`).toString('base64')}`;
}

describe('client secrets an operator chooses (memory store)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  });
  afterAll(() => hub.close());

  async function introspect(headers: Record<string, string>, body: Record<string, string> = {}) {
    const response = await fetch(`${hub.url}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: 'not-a-token', ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  test.each([
    ['an accented letter', 'pässwörd-of-more-than-32-characters-xyz'],
    ['a CJK character', '密码-a-client-secret-of-more-than-32-characters'],
    ['a tab', 'tab\there-and-more-than-32-characters-long-xyz'],
    ['a line break', 'line\nbreak-and-more-than-32-characters-long-xyz'],
  ])('a secret with %s is refused at registration, saying what is allowed', async (_what, clientSecret) => {
    const attempt = hub.services.clients.upsert({ clientId: 'rp-bad', redirectUris: [REDIRECT], clientSecret });
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(/printable ASCII/);
    expect(await hub.services.clients.findUncached('rp-bad')).toBeUndefined();
  });

  test('a printable-ASCII secret with characters Basic needs encoded is kept, and authenticates when form-urlencoded (RFC 6749 §2.3.1)', async () => {
    const secret = "a+b/c:d%e&f=g h~!'()*;@$,?#[]x-0123456789abcdef";
    await hub.services.clients.upsert({ clientId: 'rp-reserved', redirectUris: [REDIRECT], clientSecret: secret });
    expect(await introspect({ authorization: basic('rp-reserved', secret) })).toEqual({ status: 200, body: { active: false } });
    // client_secret_post: the form body encodes it anyway.
    expect(await introspect({}, { client_id: 'rp-reserved', client_secret: secret })).toEqual({ status: 200, body: { active: false } });
    // A client that puts the secret in the header as it is: refused, as the README says.
    expect((await introspect({ authorization: basic('rp-reserved', secret, false) })).status).toBe(400);
  });
});
