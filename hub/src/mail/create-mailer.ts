import type { HubConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { DevOutbox } from './dev-outbox.js';
import { MailRenderer, type Translate } from './mail-renderer.js';
import { translator } from '../i18n/i18n.js';
import { HubMailer } from './mailer.js';
import { SmtpTransport } from './smtp-transport.js';

/** The From: used when MAIL_FROM is unset: no-reply at the issuer's host name. */
export function defaultMailFrom(issuer: string): string {
  return `sso-hub <no-reply@${new URL(issuer).hostname}>`;
}

/** The mailer and, in development, its outbox: SMTP when `SMTP_URL` is set, else the outbox when `MAIL_DEV_OUTBOX`, else off. */
export function createMailer(config: HubConfig, store: Store, keys: Keys, logger: Logger, translate: Translate = (locale, key, values) => translator(locale)(key, values)): { mailer: HubMailer; outbox?: DevOutbox } {
  const renderer = new MailRenderer(translate, config.MAIL_FROM ?? defaultMailFrom(config.HUB_ISSUER), { issuer: config.HUB_ISSUER });
  if (config.SMTP_URL) return { mailer: new HubMailer(renderer, new SmtpTransport(config.SMTP_URL), logger) };
  if (config.MAIL_DEV_OUTBOX) {
    const outbox = new DevOutbox(store, keys);
    return { mailer: new HubMailer(renderer, outbox, logger), outbox };
  }
  return { mailer: new HubMailer(renderer, undefined, logger) };
}

/** The start-up line that says where mail goes (`main` logs it; never the SMTP password). */
export function describeMail(config: HubConfig): { level: 'info' | 'warn'; message: string; fields: Record<string, unknown> } {
  if (config.SMTP_URL) {
    const url = new URL(config.SMTP_URL);
    return { level: 'info', message: 'mail is sent over SMTP', fields: { smtp: `${url.protocol}//${url.host}` } };
  }
  if (config.MAIL_DEV_OUTBOX) {
    return { level: 'warn', message: `mail is not sent: SMTP_URL is not set, outgoing mail is kept in the development outbox at ${config.HUB_ISSUER}/dev/outbox (anyone who can reach the hub can read it; for the demo only)`, fields: {} };
  }
  return { level: 'warn', message: 'mail is not sent: SMTP_URL is not set and MAIL_DEV_OUTBOX is off, so sign-up, e-mail verification and password reset by e-mail are unavailable', fields: {} };
}
