/**
 * A set of recovery codes is ten argon2id runs (hub/src/two-step/recovery-codes.ts): "New recovery
 * codes" took ten times the CPU of the password check that proves it, with no limit on how often.
 * Anyone with an account (open sign-up) and two-step on could drive the hub's argon2 turns at
 * that rate (a review: 20 sets in a row, all 200, 230 ms each against 29 ms for a sign-in's
 * check). An account makes RECOVERY_SETS_PER_HOUR sets an hour at most; past it the page says
 * to wait, after the proof and before any of the set's hashing.
 */
import { inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { awayFromStepEdge, totpCode } from '../src/testing/totp.js';
import { RECOVERY_SETS_PER_HOUR } from '../src/two-step/two-step-service.js';

const USER = { username: 'mallory', email: 'mallory@example.test', password: 'a-long-user-password-1' };
let hub: RunningHub;

beforeAll(async () => {
  hub = await startTestHub('memory');
  await hub.services.users.create(USER);
});
afterAll(() => hub.close());

test('new recovery codes: a few sets an hour per account, then "wait" (429, Retry-After) with no set made', async () => {
  const browser = await signInAtPortal(hub, USER.username, USER.password);
  await awayFromStepEdge();
  const settings = await browser.follow(`${hub.url}/account/two-step`);
  const secret = /data-testid="totp-secret">([A-Z2-7 ]+)</.exec(settings.body)![1]!.replace(/\s/g, '');
  const enabled = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(settings.body, '_csrf'), proof: USER.password, code: totpCode(secret) });
  expect(await enabled.text()).toContain('data-testid="recovery-codes"');
  const page = await browser.follow(`${hub.url}/account/two-step`);
  const form = { _csrf: inputValue(page.body, '_csrf'), proof: USER.password };
  expect(RECOVERY_SETS_PER_HOUR).toBeGreaterThanOrEqual(3);
  for (let set = 0; set < RECOVERY_SETS_PER_HOUR; set += 1) {
    const made = await browser.post(`${hub.url}/account/two-step/recovery-codes`, form);
    expect([set, made.status]).toEqual([set, 200]);
    expect(await made.text()).toContain('data-testid="recovery-codes"');
  }
  const user = (await hub.services.users.findByUsername(USER.username))!;
  const before = await hub.services.twoStepRecords.find(user.id);
  const refused = await browser.post(`${hub.url}/account/two-step/recovery-codes`, form);
  expect(refused.status).toBe(303);
  const shown = await browser.follow(`${hub.url}/account/two-step`);
  expect(shown.response.status).toBe(429);
  expect(Number(shown.response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(shown.body).not.toContain('data-testid="recovery-codes"');
  // No set was made: the enrolment still lists the last one.
  expect((await hub.services.twoStepRecords.find(user.id))!.recovery).toEqual(before!.recovery);
}, 60_000);
