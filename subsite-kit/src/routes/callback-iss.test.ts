import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, HTML } from '../test-support/site.js';
import { browserAtHub, startStubHub, HUB_URL, type StubHub } from '../test-support/stub-hub.js';

/**
 * RFC 9207 (authorization server issuer identification), RFC 9700 §4.4.2.1 (mix-up): the hub
 * adds `iss` to every authorization answer and says so in discovery; the kit must refuse an
 * answer whose `iss` is not the hub's, and, with the hub saying it sends one, an answer without
 * it. Before, the kit ignored `iss` altogether: an outside review signed in with
 * `…/sso/callback?code=…&state=…&iss=http://evil.example`.
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });
beforeEach(() => { hub.issParameter = true; });

async function answerAt(next = '/private') {
  const { app } = await makeSite(hub);
  const agent = request.agent(app);
  const start = await agent.get(`/sso/login?next=${encodeURIComponent(next)}`).set(HTML);
  const callback = await browserAtHub(hub, start.headers.location!);
  return { agent, callback };
}

function withIss(path: string, iss: string | undefined): string {
  const url = new URL(path, 'http://bbs.test');
  if (iss === undefined) url.searchParams.delete('iss');
  else url.searchParams.set('iss', iss);
  return `${url.pathname}${url.search}`;
}

describe('GET /sso/callback: the answer\'s iss (RFC 9207)', () => {
  it('the hub\'s own iss: signed in', async () => {
    const { agent, callback } = await answerAt();
    expect(new URL(callback, 'http://bbs.test').searchParams.get('iss')).toBe(HUB_URL);
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/private');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it.each(['http://evil.example', `${HUB_URL}.evil.example`, 'HTTP://HUB.TEST', `${HUB_URL}/x`, ''])(
    'iss=%s (another server\'s answer) → 400, not signed in, the code never sent to the hub',
    async (iss) => {
      const { agent, callback } = await answerAt();
      hub.resetCounts();
      const res = await agent.get(withIss(callback, iss)).set(HTML);
      expect(res.status).toBe(400);
      expect(res.text).toContain('Sign-in failed');
      expect(hub.counts['/token']).toBeUndefined();
      expect((await agent.get('/')).body.user).toBeNull();
    },
  );

  it('iss given twice → 400', async () => {
    const { agent, callback } = await answerAt();
    const res = await agent.get(`${callback}&iss=${encodeURIComponent('http://evil.example')}`).set(HTML);
    expect(res.status).toBe(400);
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('no iss from a hub whose discovery says it sends one → 400, not signed in', async () => {
    const { agent, callback } = await answerAt();
    hub.resetCounts();
    const res = await agent.get(withIss(callback, undefined)).set(HTML);
    expect(res.status).toBe(400);
    expect(hub.counts['/token']).toBeUndefined();
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('an error answer with another server\'s iss → the error page, not the page the user wanted', async () => {
    hub.user = undefined;
    try {
      const { agent, callback } = await answerAt();
      const res = await agent.get(withIss(callback, 'http://evil.example')).set(HTML);
      expect(res.status).toBe(400);
    } finally {
      hub.user = { sub: 'user-1', name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.test' };
    }
  });

  it('a hub that does not say it sends iss, and sends none: signed in as before', async () => {
    hub.issParameter = false;
    const { agent, callback } = await answerAt();
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(302);
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});
