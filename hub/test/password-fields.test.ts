/**
 * The new-password fields ask for the hub's configured minimum (PASSWORD_MIN_LENGTH), as the
 * server checks it: the account page and the reset page hard-coded 8, so with a longer minimum
 * the browser let a short password through to a server refusal, and with a shorter one it
 * refused a password the hub would take. Sign-up already used the setting.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { passwordStamp } from '../src/users/password-stamp.js';

const PASSWORD = 'a-long-enough-password-1';
let hub: RunningHub;

beforeAll(async () => {
  hub = await startTestHub('memory', { PASSWORD_MIN_LENGTH: '12' });
});
afterAll(() => hub.close());

const minLengths = (html: string) => [...html.matchAll(/autocomplete="new-password"[^>]*minlength="(\d+)"/g)].map((match) => match[1]);

it('the account page\'s new-password fields ask for PASSWORD_MIN_LENGTH', async () => {
  await hub.services.users.create({ username: 'fields', email: 'fields@example.test', password: PASSWORD });
  const browser = await signInAtPortal(hub, 'fields', PASSWORD);
  const page = await browser.get(`${hub.url}/account`);
  expect(page.status).toBe(200);
  expect(minLengths(await page.text())).toEqual(['12', '12']);
});

it('the reset page\'s new-password fields ask for PASSWORD_MIN_LENGTH', async () => {
  const user = (await hub.services.users.findByLogin('fields'))!;
  const token = await hub.services.accountTokens.issue('password-reset', { userId: user.id, stamp: passwordStamp(user), email: user.email.toLowerCase() }, 600);
  const page = await fetch(hub.services.recovery.linkFor(token));
  expect(page.status).toBe(200);
  expect(minLengths(await page.text())).toEqual(['12', '12']);
});
