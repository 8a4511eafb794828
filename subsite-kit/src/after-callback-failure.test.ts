/**
 * A site's afterCallback hook that throws (a bug of the site's, or a lookup of its own that
 * failed) or returns a user the kit cannot keep. Before, both were "Sign-in is temporarily
 * unavailable. Please try again in a moment." (503), logged as the bare error name
 * (`sign-in failed at /sso/callback: TypeError`), and a silent check kept Request-Login for
 * another try 30 s later: every visitor signed in at the hub was sent through the hub to the
 * same error page every 30 s of browsing, and nothing told the developer it was the hook.
 */
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, setCookies, isDeletion, HTML } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { useStubHub, browserAtHub, type StubHub } from './test-support/stub-hub.js';

let hub: StubHub;
useStubHub((started) => { hub = started; });

describe('afterCallback fails', () => {
  it('a hook that throws, at a silent check: a 500 page that does not say "try again", Request-Login dropped, the log names the hook, the error and where, not its message', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, {
      logger: { warn: (line) => logs.push(line) },
      afterCallback: () => {
        const profile = undefined as unknown as { displayName: string };
        if (profile === undefined) throw new TypeError('profile of customer 4711 (private-detail) is undefined');
        return undefined;
      },
    });
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const page = await agent.get('/').set(HTML);
    expect(page.status).toBe(302); // the silent check
    const res = await agent.get(await browserAtHub(hub, page.headers.location!));
    expect(res.status).toBe(500);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).not.toMatch(/temporarily|try again/i);
    expect(res.text).toContain('an error of its own');
    // Not held back for another try: the next page views are served as they are, no trip to the hub.
    expect(isDeletion(setCookies(res)['sso.request-login'])).toBe(true);
    expect((await agent.get('/').set(HTML)).status).toBe(200);
    const line = logs.find((entry) => entry.includes('sign-in failed'));
    expect(line).toMatch(/afterCallback threw TypeError at .*after-callback-failure\.test\.ts:\d+:\d+/);
    expect(line).toContain('fix the hook');
    expect(logs.join('\n')).not.toContain('private-detail');
    expect(setCookies(res)['sso.sid']).toBeUndefined();
  });

  it('a hook that returns another sub, at an interactive sign-in: the same 500 page, the log says what it returned wrong', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, {
      logger: { warn: (line) => logs.push(line) },
      afterCallback: ({ user }) => ({ ...user, sub: 'someone-else' }),
    });
    const agent = request.agent(app);
    const login = await agent.get('/sso/login?next=/').set(HTML);
    const res = await agent.get(await browserAtHub(hub, login.headers.location!));
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/temporarily/i);
    expect(logs.join('\n')).toContain('afterCallback returned something other than a user with the same sub');
    expect((await agent.get('/')).body.user).toBeNull();
  });
});
