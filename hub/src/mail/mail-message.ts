import { HubError, msg } from '../errors.js';
import { LOCALES, type Locale } from '../i18n/i18n.js';

/** The languages mail is written in: the hub's (hub/src/i18n); anything else falls back to the first. */
export const MAIL_LOCALES = LOCALES;
export type MailLocale = Locale;

/** What a feature asks the mailer to send: a template name, never a ready-made body. */
export interface MailRequest {
  /** One address. */
  to: string;
  /** `templates/mail/<template>.html.njk` and `.txt.njk`; the subject is `mail:<template>.subject`. */
  template: string;
  /** A BCP 47 tag (`zh-CN`, `zh`, `en-GB`, …); unsupported ones fall back to English. */
  locale?: string;
  /** Values for the templates and the subject (`{{name}}`); HTML-escaped in the HTML part. */
  vars?: Record<string, unknown>;
}

/** A mail ready to go: what a transport delivers and the outbox keeps. */
export interface RenderedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  locale: MailLocale;
  template: string;
}

/** The best supported mail language for a tag: exact, then by language (`zh-TW` → `zh-CN`), else English. */
export function mailLocale(tag: string | undefined): MailLocale {
  if (!tag) return 'en';
  const lower = tag.toLowerCase();
  const exact = MAIL_LOCALES.find((locale) => locale.toLowerCase() === lower);
  if (exact) return exact;
  const language = lower.split(/[-_]/, 1)[0];
  return MAIL_LOCALES.find((locale) => locale.toLowerCase().split('-', 1)[0] === language) ?? 'en';
}

/**
 * No way to send mail: no SMTP_URL and no development outbox. Pages that need mail (sign-up,
 * password reset) say so instead of pretending a message went out.
 */
export class MailUnavailableError extends HubError {
  override readonly name = 'MailUnavailableError';
  constructor() {
    super(503, msg('errors:mailUnavailable'));
  }
}

/** The SMTP server refused or could not be reached. The message never carries the mail's content. */
export class MailDeliveryError extends HubError {
  override readonly name = 'MailDeliveryError';
  constructor(cause: unknown) {
    super(503, msg('errors:mailFailed'), { cause });
  }
}
