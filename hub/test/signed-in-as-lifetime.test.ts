/**
 * The `hub_signed_in_as` cookie (oidc/signed-in-as.ts) is what lets a sign-out after the hub
 * session expired ping the user's other subsites. A "keep me signed in" sign-in's hub session
 * ends at the latest HUB_SESSION_MAX_TTL after the sign-in; a subsite's local session started
 * just before then lasts its own `sessionMaxAgeSeconds` past it (the kit's default: a day). The
 * cookie made with the same Max-Age as the session's bound expired with the session, so a
 * sign-out at a site after a remembered sign-in reached HUB_SESSION_MAX_TTL pinged no other site
 * (a diff review): it outlives that bound by SIGNED_IN_AS_GRACE_SECONDS.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { SIGNED_IN_AS_GRACE_SECONDS } from '../src/oidc/signed-in-as.js';

const MAX_TTL = 86_400;

describe('the signed-in-as cookie outlives the hub session it records', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', { HUB_SESSION_TTL: '3600', HUB_SESSION_MAX_TTL: String(MAX_TTL) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
  });
  afterAll(() => hub.close());

  async function signIn(remember: boolean): Promise<Map<string, string>> {
    const browser = new TestBrowser();
    const landed = await browser.follow(`${hub.url}/login?next=%2Faccount`);
    const action = attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/);
    const answer = await browser.post(new URL(action, hub.url).toString(), {
      _csrf: inputValue(landed.body, '_csrf'), login: 'alice', password: 'wonderland-123', ...(remember ? { remember: 'yes' } : {}),
    });
    await answer.arrayBuffer();
    expect(answer.status).toBe(200);
    return new Map(answer.headers.getSetCookie().map((line) => [line.slice(0, line.indexOf('=')), line]));
  }

  test('"keep me signed in": it expires past HUB_SESSION_MAX_TTL by the grace; otherwise a browser-session cookie, as before', async () => {
    const remembered = (await signIn(true)).get('hub_signed_in_as');
    expect(remembered).toBeDefined();
    // koa's cookies write Max-Age as an Expires date.
    const lifetime = (Date.parse(/;\s*expires=([^;]+)/i.exec(remembered!)?.[1] ?? '') - Date.now()) / 1000;
    expect(Math.abs(lifetime - (MAX_TTL + SIGNED_IN_AS_GRACE_SECONDS))).toBeLessThan(60);
    expect(SIGNED_IN_AS_GRACE_SECONDS).toBeGreaterThanOrEqual(86_400);

    const transient = (await signIn(false)).get('hub_signed_in_as');
    expect(transient).toBeDefined();
    expect(transient).not.toMatch(/max-age|expires/i);
  });
});
