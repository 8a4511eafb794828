/**
 * A link from a mail pasted with what followed it (a full stop, a bracket, a space, a Chinese
 * full stop or comma) still works: a browser review pasted `…?token=T)` and `…?token=T.` and got
 * "this link is not valid" (the verification, reset, e-mail change and undo links all go through
 * AccountTokens). Tokens are base64url, so nothing else ever ends one; a wrong letter still fails.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { passwordStamp } from '../src/users/password-stamp.js';

let hub: RunningHub;
beforeAll(async () => {
  hub = await startTestHub('memory');
});
afterAll(() => hub.close());

it('a reset link with trailing punctuation or space opens the form; one with a changed or extra letter does not', async () => {
  await hub.services.users.create({ username: 'junk', email: 'junk@example.test', password: 'a-long-enough-password-1' });
  const user = (await hub.services.users.findByLogin('junk'))!;
  const token = await hub.services.accountTokens.issue('password-reset', { userId: user.id, stamp: passwordStamp(user), email: user.email.toLowerCase() }, 600);
  const link = hub.services.recovery.linkFor(token);
  for (const junk of [')', '.', '%20', '>', '%E3%80%82', '%EF%BC%8C', ').']) {
    const page = await fetch(link + junk);
    expect([junk, page.status]).toEqual([junk, 200]);
    expect(await page.text()).toContain('data-testid="reset-form"');
  }
  expect((await fetch(link + 'x')).status).toBe(400);
  expect((await fetch(link.slice(0, -1))).status).toBe(400);
});

it('peek and take read the token without the junk around it, and it is still used up once', async () => {
  const token = await hub.services.accountTokens.issue('email-verify', { any: 1 }, 600);
  expect(await hub.services.accountTokens.peek('email-verify', `${token}.`)).toEqual({ any: 1 });
  expect(await hub.services.accountTokens.take('email-verify', ` ${token})`)).toEqual({ any: 1 });
  expect(await hub.services.accountTokens.take('email-verify', token)).toBeUndefined();
});
