import nodemailer, { type Transporter } from 'nodemailer';
import { MailDeliveryError, type RenderedMail } from './mail-message.js';
import type { MailTransport } from './mail-transport.js';

// Bounds on one SMTP conversation, in milliseconds: a stalled server never holds a request for long.
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 20_000;

/** Sends over SMTP with nodemailer (`SMTP_URL`: `smtp://` with STARTTLS when offered, `smtps://` for implicit TLS). */
export class SmtpTransport implements MailTransport {
  readonly kind = 'smtp' as const;
  readonly #transport: Transporter;

  constructor(smtpUrl: string) {
    const url = new URL(smtpUrl);
    this.#transport = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    });
  }

  async deliver(mail: RenderedMail): Promise<void> {
    try {
      await this.#transport.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    } catch (error) {
      throw new MailDeliveryError(error);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
