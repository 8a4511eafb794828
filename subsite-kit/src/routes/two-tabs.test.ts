import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite } from '../test-support/site.js';
import { browserAtHub, startStubHub, type StubHub } from '../test-support/stub-hub.js';
import { MAX_PENDING } from '../pending-auth.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/** One browser (one cookie jar) with two tabs that each started a sign-in at the site. */
async function twoTabs() {
  const { app } = await makeSite(hub);
  const agent = request.agent(app);
  const tab1 = (await agent.get('/sso/login?next=/one')).headers.location!;
  const tab2 = (await agent.get('/sso/login?next=/two')).headers.location!;
  return { agent, tab1, tab2 };
}

describe('sign-ins started in two tabs of one browser', () => {
  it('the first tab finishes first: both tabs come back signed in, each to its own page', async () => {
    const { agent, tab1, tab2 } = await twoTabs();
    const answer1 = await browserAtHub(hub, tab1);
    const answer2 = await browserAtHub(hub, tab2);
    expect((await agent.get(answer1)).headers.location).toBe('/one');
    expect((await agent.get(answer2)).headers.location).toBe('/two');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('the second tab finishes first, then the first: no "not started in this browser" page', async () => {
    const { agent, tab1, tab2 } = await twoTabs();
    expect((await agent.get(await browserAtHub(hub, tab2))).headers.location).toBe('/two');
    const late = await agent.get(await browserAtHub(hub, tab1));
    expect(late.status).toBe(302);
    expect(late.headers.location).toBe('/one');
  });

  it(`keeps at most ${MAX_PENDING} pending: the oldest answer then belongs to no request here`, async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    const starts: string[] = [];
    for (let i = 0; i <= MAX_PENDING; i++) starts.push((await agent.get(`/sso/login?next=/p${i}`)).headers.location!);
    expect((await agent.get(await browserAtHub(hub, starts[0]!))).status).toBe(400);
    expect((await agent.get(await browserAtHub(hub, starts[MAX_PENDING]!))).headers.location).toBe(`/p${MAX_PENDING}`);
  });
});
