/**
 * Outgoing mail (issue 13, "Mail, for real"): nodemailer over SMTP to a real SMTP server
 * started in this process (smtp-server, parsed with mailparser), nunjucks templates in the
 * recipient's language, and the development outbox kept in the store (memory and Redis),
 * bounded and expiring, shown at /dev/outbox only when it is on.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger, type Logger } from '../src/logger.js';
import { createMailer, describeMail } from '../src/mail/create-mailer.js';
import { DevOutbox } from '../src/mail/dev-outbox.js';
import { MailDeliveryError, mailLocale, MailUnavailableError } from '../src/mail/mail-message.js';
import { Keys } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { openTestStore, startTestHub, STORE_KINDS } from '../src/testing/test-hub.js';
import { deleteByPrefix, scanKeys } from '../src/store/redis-client.js';

const silent = createLogger('silent');

function configWith(env: Record<string, string>) {
  return loadConfig({ HUB_ISSUER: 'http://hub.sso.localhost:4000', LOG_LEVEL: 'silent', ...env });
}

function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

describe('configuration', () => {
  test('SMTP_URL must be smtp:// or smtps://', () => {
    expect(() => configWith({ SMTP_URL: 'http://mail.example.com' })).toThrow(/SMTP_URL: must be an smtp/);
    expect(configWith({ SMTP_URL: 'smtps://u:p@mail.example.com:465' }).SMTP_URL).toBe('smtps://u:p@mail.example.com:465');
  });

  test('the development outbox is refused next to a real SMTP server', () => {
    expect(() => configWith({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_DEV_OUTBOX: 'true' })).toThrow(ConfigError);
    expect(() => configWith({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_DEV_OUTBOX: 'true' })).toThrow(/MAIL_DEV_OUTBOX/);
  });

  test('the start-up line says where mail goes, and never the SMTP password', () => {
    expect(describeMail(configWith({}))).toMatchObject({ level: 'warn', message: expect.stringMatching(/^mail is not sent: .*unavailable/) });
    expect(describeMail(configWith({ MAIL_DEV_OUTBOX: 'true' }))).toMatchObject({ level: 'warn', message: expect.stringMatching(/^mail is not sent: .*\/dev\/outbox/) });
    const smtp = describeMail(configWith({ SMTP_URL: 'smtp://user:s3cret-pw@mail.example.com:587' }));
    expect(smtp.level).toBe('info');
    expect(JSON.stringify(smtp)).not.toMatch(/s3cret-pw|user/);
  });
});

describe('mailLocale', () => {
  test.each([
    ['zh-CN', 'zh-CN'], ['zh-cn', 'zh-CN'], ['zh', 'zh-CN'], ['zh-TW', 'zh-CN'], ['en-GB', 'en'], ['fr', 'en'], [undefined, 'en'], ['', 'en'],
  ])('%s → %s', (tag, locale) => expect(mailLocale(tag)).toBe(locale));
});

describe('over SMTP, to a real SMTP server', () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(() => catcher.close());

  function smtpMailer(env: Record<string, string> = {}, logger: Logger = silent) {
    const config = configWith({ SMTP_URL: catcher.url, ...env });
    return createMailer(config, undefined as unknown as Store, new Keys('unused:'), logger).mailer;
  }

  test('a message arrives in Chinese with a subject, a text and an HTML part, and the link in both', async () => {
    const mailer = smtpMailer();
    expect(mailer).toMatchObject({ mode: 'smtp', available: true });
    const to = `zh-${randomUUID()}@example.com`;
    const link = `http://hub.sso.localhost:4000/signup/verify?token=${randomUUID()}`;
    await mailer.send({ to, template: 'verify-email', locale: 'zh-CN', vars: { name: '张三', username: 'zhangsan', link, hours: 24 } });
    const mail = await catcher.waitFor(to);
    expect(mail.subject).toBe('请确认您的电子邮件地址');
    expect(mail.from).toMatch(/^"?sso-hub"? <no-reply@hub\.sso\.localhost>$/);
    // An address not verified yet: a neutral greeting, not the name the sign-up typed (signup-mail-content.test.ts).
    expect(mail.text.startsWith('您好：')).toBe(true);
    expect(mail.text).not.toContain('张三');
    expect(mail.text).toContain('24 小时后失效');
    expect(mail.links).toEqual([link, 'http://hub.sso.localhost:4000']);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.lang).toBe('zh-CN');
    await mailer.close();
  });

  test('English for English and for languages the hub does not speak; MAIL_FROM is used', async () => {
    const mailer = smtpMailer({ MAIL_FROM: 'Example ID <id@example.com>' });
    for (const locale of ['en', 'fr-FR']) {
      const to = `${locale}-${randomUUID()}@example.com`;
      await mailer.send({ to, template: 'verify-email', locale, vars: { name: 'Ann', username: 'ann', link: 'http://x.example/a?b=1&c=2', hours: 24 } });
      const mail = await catcher.waitFor(to);
      expect(mail.subject).toBe('Confirm your e-mail address');
      expect(mail.from).toMatch(/^"?Example ID"? <id@example\.com>$/);
      expect(mail.lang).toBe('en');
      // The text part is not HTML-escaped: the link stays what it was.
      expect(mail.links).toEqual(['http://x.example/a?b=1&c=2', 'http://hub.sso.localhost:4000']);
    }
    await mailer.close();
  });

  test('values are escaped in the HTML part and left as they are in the text part', async () => {
    const mailer = smtpMailer();
    const to = `xss-${randomUUID()}@example.com`;
    // A mail that greets by name: to the account's own address (the verification mail greets nobody by name).
    await mailer.send({ to, template: 'password-changed', locale: 'en', vars: { name: '<img src=x onerror=alert(1)>', username: 'u', link: 'http://x.example/' } });
    const mail = await catcher.waitFor(to);
    expect(mail.html).not.toContain('<img src=x');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.text).toContain('Hello <img src=x onerror=alert(1)>,');
    await mailer.close();
  });

  test('an SMTP server that cannot be reached is a MailDeliveryError (503), and sendInBackground only logs it', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const logger = recordingLogger();
    const mailer = smtpMailer({ SMTP_URL: `smtp://127.0.0.1:${port}` }, logger);
    const to = 'nobody-secret@example.com';
    const error = await mailer.send({ to, template: 'verify-email', vars: { link: 'http://x.example/t0ken' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect((error as MailDeliveryError).status).toBe(503);
    mailer.sendInBackground({ to, template: 'verify-email', vars: { link: 'http://x.example/t0ken' } });
    await mailer.close(); // waits for the background send
    const failure = logger.lines.find((line) => line.message === 'mail not sent');
    expect(failure).toMatchObject({ level: 'error', fields: { template: 'verify-email', errorName: 'MailDeliveryError' } });
    // Neither the address nor the link is logged.
    expect(JSON.stringify(logger.lines)).not.toMatch(/nobody-secret|t0ken/);
  });

  test('a refusal whose text names the recipient is logged by its codes only, never the address (a mail-fault review)', async () => {
    const logger = recordingLogger();
    const mailer = smtpMailer({}, logger);
    const to = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    // As Postfix answers: the reply text names the mailbox.
    catcher.refuseRecipient = (address) => ({ code: 550, text: `5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table` });
    try {
      mailer.sendInBackground({ to, template: 'verify-email', vars: { link: 'http://x.example/t0ken' } });
      await mailer.close();
    } finally {
      catcher.refuseRecipient = undefined;
    }
    const failure = logger.lines.find((line) => line.message === 'mail not sent');
    // Never the address, nor the link...
    expect(JSON.stringify(logger.lines)).not.toContain(to.split('@')[0]);
    expect(JSON.stringify(logger.lines)).not.toMatch(/t0ken/);
    // ...but the operator learns what failed and whether it was temporary (4xx) or permanent (5xx).
    expect(failure).toMatchObject({ level: 'error', fields: { template: 'verify-email', errorName: 'MailDeliveryError', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550 } });
  });

  test('a template name that is not a plain name is refused before anything is read', async () => {
    const mailer = smtpMailer();
    await expect(mailer.send({ to: 'a@example.com', template: '../hub/login' })).rejects.toThrow(TypeError);
  });
});

describe('with no SMTP and no outbox', () => {
  test('mail is off: send throws MailUnavailableError (503, a friendly message)', async () => {
    const { mailer, outbox } = createMailer(configWith({}), undefined as unknown as Store, new Keys('unused:'), silent);
    expect(mailer).toMatchObject({ mode: 'off', available: false });
    expect(outbox).toBeUndefined();
    const error = await mailer.send({ to: 'a@example.com', template: 'verify-email' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailUnavailableError);
    expect((error as MailUnavailableError).status).toBe(503);
  });
});

describe.each(STORE_KINDS)('the development outbox (%s store)', (kind) => {
  let store: Store;
  let keys: Keys;
  beforeEach(async () => {
    store = await openTestStore(kind);
    keys = new Keys(`test:${randomUUID()}:`);
  });
  afterEach(async () => {
    if (store instanceof RedisStore) {
      await deleteByPrefix(store.client, keys.prefix);
    }
    await store.close();
  });

  test('keeps rendered mail newest first; every key it writes expires', async () => {
    const { mailer, outbox } = createMailer(configWith({ MAIL_DEV_OUTBOX: 'true' }), store, keys, silent);
    expect(mailer.mode).toBe('outbox');
    await mailer.send({ to: 'first@example.com', template: 'verify-email', locale: 'en', vars: { link: 'http://x.example/1' } });
    await mailer.send({ to: 'second@example.com', template: 'verify-email', locale: 'zh-CN', vars: { link: 'http://x.example/2' } });
    const listed = await outbox!.list();
    expect(listed.map((mail) => mail.to)).toEqual(['second@example.com', 'first@example.com']);
    expect(listed[0]!.subject).toBe('请确认您的电子邮件地址');
    expect((await outbox!.find(listed[1]!.id))?.text).toContain('http://x.example/1');
    expect(await outbox!.find('../../etc')).toBeUndefined();
    expect(await store.ttl(keys.mailOutbox())).toBeGreaterThan(0);
    for (const mail of listed) {
      const ttl = await store.ttl(keys.mailOutboxItem(mail.id));
      expect(ttl).toBeGreaterThan(86_000);
      expect(ttl).toBeLessThanOrEqual(86_400);
    }
  });

  test('is bounded: past the maximum the oldest messages are deleted, not only unlisted', async () => {
    const outbox = new DevOutbox(store, keys, { ttlSeconds: 3600, maxMessages: 3 });
    const base = { from: 'f@example.com', subject: 's', text: 't', html: 'h', locale: 'en' as const, template: 'verify-email' };
    for (let index = 1; index <= 5; index += 1) await outbox.deliver({ ...base, to: `n${index}@example.com` });
    const listed = await outbox.list();
    expect(listed.map((mail) => mail.to)).toEqual(['n5@example.com', 'n4@example.com', 'n3@example.com']);
    expect(await store.zCard(keys.mailOutbox())).toBe(3);
    if (store instanceof RedisStore) {
      const items: string[] = [];
      for await (const found of scanKeys(store.client, `${keys.prefix}mail:outbox:item:*`)) items.push(...found);
      expect(items).toHaveLength(3);
    }
  });
});

describe('the /dev/outbox page', () => {
  test('is served only when the outbox is on; the HTML part only under a sandbox CSP', async () => {
    const off = await startTestHub('memory');
    try {
      expect((await fetch(`${off.url}/dev/outbox`)).status).toBe(404);
    } finally {
      await off.close();
    }
    const hub = await startTestHub('redis', { MAIL_DEV_OUTBOX: 'true' });
    try {
      expect((await fetch(`${hub.url}/dev/outbox`)).status).toBe(200);
      await hub.services.mailer.send({ to: 'page@example.com', template: 'password-changed', locale: 'en', vars: { name: '<b>Bo</b>', link: `${hub.url}/password/forgot?x=abc` } });
      const list = await fetch(`${hub.url}/dev/outbox`);
      expect(list.headers.get('cache-control')).toBe('no-store');
      const page = await list.text();
      expect(page).toContain('page@example.com');
      const id = /href="\/dev\/outbox\/([0-9a-z-]{26})"/.exec(page)?.[1];
      expect(id).toBeDefined();
      const message = await (await fetch(`${hub.url}/dev/outbox/${id}`)).text();
      expect(message).toContain(`<a href="${hub.url}/password/forgot?x=abc">`);
      expect(message).toContain('Hello &lt;b&gt;Bo&lt;/b&gt;');
      const html = await fetch(`${hub.url}/dev/outbox/${id}/html`);
      expect(html.headers.get('content-security-policy')).toMatch(/^sandbox;/);
      expect((await fetch(`${hub.url}/dev/outbox/0000000000-000000-00000000`)).status).toBe(404);
      expect((await fetch(`${hub.url}/dev/outbox/${randomUUID()}`)).status).toBe(404);
    } finally {
      await hub.close();
    }
  });
});
