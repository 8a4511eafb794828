import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the catcher received, parsed. */
export interface CaughtMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  recipients: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** `Content-Language` or the HTML part's `<html lang>`, if any. */
  lang: string | undefined;
  /** Every http(s) link of the text part, in order. */
  links: string[];
  receivedAt: number;
}

export interface SmtpCatcher {
  /** `smtp://127.0.0.1:PORT`: give it to the hub as `SMTP_URL`. */
  url: string;
  port: number;
  messages: CaughtMail[];
  /**
   * The first message to `address` (case-insensitive) received after `since` (epoch ms, default 0)
   * that matches `filter`, waiting for it up to `timeoutMs` (default 20 s; a loaded machine is slow).
   */
  waitFor(address: string, options?: { timeoutMs?: number; since?: number; filter?: (mail: CaughtMail) => boolean }): Promise<CaughtMail>;
  /**
   * When set, RCPT TO is answered with what it returns for that address (as a mail server that
   * is failing or refusing the mailbox does: `451`, `550 5.1.1 <address>: Recipient address rejected`).
   */
  refuseRecipient: ((address: string) => { code: number; text: string } | undefined) | undefined;
  /** Messages to `address` so far. */
  to(address: string): CaughtMail[];
  close(): Promise<void>;
}

// A link ends before white space, quotes, angle brackets and trailing punctuation (`… at http://x.`).
const LINK = /https?:\/\/[^\s<>"'）)，。]*[^\s<>"'）)，。.,;:!?]/g;

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return (Array.isArray(value) ? value : [value]).map((entry) => entry.text).join(', ');
}

/**
 * A real SMTP server (the `smtp-server` package) in this process on a free loopback port, that
 * keeps every message it is given, parsed with `mailparser`. Tests send mail through the hub's
 * real SMTP transport to it and follow the links of what arrived. No TLS, any or no AUTH.
 */
export async function startSmtpCatcher(options: { port?: number; onMail?: (mail: CaughtMail) => void } = {}): Promise<SmtpCatcher> {
  const messages: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  const catcher = { refuseRecipient: undefined } as Pick<SmtpCatcher, 'refuseRecipient'>;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'test' }),
    onRcptTo(address, _session, callback) {
      const refusal = catcher.refuseRecipient?.(address.address);
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? '';
          const html = typeof parsed.html === 'string' ? parsed.html : '';
          const language = parsed.headers.get('content-language');
          messages.push({
            recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
            from: addressText(parsed.from),
            subject: parsed.subject ?? '',
            text,
            html,
            lang: typeof language === 'string' ? language : /<html[^>]*\blang="([^"]+)"/i.exec(html)?.[1],
            links: [...new Set(text.match(LINK) ?? [])],
            receivedAt: Date.now(),
          });
          options.onMail?.(messages[messages.length - 1]!);
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  const to = (address: string) => messages.filter((mail) => mail.recipients.includes(address.toLowerCase()));

  return Object.assign(catcher, {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    to,
    waitFor(address, { timeoutMs = 20_000, since = 0, filter = () => true } = {}) {
      const find = () => to(address).find((mail) => mail.receivedAt >= since && filter(mail));
      return new Promise<CaughtMail>((resolve, reject) => {
        const found = find();
        if (found) return resolve(found);
        const check = () => {
          const mail = find();
          if (!mail) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${address} within ${timeoutMs} ms (got ${messages.length} for others)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  } satisfies Omit<SmtpCatcher, 'refuseRecipient'>);
}
