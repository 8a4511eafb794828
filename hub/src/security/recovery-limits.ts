import { HubError } from '../errors.js';
import type { RedisClient } from '../store/redis.js';
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
 */
export class RecoveryLimits {
  readonly #perIp: WindowLimit;
  readonly #perAccount: WindowLimit;

  constructor(options: RecoveryLimitOptions) {
    const { windowSeconds, keyPrefix, redis } = options;
    this.#perIp = new WindowLimit({ name: 'recovery-ip', points: options.requestsPerIp, windowSeconds, keyPrefix, redis });
    this.#perAccount = new WindowLimit({ name: 'recovery-mail', points: options.mailsPerAccount, windowSeconds, keyPrefix, redis });
  }

  /** Counts one request from `ip`; throws TooManyRecoveryRequestsError past the limit. */
  async request(ip: string): Promise<void> {
    const wait = await this.#perIp.count(ip);
    if (wait !== undefined) throw new TooManyRecoveryRequestsError(wait);
  }

  /**
   * Counts one mail about the account; false when it has had its share this window (send
   * nothing). Counted per purpose: anyone can ask for reset mails, so they must not use up the
   * signed-in owner's e-mail change (a review: three anonymous reset requests blocked it for an hour).
   */
  async mail(accountId: string, purpose: 'reset' | 'email-change'): Promise<boolean> {
    return (await this.#perAccount.count(purpose === 'reset' ? accountId : `${purpose}:${accountId}`)) === undefined;
  }
}
