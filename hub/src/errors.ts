/**
 * Errors of the hub's own services and portal. Protocol errors on OAuth endpoints are
 * oidc-provider's (RFC 6749 JSON); these are for the portal, the admin and the CLI.
 */
import { translator, type Translate } from './i18n/i18n.js';

/** A message by its translation key (`errors:…` in hub/locales), with its English text for the CLI and logs. */
export interface LocalizedMessage {
  key: string;
  values?: Record<string, unknown>;
  text: string;
}

/** The message `key` of hub/locales, to throw: `new ValidationError(msg('errors:…', { … }))`. */
export function msg(key: string, values?: Record<string, unknown>): LocalizedMessage {
  return { key, ...(values ? { values } : {}), text: translator('en')(key, values) };
}

export class HubError extends Error {
  /** HTTP status for a page that shows this error. */
  readonly status: number;
  /** A message safe to show to the person using the portal (English). */
  readonly publicMessage: string;
  /** The same message by translation key, where it has one: pages show it in the reader's language. */
  readonly i18n?: { key: string; values?: Record<string, unknown> };

  constructor(status: number, publicMessage: string | LocalizedMessage, options?: { cause?: unknown }) {
    const text = typeof publicMessage === 'string' ? publicMessage : publicMessage.text;
    super(text, options);
    this.status = status;
    this.publicMessage = text;
    if (typeof publicMessage !== 'string') this.i18n = { key: publicMessage.key, ...(publicMessage.values ? { values: publicMessage.values } : {}) };
  }
}

/**
 * What a page shows for `error` in the reader's language: its translation where it has a key
 * (`i18n`, or a `messageKey` with `values` as PasswordRejectedError has), else its English text.
 */
export function messageOf(error: HubError, t: Translate): string {
  const keyed = error as HubError & { messageKey?: unknown; values?: Record<string, unknown> };
  if (error.i18n) return t(error.i18n.key, error.i18n.values);
  if (typeof keyed.messageKey === 'string') return t(keyed.messageKey, keyed.values);
  return error.publicMessage;
}

export class ValidationError extends HubError {
  override readonly name = 'ValidationError';
  constructor(message: string | LocalizedMessage) {
    super(400, message);
  }
}

export class NotFoundError extends HubError {
  override readonly name = 'NotFoundError';
  constructor(message: string | LocalizedMessage = msg('errors:notFound')) {
    super(404, message);
  }
}

export class ConflictError extends HubError {
  override readonly name = 'ConflictError';
  constructor(message: string | LocalizedMessage) {
    super(409, message);
  }
}

export class TooManyAttemptsError extends HubError {
  override readonly name = 'TooManyAttemptsError';
  constructor(
    readonly retryAfterSeconds: number,
    /** Which limit: `application` when a UCenter application is over its own (LoginThrottle, `maxFailuresPerApp`), else the account's or the address's. */
    readonly limit?: 'application',
  ) {
    // The wait it says is the wait it sends (Retry-After): "a few minutes" read oddly beside 2 s (a review).
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, seconds < 90 ? msg('errors:tooManyAttemptsSeconds', { count: seconds }) : msg('errors:tooManyAttemptsMinutes', { count: Math.ceil(seconds / 60) }));
  }
}

/**
 * The hub has more password checks waiting than it lets queue (ARGON2_QUEUE_LIMIT): the request
 * is turned away at once, with when to try again, instead of waiting behind all of them.
 */
export class BusyError extends HubError {
  override readonly name = 'BusyError';
  constructor(readonly retryAfterSeconds: number) {
    super(503, msg('errors:busy'));
  }
}

export class ForbiddenError extends HubError {
  override readonly name = 'ForbiddenError';
  constructor(message: string | LocalizedMessage = msg('errors:forbidden')) {
    super(403, message);
  }
}
