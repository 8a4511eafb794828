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
  override readonly name: string = 'InvalidToken';
  constructor(description: string, options?: { cause?: unknown; status?: number }) {
    super(options?.status ?? 401, 'invalid_token', description, options);
  }
}

/**
 * A hub token refused only for its times: its `iat` is ahead of this server's clock beyond the
 * allowed skew, or its `exp` is behind it. The hub signs a fresh token for every attempt, so
 * this means the two clocks are apart: a notice the hub should retry once they agree, not a
 * forged or replayed token (see `routes/userdelete.ts`).
 */
export class TokenTimesRefused extends InvalidToken {
  override readonly name = 'TokenTimesRefused';
}

/**
 * A hub token signed with a key this site does not know yet: the hub rotated its signing key,
 * and the kit read the hub's JWKS less than 30 s ago (jose refetches it for an unknown key at
 * most once per 30 s). A notice the hub should retry, as {@link TokenTimesRefused}; a forged
 * token with a made-up key id gets the same 503 and ends nothing.
 */
export class TokenKeyNotKnownYet extends InvalidToken {
  override readonly name = 'TokenKeyNotKnownYet';
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
  override readonly name: string = 'TemporarilyUnavailable';
  constructor(description: string, options?: { cause?: unknown }) {
    super(503, 'temporarily_unavailable', description, options);
  }
}

/**
 * The site is set up in a way the kit cannot work with (the router mounted after lazyLogin,
 * `secureCookies` on a request Express sees as plain http): a 500 "site misconfigured" with
 * a log line that says what to change, never the 503 "try again" of an outage.
 */
export class SiteMisconfigured extends KitError {
  override readonly name = 'SiteMisconfigured';
  constructor(description: string) {
    super(500, 'server_error', description);
  }
}

/**
 * A short, secret-free description of an error for logs. The kit's own errors carry a log
 * line they built themselves (which step, which URL, why); for anything else only names and
 * codes along the `cause` chain (`TypeError (ECONNREFUSED)`), never a message that could echo
 * a token or a secret.
 */
export function describeError(error: unknown): string {
  const logMessage = (error as { logMessage?: unknown })?.logMessage;
  if (typeof logMessage === 'string') return logMessage;
  if (error instanceof KitError) return `${error.name}: ${error.message}${error.cause ? ` (cause: ${describeError(error.cause)})` : ''}`;
  const isErrorLike = (value: unknown): value is { name: string; code?: unknown; cause?: unknown } =>
    typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
  if (!isErrorLike(error)) return typeof error;
  const parts: string[] = [];
  // Duck-typed: errors from another realm (fetch inside a vm context) are not `instanceof Error`.
  for (let current: unknown = error, depth = 0; isErrorLike(current) && depth < 4; depth += 1) {
    const code = current.code;
    parts.push(typeof code === 'string' ? `${current.name} (${code})` : current.name);
    current = current.cause;
  }
  return parts.join(' ← ');
}

/** The request needs a signed-in user, or the user's tokens are no longer honoured by the hub (401). */
export class LoginRequired extends KitError {
  override readonly name = 'LoginRequired';
  constructor(description: string, options?: { cause?: unknown }) {
    super(401, 'login_required', description, options);
  }
}
