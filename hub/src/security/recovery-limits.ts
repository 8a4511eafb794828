import { HubError } from '../errors.js';
import type { RedisClient } from '../store/redis.js';
import { addressKey } from './address-key.js';
import { WindowLimit } from './window-limit.js';

/** One address asked for password resets faster than any person does. */
export class TooManyRecoveryRequestsError extends HubError {
  override readonly name = 'TooManyRecoveryRequestsError';
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many requests came from your network. Please wait a while and try again.');
  }
}

export interface RecoveryLimitOptions {
  requestsPerIp: number;
  mailsPerAccount: number;
  windowSeconds: number;
  /** How long a reset link works (PASSWORD_RESET_TTL): the reset-mail window is never longer. */
  resetLinkSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Limits for what sends mail about an account (password reset, e-mail change):
 *
 * - requests per client address: past it, 429 (says nothing about any account);
 * - mails per account: past it, no more mail this window, with the same answer as before.
 *
 * The account limit caps what the owner's mailbox receives; it never locks the account or
 * refuses the owner anything but another identical mail, so nobody can turn it against them.
 * For reset mails that holds only if a mail refused always leaves a working link in the
 * mailbox: their window is therefore at most a link's lifetime, so the mails that used up the
 * window (whoever asked for them) still hold live links. Before, with one-hour windows and
 * 30-minute links, three anonymous requests at the top of each hour left the owner without a
 * working link, and unable to get one, for the second half of every hour (a review).
 */
export class RecoveryLimits {
  readonly #perIp: WindowLimit;
  readonly #resetMails: WindowLimit;
  readonly #changeMails: WindowLimit;

  constructor(options: RecoveryLimitOptions) {
    const { windowSeconds, keyPrefix, redis } = options;
    this.#perIp = new WindowLimit({ name: 'recovery-ip', points: options.requestsPerIp, windowSeconds, keyPrefix, redis });
    this.#resetMails = new WindowLimit({ name: 'recovery-reset-mail', points: options.mailsPerAccount, windowSeconds: Math.min(windowSeconds, options.resetLinkSeconds), keyPrefix, redis });
    this.#changeMails = new WindowLimit({ name: 'recovery-mail', points: options.mailsPerAccount, windowSeconds, keyPrefix, redis });
  }

  /** Counts one request from `ip`; throws TooManyRecoveryRequestsError past the limit. */
  async request(ip: string): Promise<void> {
    const wait = await this.#perIp.count(addressKey(ip));
    if (wait !== undefined) throw new TooManyRecoveryRequestsError(wait);
  }

  /**
   * Counts one mail about the account; false when it has had its share this window (send
   * nothing). Counted per purpose: anyone can ask for reset mails, so they must not use up the
   * signed-in owner's e-mail change (a review: three anonymous reset requests blocked it for an hour).
   */
  async mail(accountId: string, purpose: 'reset' | 'email-change'): Promise<boolean> {
    const limit = purpose === 'reset' ? this.#resetMails : this.#changeMails;
    return (await limit.count(purpose === 'reset' ? accountId : `${purpose}:${accountId}`)) === undefined;
  }

  /**
   * Gives back a mail counted by {@link mail} that the SMTP server did not take: the window's
   * share is what the mailbox received, and a reset refused for a full window must leave a
   * working link in the mailbox. Counted, mails an outage lost left the owner without a link,
   * and without a way to get one, once the mail server was back (a mail-fault review).
   */
  async mailNotSent(accountId: string, purpose: 'reset' | 'email-change'): Promise<void> {
    const limit = purpose === 'reset' ? this.#resetMails : this.#changeMails;
    await limit.refund(purpose === 'reset' ? accountId : `${purpose}:${accountId}`);
  }
}
