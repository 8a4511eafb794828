import { Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 parameters every authenticator app understands (Google Authenticator ignores
 * others): HMAC-SHA1, six digits, 30-second steps.
 */
export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** Steps accepted either side of now: one (±30 s) for clock drift and typing time. */
export const TOTP_WINDOW = 1;
/**
 * How long an accepted step must be remembered to refuse its replay, in seconds: a code of
 * step s verifies until the clock is past step s + WINDOW, at most (2 × WINDOW + 1) periods
 * after it was first accepted. One period more for slack.
 */
export const STEP_MEMORY_SECONDS = (2 * TOTP_WINDOW + 2) * TOTP_PARAMS.period;
const SECRET_BYTES = 20; // 160 bits, RFC 4226's recommended length for HMAC-SHA1

/** A new random TOTP secret, base32 (what authenticator apps take). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The `otpauth://totp/…` URI of the QR code: issuer and account label, the secret and parameters. */
export function totpUri(secret: string, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secret), ...TOTP_PARAMS }).toString();
}

/**
 * A code as typed, digits only: spaces allowed ("123 456"), and full-width digits (１２３４５６,
 * what a Chinese or Japanese input method in full-width mode types) read as the digits they are
 * (NFKC), as usernames and passwords are. Before, such a code was "not right" and counted
 * against the second step's throttle (a browser review).
 */
function typedTotp(input: string): string {
  return input.normalize('NFKC').replace(/\s+/g, '');
}

/** A code as typed: six digits ({@link typedTotp}). */
export function looksLikeTotp(input: string): boolean {
  return /^[0-9]{6}$/.test(typedTotp(input));
}

/** The time step of a valid code (so its replay can be refused), or undefined. */
export function totpStep(secret: string, input: string, timestamp = Date.now()): number | undefined {
  const token = typedTotp(input);
  if (!/^[0-9]{6}$/.test(token)) return undefined;
  const delta = TOTP.validate({ token, secret: Secret.fromBase32(secret), ...TOTP_PARAMS, timestamp, window: TOTP_WINDOW });
  return delta === null ? undefined : TOTP.counter({ period: TOTP_PARAMS.period, timestamp }) + delta;
}
