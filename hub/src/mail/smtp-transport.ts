import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { MailDeliveryError, type RenderedMail } from './mail-message.js';
import type { MailTransport } from './mail-transport.js';

// Bounds on one SMTP conversation, in milliseconds: a stalled server never holds a request for long.
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

/**
 * Sends over SMTP with nodemailer (`SMTP_URL`: `smtp://` with STARTTLS when offered, `smtps://`
 * for implicit TLS). nodemailer (about 1.6 MiB of heap) is loaded with the first mail, not at
 * start-up: a hub sends mail only on sign-up, recovery and notices.
 */
export class SmtpTransport implements MailTransport {
  readonly kind = 'smtp' as const;
  readonly #options: SMTPTransport.Options;
  #transport: Promise<Transporter> | undefined;

  constructor(smtpUrl: string) {
    const url = new URL(smtpUrl);
    this.#options = {
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    };
  }

  #transporter(): Promise<Transporter> {
    this.#transport ??= import('nodemailer').then(
      ({ default: nodemailer }) => nodemailer.createTransport(this.#options),
      (error: unknown) => {
        this.#transport = undefined; // the next mail tries again
        throw error;
      },
    );
    return this.#transport;
  }

  async deliver(mail: RenderedMail): Promise<void> {
    try {
      // The recipient as an address object: nodemailer parses a string as a mailbox list, so an
      // address stored before the hub refused `Name<address>` would reach that address with the name.
      await (await this.#transporter()).sendMail({ from: mail.from, to: { name: '', address: mail.to }, subject: mail.subject, text: mail.text, html: mail.html });
    } catch (error) {
      throw new MailDeliveryError(error);
    }
  }

  async close(): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    if (transport) (await transport.catch(() => undefined))?.close();
  }
}
