import { randomUUID } from 'node:crypto';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub } from '../src/testing/test-hub.js';

const PASSWORD = 'orbit tulip cactus lantern';

describe('sign-up mails: the overall per-address cap covers the resend page', () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(async () => {
    await catcher.close();
  });

  test('the resend page is held to the same SIGNUP_MAILS_PER_ADDRESS (10) mails an hour per address typed, however many networks ask', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true' });
    try {
      const victim = `victim-${randomUUID().slice(0, 8)}@example.com`;
      const usernames: string[] = [];
      // Four accounts typed with the victim's address from four networks: four links.
      for (const [index, address] of ['198.51.100.11', '198.51.100.12', '203.0.113.13', '192.0.2.14'].entries()) {
        const username = `bomb${index}-${randomUUID().slice(0, 6)}`;
        usernames.push(username);
        const browser = new TestBrowser();
        const html = await (await browser.get(`${hub.url}/signup`, { 'x-forwarded-for': address })).text();
        const answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, username, name: username, email: victim }, { 'x-forwarded-for': address });
        expect(answer.status).toBe(303);
      }
      // Then each account's resends, from twelve other networks: six more links reach the cap, the rest go nowhere.
      let n = 20;
      for (const username of usernames) {
        for (let i = 0; i < 3; i += 1) {
          const address = `198.51.100.${(n += 1)}`;
          const browser = new TestBrowser();
          const form = await (await browser.get(`${hub.url}/signup/resend?login=${encodeURIComponent(username)}`, { 'x-forwarded-for': address })).text();
          await browser.post(`${hub.url}/signup/resend`, { _csrf: inputValue(form, '_csrf'), login: username }, { 'x-forwarded-for': address });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      await hub.services.mailer.close();
      expect(catcher.to(victim)).toHaveLength(10);
    } finally {
      await hub.close();
    }
  }, 60_000);
});
