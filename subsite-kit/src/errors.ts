/**
 * The kit's protocol errors, one class per RFC 6749 / RFC 6750 error code. A route throws
 * one of these and the kit's error handler (see `routes/error-handler.ts`) turns it into a
 * JSON answer. `expose` is false for server errors so their message never reaches a client.
 */
export class KitError extends Error {
  /** HTTP status of the answer. */
  readonly status: number;
  /** The RFC 6749 / 6750 `error` code. */
  readonly error: string;
  /** Whether `message` may be sent to the client as `error_description`. */
  readonly expose: boolean;

  constructor(status: number, error: string, description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.status = status;
    this.error = error;
    this.expose = status < 500;
  }
}

/** A required parameter is missing or malformed (400). */
export class InvalidRequest extends KitError {
  override readonly name = 'InvalidRequest';
  constructor(description: string, options?: { cause?: unknown }) {
    super(400, 'invalid_request', description, options);
  }
}

/**
 * A token or sync code failed verification: bad signature, wrong audience, expired,
 * replayed (401 by default, as RFC 6750; back-channel logout answers 400 as its spec asks).
 */
export class InvalidToken extends KitError {
  override readonly name = 'InvalidToken';
  constructor(description: string, options?: { cause?: unknown; status?: number }) {
    super(options?.status ?? 401, 'invalid_token', description, options);
  }
}

/** A state-changing browser request did not come from this site (403). */
export class Forbidden extends KitError {
  override readonly name = 'Forbidden';
  constructor(description: string) {
    super(403, 'forbidden', description);
  }
}

/** The kit's store (Redis) or the hub could not be reached; fail closed (503). */
export class TemporarilyUnavailable extends KitError {
  override readonly name = 'TemporarilyUnavailable';
  constructor(description: string, options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', description, options);
  }
}

/** A short, secret-free description of an unknown error for logs (name and code only). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.name} (${code})` : error.name;
  }
  return typeof error;
}
