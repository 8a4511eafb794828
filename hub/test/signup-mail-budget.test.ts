/**
 * Sign-up mails to one address are capped, but the cap must not be a lock a stranger can put
 * on the address's owner: one network gets a small share of an address's mails an hour, and
 * only many networks together reach the address's overall cap. Before, a stranger's three
 * sign-ups with someone's address, from one network, used the address's whole hour: the
 * owner's own sign-up and resends, from anywhere, then sent nothing. Real Redis, a real SMTP
 * server in this process, the verification link followed.
 */
import { randomUUID } from 'node:crypto';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { startSmtpCatcher, type CaughtMail, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const PASSWORD = 'orbit tulip cactus lantern';
const STRANGER = '198.51.100.7';
const OWNER = '203.0.113.9';

function unique(label: string) {
  const id = randomUUID().slice(0, 8);
  return { username: `${label}-${id}`, email: `${label}-${id}@example.com`, name: `${label} ${id}` };
}

async function signUpFrom(hub: RunningHub, ip: string, fields: { username: string; email: string; name: string }) {
  const browser = new TestBrowser();
  const html = await (await browser.get(`${hub.url}/signup`, { 'x-forwarded-for': ip })).text();
  const answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...fields }, { 'x-forwarded-for': ip });
  return answer.status;
}

async function resendFrom(hub: RunningHub, ip: string, login: string) {
  const browser = new TestBrowser();
  const form = await (await browser.get(`${hub.url}/signup/resend?login=${encodeURIComponent(login)}`, { 'x-forwarded-for': ip })).text();
  const answer = await browser.post(`${hub.url}/signup/resend`, { _csrf: inputValue(form, '_csrf'), login }, { 'x-forwarded-for': ip });
  return { status: answer.status, body: (await answer.text()).replace(/name="_csrf" value="[^"]*"/g, '') };
}

function tokenOf(mail: CaughtMail): string | undefined {
  const link = mail.links.find((candidate) => candidate.includes('/signup/verify?token='));
  return link ? new URL(link).searchParams.get('token') ?? undefined : undefined;
}

/** The verification links among `mails` that verify `userId`'s account. */
async function linksFor(hub: RunningHub, mails: CaughtMail[], userId: string): Promise<string[]> {
  const found: string[] = [];
  for (const mail of mails) {
    const token = tokenOf(mail);
    const data = token ? await hub.services.accountTokens.peek<{ userId: string }>('email-verify', token) : undefined;
    if (data?.userId === userId) found.push(mail.links.find((link) => link.includes('/signup/verify?token='))!);
  }
  return found;
}

async function verify(hub: RunningHub, link: string): Promise<number> {
  const browser = new TestBrowser();
  const page = await (await browser.get(link)).text();
  return (await browser.post(`${hub.url}/signup/verify`, { _csrf: inputValue(page, '_csrf'), token: inputValue(page, 'token') })).status;
}

describe('sign-up mails: a stranger cannot use up the owner\'s (HUB_SIGNUP=open, redis, real SMTP)', () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(() => catcher.close());

  test('a stranger\'s network signs up throw-away accounts with my address; my own sign-up from my network still brings my link', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true' });
    try {
      const owner = unique('owner');
      // Nine sign-ups from one network, within SIGNUP_MAX_PER_IP (10 an hour): three mails go, six do not.
      for (let index = 0; index < 9; index += 1) expect(await signUpFrom(hub, STRANGER, { ...unique('throwaway'), email: owner.email })).toBe(303);
      expect(await signUpFrom(hub, OWNER, owner)).toBe(303);
      await hub.services.mailer.close(); // waits for the mail still being sent
      const mine = await hub.services.users.findByLogin(owner.username);
      const links = await linksFor(hub, catcher.to(owner.email), mine!.id);
      expect(links).toHaveLength(1);
      expect(catcher.to(owner.email)).toHaveLength(4);
      expect(await verify(hub, links[0]!)).toBe(200);
      expect((await hub.services.users.findByLogin(owner.username))?.emailVerified).toBe(true);
      // The stranger's network was held to its share: six sign-ups sent nothing, said in the audit log.
      const limited = (await hub.services.audit.search({ event: 'signup.mail-limited' })).filter((entry) => entry.event === 'signup.mail-limited');
      expect(limited).toHaveLength(6);
      expect(limited.every((entry) => entry.ip === STRANGER && entry.detail?.limit === 'network')).toBe(true);
      // Every count expires with its hour.
      for (const key of [hub.services.keys.signupAddressMails(owner.email), hub.services.keys.signupNetworkMails(owner.email, STRANGER), hub.services.keys.signupNetworkMails(owner.email, OWNER)]) {
        const ttl = await hub.store.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(3600);
      }
    } finally {
      await hub.close();
    }
  });

  test('sign-up mails the SMTP server did not take are not counted: once it is back, my resend brings my link (a mail-fault review)', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true' });
    try {
      const owner = unique('outage');
      // The mail server fails (a 451 to RCPT TO) for my sign-up and two resends: my network's whole share.
      catcher.refuseRecipient = (address) => (address === owner.email ? { code: 451, text: `4.3.0 <${address}>: try again later` } : undefined);
      try {
        expect(await signUpFrom(hub, OWNER, owner)).toBe(303);
        await hub.services.mailer.close(); // waits for the mail still being sent
        for (let index = 0; index < 2; index += 1) {
          expect((await resendFrom(hub, OWNER, owner.username)).status).toBe(200);
          await hub.services.mailer.close();
        }
      } finally {
        catcher.refuseRecipient = undefined;
      }
      expect(catcher.to(owner.email)).toHaveLength(0);
      // The mail server is back: my resend brings a link, and it verifies my account.
      expect((await resendFrom(hub, OWNER, owner.username)).status).toBe(200);
      await hub.services.mailer.close();
      const mine = await hub.services.users.findByLogin(owner.username);
      const links = await linksFor(hub, catcher.to(owner.email), mine!.id);
      expect(links).toHaveLength(1);
      expect(await verify(hub, links[0]!)).toBe(200);
      expect(await hub.services.audit.search({ event: 'signup.resend-limited', user: mine!.id })).toHaveLength(0);
    } finally {
      await hub.close();
    }
  });

  test('a stranger resending for my username and signing up with my address from one network does not stop my resend from my network', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true' });
    try {
      const owner = unique('owner');
      expect(await signUpFrom(hub, OWNER, owner)).toBe(303);
      const mine = await hub.services.users.findByLogin(owner.username);
      // Usernames are public handles: the stranger can name mine on the resend page.
      for (let index = 0; index < 3; index += 1) expect((await resendFrom(hub, STRANGER, owner.username)).status).toBe(200);
      for (let index = 0; index < 3; index += 1) expect(await signUpFrom(hub, STRANGER, { ...unique('throwaway'), email: owner.email })).toBe(303);
      const again = await resendFrom(hub, OWNER, owner.username);
      // The same page as for any username.
      expect(again).toEqual(await resendFrom(hub, OWNER, `nobody-${randomUUID().slice(0, 8)}`));
      await hub.services.mailer.close();
      // Mine at sign-up, the stranger's three resends for my account, then my own resend: no more
      // than three from the stranger's network, and mine on top.
      const links = await linksFor(hub, catcher.to(owner.email), mine!.id);
      expect(links).toHaveLength(5);
      expect(catcher.to(owner.email)).toHaveLength(5);
      expect(await verify(hub, links.at(-1)!)).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
