import { HubError } from '../errors.js';

/**
 * A mistake the person can fix on an account or recovery page: the English message, and the
 * translation key (`namespace:path`) with its values that the page shows in the person's
 * language.
 */
export class AccountInputError extends HubError {
  override readonly name: string = 'AccountInputError';

  constructor(
    readonly messageKey: string,
    message: string,
    readonly values: Record<string, unknown> = {},
    status = 400,
  ) {
    super(status, message);
  }
}
