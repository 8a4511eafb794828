import { HubError } from '../errors.js';
import { addressKey } from '../security/address-key.js';
import { WindowLimit } from '../security/window-limit.js';
import type { RedisClient } from '../store/redis.js';

/** One address asked for more sign-ups or verification e-mails than a person does. */
export class TooManySignupsError extends HubError {
  override readonly name = 'TooManySignupsError';
  readonly messageKey = 'signup:errors.too-many';
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many sign-ups from your network. Please wait a while and try again.');
  }
}

export interface SignupLimitOptions {
  perIp: number;
  windowSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Sign-ups and verification e-mails per client address (`SIGNUP_MAX_PER_IP` per
 * `SIGNUP_WINDOW_SECONDS`), shared by every hub process through Redis: each one sends mail and
 * writes an account, so a flood from one address is cut off early.
 */
export class SignupLimit {
  readonly #limit: WindowLimit;

  constructor(options: SignupLimitOptions) {
    this.#limit = new WindowLimit({ name: 'signup', points: options.perIp, windowSeconds: options.windowSeconds, keyPrefix: options.keyPrefix, redis: options.redis });
  }

  /** Counts one request from `ip`: TooManySignupsError over the limit, StoreUnavailableError when the store fails. */
  async count(ip: string): Promise<void> {
    const wait = await this.#limit.count(addressKey(ip));
    if (wait !== undefined) throw new TooManySignupsError(wait);
  }
}
