/**
 * Errors of the hub's own services and portal. Protocol errors on OAuth endpoints are
 * oidc-provider's (RFC 6749 JSON); these are for the portal, the admin and the CLI.
 */
export class HubError extends Error {
  /** HTTP status for a page that shows this error. */
  readonly status: number;
  /** A message safe to show to the person using the portal. */
  readonly publicMessage: string;

  constructor(status: number, publicMessage: string, options?: { cause?: unknown }) {
    super(publicMessage, options);
    this.status = status;
    this.publicMessage = publicMessage;
  }
}

export class ValidationError extends HubError {
  override readonly name = 'ValidationError';
  constructor(message: string) {
    super(400, message);
  }
}

export class NotFoundError extends HubError {
  override readonly name = 'NotFoundError';
  constructor(message = 'Not found.') {
    super(404, message);
  }
}

export class ConflictError extends HubError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super(409, message);
  }
}

export class TooManyAttemptsError extends HubError {
  override readonly name = 'TooManyAttemptsError';
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many sign-in attempts. Please wait a few minutes and try again.');
  }
}

export class ForbiddenError extends HubError {
  override readonly name = 'ForbiddenError';
  constructor(message = 'You are not allowed to do that.') {
    super(403, message);
  }
}
