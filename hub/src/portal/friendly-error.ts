import { HubError } from '../errors.js';
import { MailDeliveryError, MailUnavailableError } from '../mail/mail-message.js';
import { TooManyRecoveryRequestsError } from '../security/recovery-limits.js';

/** What a page shows for an error: a translation key with values, else the English message. */
export interface FriendlyError {
  message: string;
  key?: string;
  values?: Record<string, unknown>;
}

/** Errors of other modules the account and recovery pages show, by their translation key. */
const KEYS: [new (...args: never[]) => HubError, string][] = [
  [TooManyRecoveryRequestsError, 'recovery:forgot.tooMany'],
  [MailUnavailableError, 'account:errors.mailUnavailable'],
  [MailDeliveryError, 'account:errors.mailFailed'],
];

/**
 * The message of an error for the person, in their language where the error carries a
 * translation key (`messageKey` and `values`: AccountInputError, PasswordRejectedError).
 */
export function friendlyError(error: HubError): FriendlyError {
  const keyed = error as HubError & { messageKey?: unknown; values?: unknown };
  // A HubError thrown with msg('errors:…') (hub/src/errors.ts) carries its key as `i18n`.
  if (error.i18n) return { message: error.publicMessage, key: error.i18n.key, values: error.i18n.values ?? {} };
  if (typeof keyed.messageKey === 'string') {
    return { message: error.publicMessage, key: keyed.messageKey, values: (keyed.values as Record<string, unknown> | undefined) ?? {} };
  }
  const known = KEYS.find(([type]) => error instanceof type);
  return known ? { message: error.publicMessage, key: known[1], values: {} } : { message: error.publicMessage };
}
