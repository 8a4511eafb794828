import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createSubsiteKit } from '../kit.js';
import { blockingFormAction } from '../form-action.js';
import { kitOptions } from '../test-support/site.js';
import { HUB_URL, startStubHub, type StubHub } from '../test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/** helmet 8's default policy, as `app.use(helmet())` sets it on every answer. */
const HELMET_DEFAULT = "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

/** A security middleware such as helmet, setting `policy` on every answer. */
function csp(policy: string): express.RequestHandler {
  return (_req, res, next) => { res.setHeader('Content-Security-Policy', policy); next(); };
}

/** A site with its own security middleware in front of the kit, as helmet is mounted. */
async function siteWith(security: express.RequestHandler | undefined) {
  const logs: string[] = [];
  const sso = await createSubsiteKit(kitOptions(hub, { logger: { warn: (line) => logs.push(line) } }));
  const app = express();
  if (security) app.use(security);
  app.use(sso.router);
  return { app, logs };
}

const signOut = (app: express.Express) => request(app).post('/sso/logout').set('Sec-Fetch-Site', 'same-origin');

describe('POST /sso/logout under a Content-Security-Policy whose form-action blocks the hub', () => {
  it("helmet's default policy (form-action 'self'): still 303 to the hub, and the log says the browser blocks it and how to allow the hub", async () => {
    const { app, logs } = await siteWith(csp(HELMET_DEFAULT));
    const res = await signOut(app);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^${HUB_URL}/`));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain("form-action 'self'");
    expect(logs[0]).toContain(`does not allow the hub (${HUB_URL})`);
    expect(logs[0]).toContain(`formAction: ["'self'", '${HUB_URL}']`);
  });

  it('said at most once a minute, not on every sign-out', async () => {
    const { app, logs } = await siteWith(csp(HELMET_DEFAULT));
    for (let i = 0; i < 3; i += 1) expect((await signOut(app)).status).toBe(303);
    expect(logs).toHaveLength(1);
  });

  it('a policy that allows the hub, or no policy: nothing logged', async () => {
    for (const security of [csp(HELMET_DEFAULT.replace("form-action 'self'", `form-action 'self' ${HUB_URL}`)), undefined]) {
      const { app, logs } = await siteWith(security);
      expect((await signOut(app)).status).toBe(303);
      expect(logs).toEqual([]);
    }
  });
});

describe('blockingFormAction', () => {
  const site = 'https://bbs.example.com';
  const hubEnd = 'https://id.example.com/session/end';
  it.each([
    ["default-src 'self'", undefined], // no form-action: forms are not restricted
    ["form-action 'self'", "form-action 'self'"],
    ["form-action 'none'", "form-action 'none'"],
    ['form-action *', undefined],
    ['form-action https:', undefined],
    ["form-action 'self' https://id.example.com", undefined],
    ["form-action 'self' id.example.com", undefined],
    ["form-action 'self' *.example.com", undefined],
    ["form-action 'self' https://id.example.com:8443", "form-action 'self' https://id.example.com:8443"],
    ["form-action 'self' https://other.example.com", "form-action 'self' https://other.example.com"],
    ["form-action * ; form-action 'self'", undefined], // the first of a policy counts
  ])('%s → %s', (policy, expected) => {
    expect(blockingFormAction(policy, hubEnd, site)).toBe(expected);
  });

  it('every enforced policy must allow it (two headers, or one joined with a comma)', () => {
    expect(blockingFormAction(['form-action *', "form-action 'self'"], hubEnd, site)).toBe("form-action 'self'");
    expect(blockingFormAction("form-action *, form-action 'self'", hubEnd, site)).toBe("form-action 'self'");
  });

  it("'self' and a port: the hub on the site's own origin is allowed", () => {
    expect(blockingFormAction("form-action 'self'", 'http://127.0.0.1:4000/session/end', 'http://127.0.0.1:4000')).toBeUndefined();
    expect(blockingFormAction('form-action http://127.0.0.1:*', 'http://127.0.0.1:4000/session/end', 'http://127.0.0.1:3000')).toBeUndefined();
  });
});
