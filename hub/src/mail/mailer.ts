import type { Logger } from '../logger.js';
import { MailUnavailableError, type MailRequest, type RenderedMail } from './mail-message.js';
import type { MailRenderer } from './mail-renderer.js';
import type { MailTransport } from './mail-transport.js';

/** How this hub sends mail: over SMTP, into the development outbox, or not at all. */
export type MailMode = 'smtp' | 'outbox' | 'off';

/**
 * Sends the hub's mail (verification, password reset, notices) from templates, in the
 * recipient's language. Features get it from the domain services (`services.mailer`).
 */
export interface Mailer {
  readonly mode: MailMode;
  /** False when mode is `off`: a page that needs mail says so up front. */
  readonly available: boolean;
  /**
   * Renders and delivers one message; resolves once the SMTP server accepted it (or the
   * outbox stored it). Throws `MailUnavailableError` when mode is `off`, `MailDeliveryError`
   * when the SMTP server refused it or could not be reached.
   */
  send(request: MailRequest): Promise<RenderedMail>;
  /**
   * Sends without waiting, for answers that must not depend on whether mail went out (and not
   * take longer when it does): enumeration-safe pages. A failure is logged (template and
   * error name, never the address or content) and otherwise ignored.
   */
  sendInBackground(request: MailRequest, onFailure?: (error: unknown) => Promise<void>): void;
  /** Mails handed to the transport and not yet accepted or refused (what a stop now would lose). */
  readonly sending: number;
  /** Calls `listener` with each mail's template once the transport took it (`sent`) or did not (`failed`): the metrics. */
  observe(listener: (template: string, outcome: 'sent' | 'failed') => void): void;
  close(): Promise<void>;
}

/**
 * What a log line may say of a mail that was not sent: the error's name and, for an SMTP failure,
 * nodemailer's code (`EENVELOPE`, `ECONNECTION`, `ETIMEDOUT`, `EAUTH`, …), the command and the
 * server's reply code (a 4xx is temporary, a 5xx permanent). Never the server's reply text: mail
 * servers name the recipient in it (Postfix: `550 5.1.1 <bob@example.com>: Recipient address
 * rejected`), and the log never has the address (a mail-fault review found it there).
 */
export function deliveryFailure(error: unknown): { errorName?: string; code?: string; command?: string; responseCode?: number } {
  const fields: { errorName?: string; code?: string; command?: string; responseCode?: number } = {};
  if (error instanceof Error) fields.errorName = error.name;
  const cause = (error as { cause?: unknown } | undefined)?.cause as { code?: unknown; command?: unknown; responseCode?: unknown; rejectedErrors?: { responseCode?: unknown; command?: unknown }[] } | undefined;
  if (cause && typeof cause === 'object') {
    if (typeof cause.code === 'string' && /^[A-Z_]{1,32}$/.test(cause.code)) fields.code = cause.code;
    const first = Array.isArray(cause.rejectedErrors) ? cause.rejectedErrors[0] : undefined;
    const command = cause.command ?? first?.command;
    if (typeof command === 'string' && /^[A-Z][A-Z ]{0,19}$/.test(command)) fields.command = command;
    const responseCode = cause.responseCode ?? first?.responseCode;
    if (typeof responseCode === 'number' && Number.isInteger(responseCode)) fields.responseCode = responseCode;
  }
  return fields;
}

/**
 * Whether the SMTP server answered the mail with a refusal (a 4xx or 5xx reply): it was not taken.
 * Otherwise (a cut connection, a timeout after the message went) it may yet arrive, so a link in it
 * is kept.
 */
export function refusedOutright(error: unknown): boolean {
  return deliveryFailure(error).responseCode !== undefined;
}

export class HubMailer implements Mailer {
  readonly mode: MailMode;
  readonly #pending = new Set<Promise<unknown>>();
  #sending = 0;
  readonly #listeners: ((template: string, outcome: 'sent' | 'failed') => void)[] = [];

  constructor(
    private readonly renderer: MailRenderer,
    private readonly transport: MailTransport | undefined,
    private readonly logger: Logger,
  ) {
    this.mode = transport?.kind ?? 'off';
  }

  get available(): boolean {
    return this.transport !== undefined;
  }

  get sending(): number {
    return this.#sending;
  }

  observe(listener: (template: string, outcome: 'sent' | 'failed') => void): void {
    this.#listeners.push(listener);
  }

  #tell(template: string, outcome: 'sent' | 'failed'): void {
    for (const listener of this.#listeners) listener(template, outcome);
  }

  async send(request: MailRequest): Promise<RenderedMail> {
    if (!this.transport) throw new MailUnavailableError();
    const mail = this.renderer.render(request);
    this.#sending += 1;
    try {
      await this.transport.deliver(mail);
    } catch (error) {
      this.#tell(request.template, 'failed');
      throw error;
    } finally {
      this.#sending -= 1;
    }
    this.#tell(request.template, 'sent');
    this.logger.info('mail sent', { template: request.template, locale: mail.locale, via: this.mode });
    return mail;
  }

  sendInBackground(request: MailRequest, onFailure?: (error: unknown) => Promise<void>): void {
    const sending = this.send(request).catch(async (error: unknown) => {
      this.logger.error('mail not sent', { template: request.template, ...deliveryFailure(error) });
      await onFailure?.(error).catch(() => undefined);
    });
    this.#pending.add(sending);
    void sending.finally(() => this.#pending.delete(sending));
  }

  /** Waits for mail still being sent in the background, then closes the transport. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    await this.transport?.close();
  }
}
